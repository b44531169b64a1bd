"""Comparisons and Playground runs are numbered apart: #1, #2… and Run 1, Run 2…, numbers that
never move or come back, and an upgraded database keeps every number it showed before."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from playground.comparison import ComparisonSpec, Input, Variant
from playground.sampling import SamplingParams
from playground.storage.store import StorageError, Store
from tests.core.storage.records import make_spec

RELEASE_0_1 = Path(__file__).parents[2] / "fixtures" / "release-0.1" / "history.db"


def _playground_run(n: int) -> ComparisonSpec:
    variant = Variant("t", "t", "Say {{ word }}", SamplingParams(), "/models/hand.gguf")
    return ComparisonSpec(f"Playground: t {n}", (variant,), (Input("input", {"word": str(n)}),),
                          metrics=(), kind="run")


def test_a_fresh_database_numbers_each_kind_from_one(store: Store) -> None:
    run_a = store.save_comparison(_playground_run(1))
    run_b = store.save_comparison(_playground_run(2))
    first = store.save_comparison(make_spec("first"))
    run_c = store.save_comparison(_playground_run(3))
    second = store.save_comparison(make_spec("second"))

    assert [(store.comparison(i).kind, store.comparison(i).number)
            for i in (run_a, run_b, first, run_c, second)] == [
        ("run", 1), ("run", 2), ("comparison", 1), ("run", 3), ("comparison", 2)]
    assert store.comparison(first).label == "#1"
    assert store.comparison(run_c).label == "Run 3"
    assert store.comparison_by_number("comparison", 2).id == second
    assert store.comparison_by_number("run", 2).id == run_b
    with pytest.raises(StorageError, match=r"there is no comparison #3"):
        store.comparison_by_number("comparison", 3)
    # The spec read back knows what it was.
    assert store.comparison(run_a).to_spec().kind == "run"
    assert store.comparison(first).to_spec().kind == "comparison"


def test_the_history_lists_one_kind_or_both(store: Store) -> None:
    run = store.save_comparison(_playground_run(1))
    comparison = store.save_comparison(make_spec())
    assert [r.id for r in store.history(kind="comparison")] == [comparison]
    assert [r.id for r in store.history(kind="run")] == [run]
    assert [r.id for r in store.history()] == [comparison, run]


def test_deleting_renumbers_nothing_and_a_number_is_never_given_twice(store: Store) -> None:
    ids = [store.save_comparison(make_spec(f"c{n}")) for n in range(3)]
    assert store.delete_comparison(ids[1])
    assert store.comparison(ids[2]).number == 3
    assert store.delete_comparison(ids[2])  # the newest: its number is not reused either
    newer = store.save_comparison(make_spec("newer"))
    assert store.comparison(newer).number == 4
    with pytest.raises(StorageError, match=r"there is no comparison #2"):
        store.comparison_by_number("comparison", 2)
    with pytest.raises(StorageError, match=r"there is no Playground run 1"):
        store.comparison_by_number("run", 1)


def test_a_failed_save_uses_up_no_number(store: Store) -> None:
    spec = make_spec()
    broken = replace(spec, variants=(replace(spec.variants[0], template_id=None),))  # type: ignore[arg-type]
    with pytest.raises(StorageError):
        store.save_comparison(broken)
    assert store.comparison(store.save_comparison(spec)).number == 1


def test_an_upgraded_database_keeps_its_numbers_and_tells_runs_apart(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    shutil.copy(RELEASE_0_1, path)
    with sqlite3.connect(path) as old:
        before = dict(old.execute("SELECT id, name FROM comparisons").fetchall())
    with Store(path) as store:
        rows = {r.id: r for r in store.history(limit=100)}
        assert set(rows) == set(before)
        # Every number shown before (the id) still finds the same row.
        assert all(r.number == r.id for r in rows.values())
        kinds = {r.name: r.kind for r in rows.values()}
        assert kinds == {name: "run" if name.startswith("Playground: ") else "comparison"
                         for name in before.values()}
        run_id = next(i for i, r in rows.items() if r.kind == "run")
        assert store.comparison_by_number("run", run_id).id == run_id
        # New ones go on past every old number, so an old number never finds a new row.
        added = store.save_comparison(make_spec("after the upgrade"))
        assert store.comparison(added).number == max(rows) + 1
        added_run = store.save_comparison(_playground_run(1))
        assert store.comparison(added_run).number == max(rows) + 1
        assert store.comparison(added).label == f"#{max(rows) + 1}"
        assert store.comparison(added_run).label == f"Run {max(rows) + 1}"
