"""Stored comparisons read back as reports: the same runs, references and scores a report
made while the comparison ran has."""

from __future__ import annotations

from pathlib import Path

from playground.runs.history import report_runs, stored_report
from playground.storage.store import Store
from tests.core.storage.records import make_spec, save_cells


def test_report_runs_of_a_saved_comparison(tmp_path: Path) -> None:
    """Every saved run, under its variant and input names, with the input's references, its
    scores by metric and a failed run's empty output."""
    with Store(tmp_path / "playground.db") as store:
        cid, saved = save_cells(store, make_spec())
        runs = report_runs(store, cid)
        report = stored_report(store, cid)
    by_cell = {(r.variant, r.input_id): r for r in runs}
    assert len(by_cell) == len(saved) == 4
    assert by_cell[("plain", "row-2")].references == ("It rained.", "Rainy day.")
    assert by_cell[("plain", "row-1")].scores == {"bleu": None, "rouge1_f": 0.75}
    assert by_cell[("plain", "row-1")].prompt == "Summarize: the cat sat"
    assert by_cell[("styled", "row-2")].status == "failed"
    assert by_cell[("styled", "row-2")].output == ""
    assert sorted(r.run_id for r in runs if r.run_id is not None) == sorted(saved.values())
    assert report.name == "summaries"
    assert report.runs == tuple(runs)
    assert [v.name for v in report.variants] == ["plain", "styled"]
