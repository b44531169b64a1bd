"""An analyst's whole Compare workflow on a laptop screen, at 1366×768 and at 1024×700, done with
clicks and typing: choose a dataset, add a third variant with "+ Column" and give it another
template, run, read every cell of the inputs × variants grid, diff two cells, and reopen the
comparison from History into the same grid."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView
from pytestqt.qtbot import QtBot

from playground.storage.store import Store
from tests.fakes import FakeEngine, Script
from tests.ui.actions import (
    choose,
    choose_template,
    click,
    click_cell,
    click_tab,
    open_comparison_from_history,
)
from ui.main_window import MainWindow
from ui.views.compare.compare_view import CompareView
from ui.views.compare.output_grid import OutputGrid
from ui.widgets.diff_dialog import DiffDialog

TIMEOUT_MS = 120000
ROWS = 3
TEMPLATES = ("summarization-zero-shot", "summarization-few-shot", "summarization-system-user")


def grid_cells(grid: OutputGrid) -> list[tuple[int, int]]:
    model = grid.model
    return [(r, c) for r in range(model.rowCount()) for c in range(1, model.columnCount())]


def read_cell(qtbot: QtBot, grid: OutputGrid, row: int, column: int) -> str:
    """Scroll the cell into sight as a person would and read it: it must show its text on at
    least three lines below its header line, and be wide enough to read."""
    table: QAbstractItemView = grid.table
    index: QModelIndex = grid.model.index(row, column)
    table.scrollTo(index)
    qtbot.wait(10)
    rect = table.visualRect(index)
    viewport = table.viewport().rect()
    assert viewport.contains(rect.center()), (row, column, rect, viewport)
    line = table.fontMetrics().lineSpacing()
    visible = rect.intersected(viewport)
    assert visible.height() >= 4 * line, (row, column, visible.height(), line)
    assert visible.width() >= 150, (row, column, visible.width())
    return str(index.data())


def build_and_run(qtbot: QtBot, window: MainWindow, view: CompareView) -> int:
    dataset = next(view.dataset_combo.itemText(i) for i in range(view.dataset_combo.count())
                   if "/ summarization" in view.dataset_combo.itemText(i))
    choose(qtbot, view.dataset_combo, dataset)
    click(qtbot, view.rows_spin)
    QTest.keyClick(view.rows_spin, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(view.rows_spin, str(ROWS))
    QTest.keyClick(view.rows_spin, Qt.Key.Key_Tab)
    assert view.rows_spin.value() == ROWS

    click(qtbot, view.add_button)
    assert len(view.columns) == 3
    for column, template in zip(view.columns, TEMPLATES, strict=True):
        if column.template_key().endswith(template):
            continue
        click(qtbot, column.edit_button)
        choose_template(qtbot, column, template)
        click(qtbot, column.edit_button)  # Done
    assert [c.template_key().split("/")[-1].strip() for c in view.columns] == list(TEMPLATES)

    with qtbot.waitSignal(view.comparison_finished, timeout=TIMEOUT_MS) as finished:
        click(qtbot, view.run_button)
    comparison_id = finished.args[0]
    assert isinstance(comparison_id, int), view.message_label.text()
    # The title names it by its number: the first comparison is #1 whatever ran before.
    with Store(window.context.db_path) as store:
        assert store.comparison(comparison_id).label == "#1"
    assert view.title_label.text().startswith("Comparison #1")
    return comparison_id


@pytest.mark.parametrize("size", [(1366, 768), (1024, 700)], ids=["1366x768", "1024x700"])
def test_a_dataset_comparison_built_run_read_diffed_and_reopened(
    qtbot: QtBot, window: MainWindow, fake_engine: FakeEngine, size: tuple[int, int]
) -> None:
    fake_engine.script(Script(length=30))
    click_tab(qtbot, window, window.playground)  # a Playground run takes no comparison number
    with qtbot.waitSignal(window.playground.run_finished, timeout=TIMEOUT_MS):
        QTest.keyClicks(window.playground.modes.scratch_panel.prompt, "Say hello.")
        click(qtbot, window.playground.run_button)
    window.resize(*size)
    click_tab(qtbot, window, window.compare)
    qtbot.waitUntil(lambda: window.context.tasks.running == 0, timeout=20000)
    assert window.width() <= size[0] and window.height() <= size[1]
    view = window.compare
    comparison_id = build_and_run(qtbot, window, view)

    grid = view.grid
    assert view.outputs_stack.currentWidget() is grid and grid.table.isVisible()
    assert (grid.model.rowCount(), grid.model.columnCount()) == (ROWS, 1 + len(TEMPLATES))
    report = view.summary.report
    assert report is not None and len(report.runs) == ROWS * len(TEMPLATES)
    texts = {read_cell(qtbot, grid, r, c) for r, c in grid_cells(grid)}
    assert texts == {run.output for run in report.runs}

    # Two cells of the first input, Ctrl+clicked, then "Diff selected".
    grid.table.scrollToTop()
    click_cell(qtbot, grid.table, grid.model.index(0, 1))
    click_cell(qtbot, grid.table, grid.model.index(0, 2), Qt.KeyboardModifier.ControlModifier)
    click(qtbot, grid.diff_button)
    dialogs = [d for d in grid.findChildren(DiffDialog) if d.isVisible()]
    assert len(dialogs) == 1
    diff = dialogs[0]
    first, second = (str(grid.model.index(0, c).data()) for c in (1, 2))
    shown = diff.browser.toPlainText()
    assert first.split()[0] in shown and second.split()[-1] in shown
    diff.close()

    # Reopened from History: the same grid, every cell back.
    open_comparison_from_history(qtbot, window, comparison_id)
    qtbot.waitUntil(lambda: view.grid.model.rowCount() == ROWS, timeout=20000)
    assert view.outputs_stack.currentWidget() is view.grid
    reopened = {read_cell(qtbot, view.grid, r, c) for r, c in grid_cells(view.grid)}
    assert reopened == texts
