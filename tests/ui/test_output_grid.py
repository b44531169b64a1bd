"""The inputs × variants grid as a person uses it at laptop size: cells that fill as runs finish,
three lines of output or more in every row, ★/⚠/failure marks where the data says, sorting and
filtering from the toolbar, a cell expanded to every sample, two cells diffed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from playground.comparison import ComparisonSpec, Input, Variant
from playground.evaluation.report import ReportRun
from playground.evaluation.stats import Estimate
from playground.sampling import SamplingParams
from tests.ui.actions import choose, click, click_cell, double_click_cell, type_over
from ui.views.compare.cell_dialog import CellDialog
from ui.views.compare.output_grid import OutputGrid
from ui.views.compare.output_grid_model import BODY_LINES, FAILED_ROLE, HEADER_ROLE, PADDING
from ui.widgets.diff_dialog import DiffDialog

VARIANTS = ("plain", "few-shot", "terse")
SAMPLES = 2
#: input → (score of plain, few-shot, terse) on rougeL
SCORES = {"row-1": (0.30, 0.50, 0.10), "row-2": (0.90, 0.20, 0.40),
          "row-3": (0.40, 0.40, 0.20), "row-4": (0.60, 0.55, 0.70)}
LOW = ("few-shot", "row-2")
FAILED = ("terse", "row-3")


def make_spec() -> ComparisonSpec:
    inputs = tuple(Input(i, {"text": f"Summarise story {i[-1]} about a lighthouse keeper."},
                         (f"reference for {i}",)) for i in SCORES)
    variants = tuple(Variant(n, n, "{{ text }}", SamplingParams(), "") for n in VARIANTS)
    return ComparisonSpec("grid", variants, inputs, samples=SAMPLES, metrics=("rougeL",))


def output(variant: str, input_id: str, sample: int) -> str:
    words = " ".join(f"{variant}{n}" for n in range(12))
    return (f"{variant} answers {input_id} in sample {sample + 1}: {words}\n"
            "second line\nthird line\nfourth line")


def make_runs() -> list[ReportRun]:
    runs = []
    for n, variant in enumerate(VARIANTS):
        for input_id, scores in SCORES.items():
            for k in range(SAMPLES):
                failed = (variant, input_id) == FAILED and k == 0
                logprob = -2.5 if (variant, input_id) == LOW else -0.2
                runs.append(ReportRun(
                    variant, input_id, k, 1234 + k, "failed" if failed else "ok", "prompt",
                    "" if failed else output(variant, input_id, k), (f"reference for {input_id}",),
                    {} if failed else {"rougeL_f": scores[n], "bleu": 10.0 * n,
                                       "mean_logprob": logprob},
                    error="the worker stopped: out of memory" if failed else None))
    return runs


@pytest.fixture
def grid(qtbot: QtBot) -> Iterator[OutputGrid]:
    widget = OutputGrid()
    qtbot.addWidget(widget)
    widget.resize(1300, 500)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    for dialog in list(widget._dialogs):
        dialog.close()


def header(grid: OutputGrid, row: int, column: int) -> str:
    return str(grid.model.index(row, column).data(HEADER_ROLE))


def body(grid: OutputGrid, row: int, column: int) -> str:
    return str(grid.model.index(row, column).data(Qt.ItemDataRole.DisplayRole))


def shown_inputs(grid: OutputGrid) -> list[str]:
    return [header(grid, r, 0) for r in range(grid.model.rowCount())]


def cell_index(grid: OutputGrid, input_id: str, variant: str) -> QModelIndex:
    row = shown_inputs(grid).index(input_id)
    return grid.model.index(row, 1 + VARIANTS.index(variant))


def reported(grid: OutputGrid) -> OutputGrid:
    grid.show_report(make_spec(), make_runs(), {})
    return grid


# -- filling ----------------------------------------------------------------------------------


def test_cells_wait_then_fill_as_runs_finish(grid: OutputGrid, qtbot: QtBot) -> None:
    grid.set_spec(make_spec())
    assert [grid.model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == [
        "Input", *VARIANTS]
    assert shown_inputs(grid) == list(SCORES)
    assert all(header(grid, r, c) == "waiting…" for r in range(4) for c in (1, 2, 3))
    assert "Summarise story 1" in body(grid, 0, 0) and "reference for row-1" in body(grid, 0, 0)
    runs = make_runs()
    for run in runs:
        if run.input_id == "row-1" and run.variant in ("plain", "few-shot"):
            grid.add_run(run)
    assert "few-shot answers row-1 in sample 1" in body(grid, 0, 2)
    assert "★ ROUGE-L 0.500" in header(grid, 0, 2) and "tie" not in header(grid, 0, 2)
    assert "★" not in header(grid, 0, 1)
    assert header(grid, 0, 3) == "waiting…"
    grid.show_report(make_spec(), runs, {"plain": {"rougeL_f": Estimate(0.55, 0.4, 0.7, 4)}})
    assert all(header(grid, r, c) != "waiting…" for r in range(4) for c in (1, 2, 3))
    tip = grid.model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "mean over the inputs" in tip and "ROUGE-L 0.550 ± 0.150" in tip
    grid.clear()
    assert grid.model.rowCount() == 0 and grid.model.columnCount() == 0
    assert grid.sort_combo.count() == 0 and grid.metric_combo.count() == 0


def test_streamed_text_fills_a_cell_with_coalesced_repaints(grid: OutputGrid,
                                                            qtbot: QtBot) -> None:
    grid.set_spec(make_spec())
    changes: list[object] = []
    grid.model.dataChanged.connect(lambda *args: changes.append(args))
    for n in range(300):
        grid.stream("terse", "row-2", 0, f"t{n} ")
    assert changes == []  # nothing repaints token by token
    index = cell_index(grid, "row-2", "terse")
    qtbot.waitUntil(lambda: len(changes) > 0, timeout=2000)
    QApplication.processEvents()
    assert len(changes) == 1  # one repaint for the whole burst
    assert "t299" in str(index.data())
    assert str(index.data()).startswith("t0 t1 t2")
    assert index.data(HEADER_ROLE) == "sample 1 · generating…"
    finished = next(r for r in make_runs() if (r.variant, r.input_id, r.sample)
                    == ("terse", "row-2", 0))
    grid.add_run(finished)
    assert str(index.data()) == finished.output


def test_every_row_shows_at_least_three_lines_of_output(grid: OutputGrid) -> None:
    reported(grid)
    table = grid.table
    bold = QFont(table.font())
    bold.setBold(True)
    line = QFontMetrics(table.font()).lineSpacing()
    for row in range(grid.model.rowCount()):
        rect = table.visualRect(grid.model.index(row, 1))
        if not table.viewport().rect().intersects(rect):
            continue
        lines = (table.rowHeight(row) - 2 * PADDING - QFontMetrics(bold).lineSpacing()) // line
        assert lines >= 3, (row, table.rowHeight(row), line)
        assert lines >= BODY_LINES
    assert table.viewport().rect().intersects(table.visualRect(grid.model.index(1, 1)))
    for column in range(4):
        assert table.columnWidth(column) >= 200, column  # wraps into lines, not letters


def test_marks_show_where_the_data_says(grid: OutputGrid, qtbot: QtBot) -> None:
    reported(grid)
    row2 = shown_inputs(grid).index("row-2")
    assert "★" in header(grid, row2, 1) and "tie" not in header(grid, row2, 1)
    assert "★" not in header(grid, row2, 2) + header(grid, row2, 3)
    row3 = shown_inputs(grid).index("row-3")
    assert header(grid, row3, 1).endswith("★ ROUGE-L 0.400 · tie")
    assert header(grid, row3, 2).endswith("★ ROUGE-L 0.400 · tie")
    assert "★" not in header(grid, row3, 3)
    low = cell_index(grid, "row-2", "few-shot")
    assert "⚠" in low.data(HEADER_ROLE)
    assert "low confidence" in low.data(Qt.ItemDataRole.ToolTipRole)
    others = [header(grid, r, c) for r in range(4) for c in (1, 2, 3)]
    assert sum("⚠" in h for h in others) == 1
    grid.set_confidence_threshold(-3.0)  # the analyst's threshold, set in Compare
    assert "⚠" not in low.data(HEADER_ROLE)
    grid.set_confidence_threshold(-1.0)
    failed = cell_index(grid, "row-3", "terse")
    assert failed.data(FAILED_ROLE) is True
    assert "✗ 1 failed" in failed.data(HEADER_ROLE)
    assert "out of memory" in failed.data()
    assert "out of memory" in failed.data(Qt.ItemDataRole.ToolTipRole)
    assert sum(grid.model.index(r, c).data(FAILED_ROLE) for r in range(4) for c in (1, 2, 3)) == 1


def test_a_click_on_the_sample_counter_shows_the_next_sample(grid: OutputGrid,
                                                             qtbot: QtBot) -> None:
    reported(grid)
    index = cell_index(grid, "row-1", "plain")
    assert header(grid, index.row(), 1).startswith("sample 1/2 ▸")
    rect = grid.table.visualRect(index)
    counter = rect.topLeft() + QPoint(PADDING + 12, PADDING + 6)
    QTest.mouseClick(grid.table.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, counter)
    assert header(grid, index.row(), 1).startswith("sample 2/2 ▸")
    assert "in sample 2" in body(grid, index.row(), 1)
    QTest.mouseClick(grid.table.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, counter)
    assert "in sample 1" in body(grid, index.row(), 1)


# -- sorting and filtering --------------------------------------------------------------------


def test_sorting_from_the_toolbar(grid: OutputGrid, qtbot: QtBot) -> None:
    reported(grid)
    choose(qtbot, grid.sort_combo, "terse: ROUGE-L highest first")
    assert shown_inputs(grid) == ["row-4", "row-2", "row-3", "row-1"]  # row-3: one sample
    choose(qtbot, grid.sort_combo, "plain: ROUGE-L lowest first")
    assert shown_inputs(grid) == ["row-1", "row-3", "row-4", "row-2"]
    choose(qtbot, grid.sort_combo, "Disagreement on ROUGE-L, most first")
    assert shown_inputs(grid) == ["row-2", "row-1", "row-3", "row-4"]
    choose(qtbot, grid.sort_combo, "Failures first")
    assert shown_inputs(grid)[0] == "row-3"
    choose(qtbot, grid.metric_combo, "BLEU")
    assert "BLEU" in header(grid, 0, 2)
    choose(qtbot, grid.sort_combo, "Input order")
    assert shown_inputs(grid) == list(SCORES)


def test_filtering_and_searching(grid: OutputGrid, qtbot: QtBot) -> None:
    reported(grid)
    choose(qtbot, grid.filter_combo, "Failures only")
    assert shown_inputs(grid) == ["row-3"]
    assert grid.count_label.text() == "1 of 4 inputs"
    choose(qtbot, grid.filter_combo, "Low confidence only")
    assert shown_inputs(grid) == ["row-2"]
    choose(qtbot, grid.filter_combo, "Disagreement ≥ 0.25")
    assert shown_inputs(grid) == ["row-1", "row-2"]
    choose(qtbot, grid.filter_combo, "All inputs")
    type_over(qtbot, grid.search_field, "STORY 4")
    assert shown_inputs(grid) == ["row-4"]
    type_over(qtbot, grid.search_field, "out of memory")
    assert shown_inputs(grid) == ["row-3"]
    type_over(qtbot, grid.search_field, "no such words")
    assert shown_inputs(grid) == [] and grid.count_label.text() == "0 of 4 inputs"


# -- expanding and diffing --------------------------------------------------------------------


def open_dialog(grid: OutputGrid) -> CellDialog | DiffDialog:
    assert grid._dialogs
    dialog = grid._dialogs[-1]
    assert isinstance(dialog, (CellDialog, DiffDialog)) and dialog.isVisible()
    return dialog


def test_double_click_expands_a_cell_to_every_sample(grid: OutputGrid, qtbot: QtBot) -> None:
    reported(grid)
    double_click_cell(qtbot, grid.table, cell_index(grid, "row-3", "terse"))
    dialog = open_dialog(grid)
    assert isinstance(dialog, CellDialog)
    text = dialog.browser.toPlainText()
    assert "Sample 1" in text and "out of memory" in text
    assert "Sample 2" in text and output("terse", "row-3", 1).splitlines()[0] in text
    assert "fourth line" in text and "reference for row-3" in text
    dialog.close()
    index = cell_index(grid, "row-1", "few-shot")
    click_cell(qtbot, grid.table, index)
    QTest.keyClick(grid.table, Qt.Key.Key_Return)
    dialog = open_dialog(grid)
    assert isinstance(dialog, CellDialog)
    text = dialog.browser.toPlainText()
    for k in range(SAMPLES):
        assert output("few-shot", "row-1", k).splitlines()[0] in text


def test_ctrl_click_two_cells_and_diff_them(grid: OutputGrid, qtbot: QtBot) -> None:
    reported(grid)
    assert not grid.diff_button.isEnabled()
    click_cell(qtbot, grid.table, cell_index(grid, "row-1", "plain"))
    assert not grid.diff_button.isEnabled()
    click_cell(qtbot, grid.table, cell_index(grid, "row-2", "terse"),
               Qt.KeyboardModifier.ControlModifier)
    click(qtbot, grid.diff_button)
    dialog = open_dialog(grid)
    assert isinstance(dialog, DiffDialog)
    text = dialog.browser.toPlainText()
    for word in ("plain0", "plain11", "row-1", "terse0", "terse11", "row-2"):
        assert word in text  # the first output's words and the second's, as one diff
    assert "identical" not in text
    assert dialog.first_combo.currentText() == "plain · row-1 · sample 1"
    assert dialog.second_combo.currentText() == "terse · row-2 · sample 1"
    QApplication.processEvents()


def test_a_cells_json_problem_is_marked_and_named_in_its_tooltip(
    grid: OutputGrid, qtbot: QtBot
) -> None:
    """Runs scored as JSON: the header names a problem's kind and place, the tooltip says it all
    (for each sample); an answer that follows the schema gets no mark."""
    reason = "invalid at $.label: 'maybe' is not one of ['positive', 'negative']"
    runs = []
    for run in make_runs():
        if run.status != "ok" or run.input_id != "row-1":
            runs.append(run)
            continue
        bad = run.variant == "plain"
        runs.append(ReportRun(
            run.variant, run.input_id, run.sample, run.seed, "ok", run.prompt, run.output,
            run.references, {**run.scores, "json_parses": 1.0, "schema_valid": 0.0 if bad else 1.0},
            reasons={"schema_valid": reason} if bad else {}))
    grid.show_report(make_spec(), runs, {})
    row = shown_inputs(grid).index("row-1")
    plain, terse = (1 + VARIANTS.index("plain"), 1 + VARIANTS.index("terse"))
    assert "⚠ invalid at $.label" in header(grid, row, plain)
    assert "invalid" not in header(grid, row, terse)
    tip = str(grid.model.index(row, plain).data(Qt.ItemDataRole.ToolTipRole))
    assert f"sample 1: ⚠ {reason}" in tip and f"sample 2: ⚠ {reason}" in tip
    assert "⚠" not in str(grid.model.index(row, terse).data(Qt.ItemDataRole.ToolTipRole))
