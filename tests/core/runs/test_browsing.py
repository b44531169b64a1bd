"""The history as people browse it: filters, pages newest first, search matches, the "best"
hint, a comparison's runs by name, and where several reports go."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.comparison import ComparisonSpec, Input, Variant
from playground.engine.models import default_model_path
from playground.runs.browsing import (
    HistoryQuery,
    best_summary,
    browse,
    comparison_item,
    format_scores,
    history_page,
    matches,
    model_label,
    report_paths,
    run_details,
    search,
)
from playground.sampling import SamplingParams
from playground.scores import Score
from playground.storage.store import Store
from tests.core.storage.records import make_result, make_spec, save_cells

SINGLES = 55


def save_single(store: Store, n: int, *, status: str = "done") -> int:
    """A Playground run of ``hand-template`` on /models/hand.gguf that said ``hand output n``."""
    variant = Variant("hand-template", "hand-template", "Say {{ word }}", SamplingParams(),
                      "/models/hand.gguf")
    spec = ComparisonSpec(f"Playground: hand-template {n}", (variant,),
                          (Input("input", {"word": str(n)}),), metrics=(), kind="run")
    cid = store.save_comparison(spec)
    store.save_run(comparison_id=cid, variant_id=store.variant_ids(cid)[variant.name],
                   input_id=store.input_ids(cid)["input"], sample=0, seed=1, run_key=f"key-{n}",
                   result=make_result(f"hand output {n}", f"hand prompt {n}"), status="ok",
                   error=None, scores=[Score("bleu", float(n), "bleu|13a")])
    store.set_status(cid, status)
    return cid


def save_scored(store: Store, scores: dict[str, list[float]]) -> int:
    """A comparison whose variant ``v`` has one ok run per score in ``scores[v]`` (ROUGE-1)."""
    params = SamplingParams()
    spec = ComparisonSpec(
        "scored",
        tuple(Variant(v, "t", "{{ x }}", params, "smol") for v in scores),
        tuple(Input(f"i{n}", {"x": str(n)}) for n in range(max(map(len, scores.values())))),
        metrics=("rouge1",),
    )
    cid = store.save_comparison(spec)
    variant_ids, input_ids = store.variant_ids(cid), store.input_ids(cid)
    for variant, values in scores.items():
        for n, value in enumerate(values):
            store.save_run(comparison_id=cid, variant_id=variant_ids[variant],
                           input_id=input_ids[f"i{n}"], sample=0, seed=1,
                           run_key=f"{variant}-{n}", result=make_result(f"{variant} {n}"),
                           status="ok", error=None,
                           scores=[Score("rouge1_f", value, "rouge1|v1")])
    return cid


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, list[int], list[int], int]:
    """55 Playground runs (two of them failed), then a 2 × 2 comparison, the newest."""
    path = tmp_path / "playground.db"
    with Store(path) as store:
        singles = [save_single(store, n, status="failed" if n in (3, 4) else "done")
                   for n in range(SINGLES)]
        multi, _ = save_cells(store, make_spec())
        store.set_status(multi, "done")
    return path, singles, [singles[3], singles[4]], multi


def test_filters_by_kind_status_and_a_model_or_template_name(
    history: tuple[Path, list[int], list[int], int],
) -> None:
    path, singles, failed, multi = history
    with Store(path) as store:
        single, comparison, broken = (store.comparison(singles[0]), store.comparison(multi),
                                      store.comparison(failed[0]))
    assert matches(single, HistoryQuery(kind="run"))
    assert not matches(comparison, HistoryQuery(kind="run"))
    assert matches(comparison, HistoryQuery(kind="comparison"))
    assert not matches(single, HistoryQuery(kind="comparison"))
    assert matches(broken, HistoryQuery(status="failed"))
    assert not matches(single, HistoryQuery(status="failed"))
    # The model, a template and the comparison's name all count, in any case.
    assert matches(single, HistoryQuery(contains="/models/HAND"))
    assert matches(comparison, HistoryQuery(contains="adhoc"))
    assert matches(comparison, HistoryQuery(contains="SUMMARIES"))
    assert not matches(comparison, HistoryQuery(contains="hand"))
    assert model_label("/models/hand.gguf") == "hand"
    assert model_label("remote:office") == "remote:office"
    # No model chosen (a CLI comparison without --model) ran on the default model: its name.
    default = default_model_path()
    assert default is not None
    assert model_label("") == model_label(str(default)) != "default model"


def test_browsing_reads_pages_newest_first_until_enough_pass_the_filters(
    history: tuple[Path, list[int], list[int], int],
) -> None:
    path, singles, failed, multi = history
    with Store(path) as store:
        first = browse(store, HistoryQuery(want=50))
        second = browse(store, HistoryQuery(want=100))
        only_comparisons = browse(store, HistoryQuery(kind="comparison", want=50))
        # The one comparison is the newest row: the runs behind it fill pages of their own.
        runs = browse(store, HistoryQuery(kind="run", want=50))
        broken = history_page(store, HistoryQuery(status="failed"))
    assert [i.comparison.id for i in first.items] == [multi, *reversed(singles)][:50]
    assert first.more
    assert [i.comparison.id for i in second.items] == [multi, *reversed(singles)]
    assert not second.more
    assert [i.comparison.id for i in only_comparisons.items] == [multi]
    assert not only_comparisons.more
    assert [i.comparison.id for i in runs.items] == list(reversed(singles))[:50]
    assert runs.more and all(i.kind == "run" for i in runs.items)
    assert sorted(i.comparison.id for i in broken.items) == sorted(failed)


def test_an_item_carries_its_run_models_templates_and_best_score(
    history: tuple[Path, list[int], list[int], int],
) -> None:
    path, singles, _, multi = history
    with Store(path) as store:
        single = comparison_item(store, store.comparison(singles[7]))
        comparison = comparison_item(store, store.comparison(multi))
    assert single.single and single.kind == "run" and not single.is_match
    assert single.run is not None and single.run.output == "hand output 7"
    assert single.models == ("/models/hand.gguf",)
    assert single.templates == ("hand-template",)
    assert single.best == "BLEU 0.070"  # sacreBLEU's 7.0, on the 0–1 of every table
    assert comparison.kind == "comparison" and comparison.run is None
    assert comparison.models == ("smol",)
    assert comparison.templates == ("summary", "adhoc")
    # Both variants' ok runs score 0.75 on ROUGE-1: a tie, and BLEU (never scored) is not it.
    assert comparison.best == "plain and styled tie: ROUGE-1 0.750"


def test_search_finds_runs_under_the_filters_and_pages_further(
    history: tuple[Path, list[int], list[int], int],
) -> None:
    path, singles, _, multi = history
    with Store(path) as store:
        found = search(store, HistoryQuery(text="says", want=50))
        fewer = search(store, HistoryQuery(text="says", want=2))
        runs_only = search(store, HistoryQuery(text="says", kind="run"))
        hand = history_page(store, HistoryQuery(text="hand output 17"))
        # Every hand run matches "hand": a search goes on past its first limit for a page.
        many = search(store, HistoryQuery(text="hand", want=54))
    assert {i.comparison.id for i in found.items} == {multi}
    assert sorted((i.match_variant, i.run.output) for i in found.items if i.run) == [
        ("plain", "plain says row-1"), ("plain", "plain says row-2"),
        ("styled", "styled says row-1")]
    assert all(i.kind == "run in comparison" and i.is_match for i in found.items)
    assert not found.more
    assert len(fewer.items) == 2 and fewer.more
    assert runs_only.items == [] and not runs_only.more
    assert runs_only.elsewhere == 3 and found.elsewhere == 0  # the comparison's runs say it
    assert [i.comparison.id for i in hand.items] == [singles[17]]
    assert hand.items[0].kind == "run" and hand.items[0].best == "bleu 17"
    assert len(many.items) == 54 and many.more


def test_the_best_variant_on_the_main_metric(tmp_path: Path) -> None:
    with Store(tmp_path / "playground.db") as store:
        clear = save_scored(store, {"short": [0.2, 0.4], "long": [0.5, 0.7]})
        alone = save_scored(store, {"only": [0.5]})
        names = {cid: {v.id: v.name for v in store.variants(cid)} for cid in (clear, alone)}
        clear_runs, alone_runs = store.runs(clear), store.runs(alone)
    assert best_summary(clear_runs, names[clear]) == "long: ROUGE-1 0.600"
    assert best_summary(alone_runs, names[alone]) == "ROUGE-1 0.500"
    assert best_summary([], {}) == ""
    assert format_scores(clear_runs[0]) == "rouge1_f 0.2"


def test_a_comparisons_runs_by_variant_and_input_name(
    history: tuple[Path, list[int], list[int], int],
) -> None:
    path, _, _, multi = history
    with Store(path) as store:
        details = run_details(store, multi)
    assert sorted((d.variant, d.input, d.run.status) for d in details) == [
        ("plain", "row-1", "ok"), ("plain", "row-2", "ok"),
        ("styled", "row-1", "ok"), ("styled", "row-2", "failed")]


def test_one_report_per_comparison_named_after_the_chosen_file(
    history: tuple[Path, list[int], list[int], int], tmp_path: Path
) -> None:
    path, singles, _, multi = history
    with Store(path) as store:
        run, comparison = store.comparison(singles[0]), store.comparison(multi)
    assert (run.kind, run.number, comparison.kind, comparison.number) == ("run", 1,
                                                                          "comparison", 1)
    assert report_paths(tmp_path / "report.csv", "csv", [comparison]) == {
        multi: tmp_path / "report.csv"}
    assert report_paths(tmp_path / "report", "md", [run]) == {singles[0]: tmp_path / "report.md"}
    # Several: named by the numbers people see, a run's apart from a comparison's.
    assert report_paths(tmp_path / "both", "md", [comparison, run]) == {
        multi: tmp_path / "both-1.md", singles[0]: tmp_path / "both-run1.md"}
    # The file's own extension stays, whatever the format.
    assert report_paths(tmp_path / "r.markdown", "md", [comparison, run]) == {
        multi: tmp_path / "r-1.markdown", singles[0]: tmp_path / "r-run1.markdown"}
