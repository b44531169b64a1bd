"""``history``, ``show`` and ``export`` name comparisons and Playground runs by the numbers the
window shows: comparisons #1, #2…, Playground runs Run 1, Run 2…, each kind counted apart."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from playground.cli import main
from playground.comparison import ComparisonSpec, Input, Variant
from playground.engine.models import default_model_path, model_display_name
from playground.sampling import SamplingParams
from playground.storage.store import Store
from tests.core.storage.records import make_result, make_spec, save_cells


def _playground_run(store: Store, word: str) -> int:
    variant = Variant("t", "t", "Say {{ word }}", SamplingParams(), "/models/hand.gguf")
    cid = store.save_comparison(ComparisonSpec(f"Playground: t {word}", (variant,),
                                               (Input("input", {"word": word}),), metrics=(),
                                               kind="run"))
    store.save_run(comparison_id=cid, variant_id=store.variant_ids(cid)["t"],
                   input_id=store.input_ids(cid)["input"], sample=0, seed=1,
                   run_key=f"k-{word}", result=make_result(f"playground says {word}"),
                   status="ok", error=None)
    return cid


@pytest.fixture
def db(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """Two Playground runs saved first, then comparison #1 no model given (no model
    given, as ``compare`` without ``--model`` saves it) with two samples, then #2."""
    path = tmp_path / "history.db"
    with Store(path) as store:
        ids = {"run 1": _playground_run(store, "zebra"), "run 2": _playground_run(store, "yak")}
        spec = make_spec("no model given")
        spec = replace(spec, variants=tuple(replace(v, model="") for v in spec.variants),
                       samples=2)
        ids["#1"], _ = save_cells(store, spec)
        ids["#2"], _ = save_cells(store, make_spec("on smol"))
    return path, ids


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_history_lists_comparisons_and_runs_apart_by_their_numbers(
    db: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = db
    code, out, _ = _cli(capsys, "history", "--db", str(path))
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["#2", "#1"]
    assert "Playground" not in out
    default = default_model_path()
    assert default is not None
    # No model given means the default model, named as every list names it.
    assert f"({model_display_name(default)})" in lines[1]
    assert "default model" not in out
    assert "(smol)" in lines[0]
    assert re.search(r"\btoday \d\d:\d\d\b", lines[0]), lines[0]
    assert "8/8 runs" in lines[1] and "4/4 runs" in lines[0]

    code, out, _ = _cli(capsys, "history", "--runs", "--db", str(path))
    assert code == 0
    assert [line.split()[:2] for line in out.splitlines()] == [["Run", "2"], ["Run", "1"]]
    assert "1/1 run " in out  # one run, not "1 runs"

    listed = json.loads(_cli(capsys, "history", "--json", "--db", str(path))[1])
    assert [(c["kind"], c["number"], c["id"]) for c in listed] == [
        ("comparison", 2, ids["#2"]), ("comparison", 1, ids["#1"])]


@pytest.mark.parametrize(("number", "key", "title"), [
    (["1"], "#1", "#1: no model given"),
    (["#2"], "#2", "#2: on smol"),
    (["r1"], "run 1", "Run 1: Playground: t zebra"),
    (["run", "2"], "run 2", "Run 2: Playground: t yak"),
])
def test_show_and_export_take_the_number_people_see(
    db: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str],
    number: list[str], key: str, title: str,
) -> None:
    path, ids = db
    code, out, err = _cli(capsys, "show", *number, "--db", str(path))
    assert code == 0, err
    assert out.startswith(title)
    code, out, err = _cli(capsys, "export", *number, "-f", "jsonl", "--db", str(path))
    assert code == 0, err
    with Store(path) as store:
        expected = sorted(r.id for r in store.runs(ids[key]))
    # The file keeps its fields: run ids, 0-based samples.
    records = [json.loads(line) for line in out.splitlines()]
    assert sorted(r["run_id"] for r in records) == expected
    assert {r["sample"] for r in records} <= {0, 1}


def test_a_number_that_is_not_there_or_not_a_number_says_so(
    db: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = db
    code, _, err = _cli(capsys, "show", "#3", "--db", str(path))
    assert code == 2 and "there is no comparison #3" in err
    code, _, err = _cli(capsys, "export", "r7", "--db", str(path))
    assert code == 2 and "there is no Playground run 7" in err
    code, _, err = _cli(capsys, "show", "latest", "--db", str(path))
    assert code == 2 and "use 3 (or #3) for comparison #3, r3 (or 'run 3')" in err
    assert "Traceback" not in err


def test_the_help_says_how_runs_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["show", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "r3 (or: run 3) for Playground run 3" in help_text
    assert "`playground history --runs`" in help_text


def test_search_names_the_run_id_to_replay_and_where_it_belongs(
    db: tuple[Path, dict[str, int]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, ids = db
    code, out, _ = _cli(capsys, "history", "--search", "zebra", "--db", str(path))
    assert code == 0
    with Store(path) as store:
        (run,) = store.runs(ids["run 1"])
    assert re.match(rf"run id +{run.id}  in Run 1 ", out), out

    code, out, _ = _cli(capsys, "history", "--search", "plain says", "--db", str(path))
    # Comparison #1 has two samples: they are told apart counting from 1.
    lines = [line for line in out.splitlines() if " in #1, " in line]
    assert sorted(re.search(r"sample \d", line).group(0) for line in lines  # type: ignore[union-attr]
                  ) == ["sample 1", "sample 1", "sample 2", "sample 2"]
    assert "sample 0" not in out
    found = json.loads(_cli(capsys, "history", "--search", "plain says", "--json",
                            "--db", str(path))[1])
    assert {(r["comparison_kind"], r["comparison_number"]) for r in found} == {
        ("comparison", 1), ("comparison", 2)}
