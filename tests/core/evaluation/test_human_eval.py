"""Likert ratings and blind pairwise judgements: storage, validation, report sections, export."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlite_utils import Database

from playground.cli import main
from playground.comparison import ComparisonSpec, Input, Variant
from playground.evaluation.exports import export
from playground.evaluation.preferences import read_preferences
from playground.evaluation.report import ComparisonReport, build_report
from playground.events import Result
from playground.ratings import DEFAULT_CRITERIA
from playground.runs.history import comparison_judgements, report_runs
from playground.sampling import SamplingParams
from playground.scores import Score
from playground.storage.migrations import migrations
from playground.storage.store import StorageError, Store

VARIANTS = ("X", "Y", "Z")
INPUTS = ("q1", "q2", "q3", "q4")
#: Per variant, a metric that orders the variants as people will (X > Y > Z) and one that
#: orders them backwards.
METRICS = {"X": (0.9, 0.1), "Y": (0.6, 0.4), "Z": (0.3, 0.7)}


def result(text: str, prompt: str) -> Result:
    return Result(
        text=text, finish_reason="stop", prompt_tokens=5, completion_tokens=3, ttft_s=0.01,
        tokens_per_second=50.0, total_s=0.1, rendered_prompt=prompt,
        params=SamplingParams(temperature=0.0, seed=1),
        model={"name": "SmolLM2-135M", "path": "/models/smol.gguf", "file_size": 1},
    )


def make_spec(samples: int = 1) -> ComparisonSpec:
    params = SamplingParams(temperature=0.0, max_tokens=16)
    return ComparisonSpec(
        name="human",
        variants=tuple(
            Variant(v, "adhoc", f"{v}: {{{{ text }}}}", params, "smol") for v in VARIANTS
        ),
        inputs=tuple(Input(i, {"text": f"question {i}?"}, (f"answer {i}",)) for i in INPUTS),
        samples=samples,
        metrics=("bleu",),
    )


@dataclass
class Saved:
    comparison_id: int
    #: (variant, input, sample) → run id
    runs: dict[tuple[str, str, int], int]


def save(store: Store, samples: int = 1) -> Saved:
    spec = make_spec(samples)
    cid = store.save_comparison(spec)
    variant_ids = store.variant_ids(cid)
    input_ids = store.input_ids(cid)
    runs: dict[tuple[str, str, int], int] = {}
    for v in VARIANTS:
        agree, disagree = METRICS[v]
        for i in INPUTS:
            for k in range(samples):
                runs[v, i, k] = store.save_run(
                    comparison_id=cid, variant_id=variant_ids[v], input_id=input_ids[i],
                    sample=k, seed=k, run_key=f"{v}-{i}-{k}",
                    result=result(f"{v} says {i} #{k}", f"{v}: question {i}?"), status="ok",
                    error=None,
                    scores=[Score("bleu", agree * 100, "bleu|t"),
                            Score("chrf", disagree * 100, "chrf|t")],
                )
    return Saved(cid, runs)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "playground.db") as opened:
        yield opened


def count(path: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def judge_transitive(store: Store, saved: Saved) -> None:
    """X beats Y and Z, Y beats Z, on every input; sides alternate so position means nothing."""
    for n, i in enumerate(INPUTS):
        for better, worse in (("X", "Y"), ("Y", "Z"), ("X", "Z")):
            a, b = saved.runs[better, i, 0], saved.runs[worse, i, 0]
            if n % 2:
                store.save_judgement(saved.comparison_id, b, a, "b")
            else:
                store.save_judgement(saved.comparison_id, a, b, "a")


# -- schema ---------------------------------------------------------------------------------------


def test_upgrade_from_the_second_schema_keeps_data_and_adds_human_evaluation(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m003_human_evaluation")
    db.execute(
        "INSERT INTO comparisons (id, name, created_at, status, samples, metrics_json, "
        "language, spec_json) VALUES (1, 'old', '2024-01-01T00:00:00+00:00', 'done', 1, "
        "'[\"bleu\"]', NULL, '{}')"
    )
    db.execute("INSERT INTO templates VALUES ('h', 't', NULL, NULL, NULL, 'src')")
    for vid, name in ((1, "left"), (2, "right")):
        db.execute(
            "INSERT INTO variants VALUES (?, 1, ?, ?, 'h', 't', '{}', 'smol', '{}', 0, ?)",
            [vid, vid, name, name],
        )
    db.execute("INSERT INTO inputs VALUES (1, 1, 0, 'q1', '{\"text\": \"why?\"}', '[]')")
    for rid in (1, 2):
        db.execute(
            "INSERT INTO runs (id, comparison_id, variant_id, input_id, sample, seed, run_key, "
            "status, output, rendered_prompt, created_at) VALUES (?, 1, ?, 1, 0, 5, ?, 'ok', ?, "
            "'p', '2024-01-01T00:00:01+00:00')",
            [rid, rid, f"k{rid}", f"old output {rid}"],
        )
    db.execute("INSERT INTO ratings VALUES (1, 1, 4, 'kept', '2024-01-02T00:00:00+00:00')")
    db.close()

    with Store(path) as store:
        assert any("old.db.bak-v2" in notice for notice in store.notices)
        assert store.run(1).rating is not None and store.run(1).rating.note == "kept"  # type: ignore[union-attr]
        assert store.criteria(1) == DEFAULT_CRITERIA
        assert store.criterion_ratings(1) == []
        store.rate_criterion(1, "fluency", 4)
        store.save_judgement(1, 2, 1, "a")
        (judged,) = comparison_judgements(store, 1)
        assert (judged.variant_a, judged.output_a, judged.prompt) == ("right", "old output 2",
                                                                       "why?")
    with contextlib.closing(sqlite3.connect(tmp_path / "old.db.bak-v2")) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "judgements" not in tables and "runs" in tables


def test_deleting_a_comparison_removes_its_ratings_and_judgements(store: Store) -> None:
    saved = save(store)
    kept = save(store)
    store.rate_criterion(saved.runs["X", "q1", 0], "coherence", 5, "clear")
    store.rate_criterion(kept.runs["X", "q1", 0], "coherence", 2)
    judge_transitive(store, saved)
    store.save_judgement(kept.comparison_id, kept.runs["X", "q1", 0], kept.runs["Y", "q1", 0],
                         "tie")
    assert count(store.path, "judgements") == 13
    assert store.delete_comparison(saved.comparison_id)
    assert count(store.path, "judgements") == 1
    assert count(store.path, "criterion_ratings") == 1
    assert [r.score for r in store.criterion_ratings(kept.comparison_id)] == [2]


# -- criteria -------------------------------------------------------------------------------------


def test_criteria_default_edit_rename_and_remove(store: Store) -> None:
    saved = save(store)
    cid, run = saved.comparison_id, saved.runs["X", "q1", 0]
    assert store.criteria(cid) == DEFAULT_CRITERIA
    store.rate_criterion(run, "fluency", 4)
    store.rate_criterion(run, "factuality", 2)
    assert store.set_criteria(cid, [" clarity ", "fluency", "factuality"],
                              renamed={"coherence": "clarity"}) == (
        "clarity", "fluency", "factuality")
    store.set_criteria(cid, ["clarity", "smoothness"], renamed={"fluency": "smoothness"})
    # the renamed criterion keeps its rating; the removed one is hidden, not lost
    assert [(r.criterion, r.score) for r in store.criterion_ratings(cid)] == [("smoothness", 4)]
    store.set_criteria(cid, ["clarity", "smoothness", "factuality"])
    assert [(r.criterion, r.score) for r in store.criterion_ratings(cid)] == [
        ("smoothness", 4), ("factuality", 2)]
    store.set_criteria(cid, DEFAULT_CRITERIA)
    with contextlib.closing(sqlite3.connect(store.path)) as conn:
        assert conn.execute("SELECT criteria_json FROM comparisons WHERE id = ?",
                            [cid]).fetchone() == (None,)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ([], "a comparison needs 1 to 12 criteria, got 0"),
        ([f"c{n}" for n in range(13)], "a comparison needs 1 to 12 criteria, got 13"),
        (["clarity", " "], "a criterion name cannot be empty"),
        (["Clarity", "clarity"], "the criterion 'clarity' is listed twice"),
        (["two\nlines"], "a criterion name must be one line of at most 40 characters, got "
                         "'two\\nlines'"),
        ("clarity", "criteria must be a list of names, not one string"),
    ],
)
def test_set_criteria_refuses_bad_lists(store: Store, names: list[str], message: str) -> None:
    saved = save(store)
    with pytest.raises(StorageError) as info:
        store.set_criteria(saved.comparison_id, names)
    assert str(info.value) == message
    assert store.criteria(saved.comparison_id) == DEFAULT_CRITERIA


def test_set_criteria_of_a_missing_comparison(store: Store) -> None:
    with pytest.raises(StorageError, match="there is no comparison with id 99"):
        store.set_criteria(99, ["clarity"])


# -- validation -----------------------------------------------------------------------------------


def test_bad_ratings_are_refused_and_write_nothing(store: Store) -> None:
    saved = save(store)
    run = saved.runs["X", "q1", 0]
    cases = [
        (lambda: store.rate_criterion(run, "fluency", 6),
         "a rating must be a whole number from 1 to 5, got 6"),
        (lambda: store.rate_criterion(run, "fluency", 0),
         "a rating must be a whole number from 1 to 5, got 0"),
        (lambda: store.rate_criterion(run, "fluency", True),
         "a rating must be a whole number from 1 to 5, got True"),
        (lambda: store.rate_criterion(run, "charm", 3),
         f"'charm' is not a criterion of comparison {saved.comparison_id}; its criteria are "
         "coherence, fluency, relevance, factuality"),
        (lambda: store.rate_criterion(4040, "fluency", 3), "there is no run with id 4040"),
    ]
    for call, message in cases:
        with pytest.raises(StorageError) as info:
            call()
        assert str(info.value) == message
    assert count(store.path, "criterion_ratings") == 0


def test_bad_judgements_are_refused_and_write_nothing(store: Store, tmp_path: Path) -> None:
    saved = save(store)
    other = save(store)
    cid, runs = saved.comparison_id, saved.runs
    with Store(tmp_path / "playground.db") as second:
        failed = second.save_run(
            comparison_id=cid, variant_id=second.variant_ids(cid)["X"],
            input_id=second.input_ids(cid)["q1"], sample=1, seed=1, run_key="failed",
            result=None, status="failed", error="boom",
        )
    cases = [
        (runs["X", "q1", 0], runs["Y", "q2", 0], "a",
         f"runs {runs['X', 'q1', 0]} and {runs['Y', 'q2', 0]} answer different inputs (q1 and "
         "q2); a judgement compares two outputs of the same input"),
        (runs["X", "q1", 0], runs["X", "q1", 0], "a",
         f"a judgement compares two different runs, got run {runs['X', 'q1', 0]} twice"),
        (runs["X", "q1", 0], failed, "b", f"run {failed} has no output to judge (it failed)"),
        (runs["X", "q1", 0], other.runs["Y", "q1", 0], "a",
         f"run {other.runs['Y', 'q1', 0]} is not part of comparison {cid}"),
        (runs["X", "q1", 0], runs["Y", "q1", 0], "left",
         "a judgement is 'a', 'b' or 'tie', got 'left'"),
        (runs["X", "q1", 0], 9999, "a", "there is no run with id 9999"),
    ]
    for run_a, run_b, choice, message in cases:
        with pytest.raises(StorageError) as info:
            store.save_judgement(cid, run_a, run_b, choice)
        assert str(info.value) == message
    assert count(store.path, "judgements") == 0


def test_the_same_variant_twice_is_refused(store: Store) -> None:
    saved = save(store, samples=2)
    a, b = saved.runs["X", "q1", 0], saved.runs["X", "q1", 1]
    with pytest.raises(StorageError) as info:
        store.save_judgement(saved.comparison_id, a, b, "a")
    assert str(info.value) == (f"runs {a} and {b} come from the same variant (X); a judgement "
                               "compares two different variants")
    assert store.judgements(saved.comparison_id) == []


def test_undo_removes_the_newest_judgement_only(store: Store) -> None:
    saved = save(store)
    cid = saved.comparison_id
    assert store.undo_last_judgement(cid) is None
    first = store.save_judgement(cid, saved.runs["X", "q1", 0], saved.runs["Y", "q1", 0], "a")
    second = store.save_judgement(cid, saved.runs["Y", "q2", 0], saved.runs["Z", "q2", 0], "tie")
    assert store.undo_last_judgement(cid) == second
    assert store.judgements(cid) == [first]


# -- the report -----------------------------------------------------------------------------------


def human_report(store: Store, cid: int) -> ComparisonReport:
    row = store.comparison(cid)
    return build_report(row.name, report_runs(store, cid), criteria=store.criteria(cid),
                        judgements=comparison_judgements(store, cid))


def test_crafted_judgements_give_the_known_ranking_and_agreement(store: Store) -> None:
    saved = save(store)
    judge_transitive(store, saved)
    store.save_judgement(saved.comparison_id, saved.runs["X", "q2", 0],
                         saved.runs["Z", "q2", 0], "tie")
    report = human_report(store, saved.comparison_id)
    human = report.human
    assert human is not None
    x, y, z = human.ranking
    assert [r.variant for r in human.ranking] == ["X", "Y", "Z"]
    assert x.strength > y.strength > z.strength
    assert x.low >= y.low >= z.low and x.high >= y.high >= z.high
    for r in human.ranking:
        assert r.low <= r.strength <= r.high
    assert (x.wins, x.losses, x.ties) == (8, 0, 1)
    assert (z.wins, z.losses, z.ties) == (0, 8, 1)
    assert (human.judgements, human.ties) == (13, 1)
    # bleu orders the variants as the judges did, chrf backwards
    assert human.agreement == {"bleu": pytest.approx(1.0), "chrf": pytest.approx(-1.0)}
    assert not human.rated

    markdown = export(report, "md")
    assert "## Human evaluation" in markdown
    assert "### Blind pairwise preference (13 judgements, 1 tie)" in markdown
    assert "| 1 | X | " in markdown and "| 3 | Z | " in markdown
    assert "| bleu | +1.00 |" in markdown and "| chrf | -1.00 |" in markdown
    assert markdown.index("## Human evaluation") < markdown.index("## Outputs")
    page = export(report, "html")
    assert "<h2>Human evaluation</h2>" in page and "<td>X</td>" in page


def test_likert_means_per_variant_and_criterion_with_inputs_as_the_unit(store: Store) -> None:
    saved = save(store, samples=2)
    cid, runs = saved.comparison_id, saved.runs
    store.set_criteria(cid, ["clarity", "fluency"])
    # X on clarity: q1 samples 5 and 3 (input mean 4), q2 sample 0 rated 2 -> mean (4 + 2) / 2
    store.rate_criterion(runs["X", "q1", 0], "clarity", 5)
    store.rate_criterion(runs["X", "q1", 1], "clarity", 3)
    store.rate_criterion(runs["X", "q2", 0], "clarity", 2, note="vague")
    store.rate_criterion(runs["X", "q2", 0], "fluency", 4)
    store.rate_criterion(runs["Y", "q3", 1], "fluency", 1)
    report = human_report(store, cid)
    human = report.human
    assert human is not None and human.rated
    assert human.criteria == ("clarity", "fluency")
    clarity_x = human.likert["X"]["clarity"]
    assert clarity_x.mean == pytest.approx(3.0) and clarity_x.n == 2
    assert clarity_x.low <= 3.0 <= clarity_x.high
    assert human.likert["X"]["fluency"].mean == pytest.approx(4.0)
    assert human.likert["Y"]["clarity"] is None
    assert human.likert["Y"]["fluency"].mean == pytest.approx(1.0)
    assert human.likert["Z"] == {"clarity": None, "fluency": None}
    assert human.rated_runs == {"X": 3, "Y": 1, "Z": 0}
    assert human.ranking == ()
    assert [r.note for r in store.criterion_ratings(cid) if r.note] == ["vague"]

    markdown = export(report, "md")
    assert "| variant | rated runs | clarity | fluency |" in markdown
    assert "| X | 3 | 3.000 [" in markdown
    assert "| Z | 0 | N/A | N/A |" in markdown
    assert "Blind pairwise" not in markdown
    rows = list(csv.DictReader(io.StringIO(export(report, "csv"))))
    by_id = {int(r["run_id"]): r for r in rows}
    assert by_id[runs["X", "q2", 0]]["likert_clarity"] == "2"
    assert by_id[runs["X", "q2", 0]]["likert_fluency"] == "4"
    assert by_id[runs["Z", "q1", 0]]["likert_clarity"] == ""
    records = [json.loads(line) for line in export(report, "jsonl").splitlines()]
    by_run = {r["run_id"]: r for r in records}
    assert by_run[runs["X", "q1", 1]]["likert"] == {"clarity": 3}
    assert by_run[runs["Z", "q1", 0]]["likert"] == {}


def test_a_report_without_human_evaluation_has_no_such_section(store: Store) -> None:
    saved = save(store)
    report = human_report(store, saved.comparison_id)
    assert report.human is None
    assert "Human evaluation" not in export(report, "md")
    assert "likert" not in export(report, "csv")


# -- the command line -----------------------------------------------------------------------------


def test_export_preferences_round_trip(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = save(store)
    cid, runs = saved.comparison_id, saved.runs
    store.save_judgement(cid, runs["Y", "q1", 0], runs["X", "q1", 0], "b")
    store.save_judgement(cid, runs["X", "q2", 0], runs["Z", "q2", 0], "a")
    store.save_judgement(cid, runs["Y", "q3", 0], runs["Z", "q3", 0], "tie")
    out = tmp_path / "prefs.jsonl"
    assert main(["judgements", "export", str(cid), str(out), "--db", str(store.path)]) == 0
    assert capsys.readouterr().err == f"wrote 2 preference pairs to {out} (1 tie left out)\n"
    records = read_preferences(out.read_text(encoding="utf-8"))
    assert records == [
        {"prompt": "question q1?", "chosen": "X says q1 #0", "rejected": "Y says q1 #0",
         "chosen_variant": "X", "rejected_variant": "Y", "chosen_model": "SmolLM2-135M",
         "rejected_model": "SmolLM2-135M", "input_id": "q1"},
        {"prompt": "question q2?", "chosen": "X says q2 #0", "rejected": "Z says q2 #0",
         "chosen_variant": "X", "rejected_variant": "Z", "chosen_model": "SmolLM2-135M",
         "rejected_model": "SmolLM2-135M", "input_id": "q2"},
    ]

    assert main(["show", str(cid), "--db", str(store.path)]) == 0
    shown = capsys.readouterr().out
    assert "### Blind pairwise preference (3 judgements, 1 tie)" in shown
    assert main(["export", str(cid), "-f", "md", "--db", str(store.path)]) == 0
    assert "## Human evaluation" in capsys.readouterr().out


def test_export_without_judgements_says_so(
    store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = save(store)
    out = tmp_path / "none.jsonl"
    code = main(["judgements", "export", str(saved.comparison_id), str(out), "--db",
                 str(store.path)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"playground: error: comparison {store.comparison(saved.comparison_id).label} has no "
        "judgements yet; judge its "
        "outputs in the Evaluate tab first\n")
    assert not out.exists()
    assert main(["judgements", "export", "77", str(out), "--db", str(store.path)]) == 2
    assert "there is no comparison #77" in capsys.readouterr().err
