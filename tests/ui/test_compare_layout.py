"""The Compare tab on a laptop screen, used as a person uses it: the outputs get most of the
height, nothing is clipped on a small screen, a comparison is built with "+ Column" and a
column's header Edit, its outputs are read and its summary is one click away; a library
imported during a dataset run leaves the dataset chosen, and a new run never shows the last
comparison's results."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QWidget
from pytestqt.qtbot import QtBot

from playground.prompts.library import Library, export_library
from playground.prompts.templates import parse_template
from playground.storage.store import Store
from tests.fakes import FakeEngine, Script
from tests.ui.actions import click, click_tab, type_over
from ui.main_window import MainWindow
from ui.views.compare.compare_view import CompareView

DIALOGUE = (
    "Maya: Did you book the train for Saturday?\n"
    "Leo: Not yet, the 9:10 was sold out.\n"
    "Maya: Take the 10:40 then, we can still make lunch with Grandma.\n"
    "Leo: Booked. Two seats, coach C."
)
REFERENCE = "Leo booked the 10:40 train for Saturday."
TIMEOUT_MS = 120000


def open_compare(qtbot: QtBot, window: MainWindow, width: int, height: int) -> CompareView:
    window.resize(width, height)
    click_tab(qtbot, window, window.compare)
    qtbot.waitUntil(lambda: window.context.tasks.running == 0, timeout=20000)
    qtbot.waitUntil(lambda: window.compare.height() > 0)
    return window.compare


def visible_widgets(root: QWidget) -> list[QWidget]:
    return [w for w in root.findChildren(QWidget) if w.isVisibleTo(root) and w.isVisible()]


def assert_nothing_clipped(view: CompareView) -> None:
    """Every control shown is at least as big as it needs to be read and used, and every
    output box shows at least three lines."""
    for widget in visible_widgets(view):
        if isinstance(widget, (QAbstractButton, QComboBox, QAbstractSpinBox)):
            need = widget.minimumSizeHint()
            assert widget.width() >= need.width() and widget.height() >= need.height(), (
                widget, widget.size(), need, getattr(widget, "text", lambda: "")())
    for column in view.columns:
        output = column.output
        assert output.isVisible()
        lines = output.viewport().height() / output.fontMetrics().lineSpacing()
        assert lines >= 3, (column.name_edit.text(), output.viewport().height())


def run_by_button(qtbot: QtBot, view: CompareView) -> int | None:
    with qtbot.waitSignal(view.comparison_finished, timeout=TIMEOUT_MS) as finished:
        click(qtbot, view.run_button)
    result = finished.args[0]
    assert result is None or isinstance(result, int)
    return result


def type_input(qtbot: QtBot, view: CompareView) -> None:
    """The dialogue typed line by line (Enter between lines), then its reference."""
    lines = DIALOGUE.split("\n")
    type_over(qtbot, view.shared_input, lines[0])
    for line in lines[1:]:
        QTest.keyClick(view.shared_input, Qt.Key.Key_Return)
        QTest.keyClicks(view.shared_input, line)
    assert view.shared_input.toPlainText() == DIALOGUE
    type_over(qtbot, view.references, REFERENCE)


def test_the_outputs_take_most_of_the_height_at_1366_by_768(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = open_compare(qtbot, window, 1366, 768)
    assert view.outputs_stack.isVisible()
    assert view.outputs_stack.height() >= 0.5 * view.height(), (
        view.outputs_stack.height(), view.height())
    for column in view.columns:
        assert column.output.isVisible() and not column.template_combo.isVisible()
    # A dataset's rows take the input boxes' place: still more room for the outputs.
    assert view.select_dataset("summarization")
    qtbot.waitUntil(lambda: not view.shared_input.isVisible())
    assert view.outputs_stack.height() >= 0.5 * view.height()


@pytest.mark.parametrize("columns", [3, 6])
def test_nothing_is_clipped_at_1024_by_700(
    qtbot: QtBot, window: MainWindow, columns: int
) -> None:
    view = open_compare(qtbot, window, 1024, 700)
    while len(view.columns) < columns:
        click(qtbot, view.add_button)
    qtbot.wait(50)
    assert window.width() <= 1024 and window.height() <= 700
    assert_nothing_clipped(view)
    # A column's settings form open in place still leaves every output readable.
    click(qtbot, view.columns[0].edit_button)
    qtbot.waitUntil(view.columns[0].template_combo.isVisible)
    qtbot.wait(100)  # the form settles into the width it got
    assert_nothing_clipped(view)


def test_three_columns_built_by_clicking_run_and_are_read(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = open_compare(qtbot, window, 1366, 768)
    type_input(qtbot, view)
    click(qtbot, view.add_button)
    assert len(view.columns) == 3
    third = view.columns[2]
    # A copy of the last column would give the same runs: Run all says so and runs nothing.
    assert run_by_button(qtbot, view) is None
    assert "are the same variant" in view.message_label.text()
    assert third.name_edit.text() in view.message_label.text()

    # The header's Edit opens the column's settings in place; a new temperature is typed.
    assert not third.params["temperature"].isVisible()
    click(qtbot, third.edit_button)
    temperature = third.params["temperature"]
    type_over(qtbot, temperature, "0.6")
    QTest.keyClick(temperature, Qt.Key.Key_Tab)
    assert temperature.maximum() == 2.0  # 0-2 unless the Playground allows more
    click(qtbot, third.edit_button)  # "Done"
    assert not temperature.isVisible()
    assert "T 0.6" in third.header.summary_label.full_text()

    comparison_id = run_by_button(qtbot, view)
    assert isinstance(comparison_id, int), view.message_label.text()
    for column in view.columns:
        assert column.output.isVisible() and column.output.toPlainText().strip()
        assert column.score_labels["rougeL"].isVisible()
    with Store(window.context.db_path) as store:
        spec = store.comparison(comparison_id).to_spec()
    assert [v.params.temperature for v in spec.variants][2] == pytest.approx(0.6)

    # The winner sentence is above the outputs; the summary is one click away.
    assert view.winner_line.isVisible() and view.winner_line.full_text()
    assert view.winner_line.full_text() in view.winner_label.text()
    click(qtbot, view.summary_button)
    assert view.outputs_tabs.currentWidget() is view.summary
    assert view.score_table.isVisible() and view.score_model.rowCount() == 3
    # and back to the outputs through their tab
    bar = view.outputs_tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(0).center())
    assert all(c.output.isVisible() for c in view.columns)


def test_allowing_a_higher_temperature_in_the_playground_widens_the_columns(
    qtbot: QtBot, window: MainWindow
) -> None:
    click_tab(qtbot, window, window.playground)
    click(qtbot, window.playground.params.allow_high)
    view = open_compare(qtbot, window, 1366, 768)
    column = view.columns[0]
    click(qtbot, column.edit_button)
    type_over(qtbot, column.params["temperature"], "3.5")
    QTest.keyClick(column.params["temperature"], Qt.Key.Key_Tab)
    assert column.param_values()["temperature"] == pytest.approx(3.5)


def test_a_library_imported_during_a_dataset_run_keeps_the_dataset(
    qtbot: QtBot, window: MainWindow, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    fake_engine.script(Script(token_delay_s=0.03))
    view = open_compare(qtbot, window, 1366, 768)
    assert view.select_dataset("summarization")
    chosen = view.dataset_combo.currentText()
    for column in view.columns:
        column.params["max_tokens"].setValue(16)
    view.rows_spin.setValue(3)
    finished = qtbot.waitSignal(view.comparison_finished, timeout=TIMEOUT_MS)
    click(qtbot, view.run_button)
    qtbot.waitUntil(lambda: view.progress.value() >= 1, timeout=TIMEOUT_MS)
    assert view.running

    source = tmp_path / "mine.yaml"
    mine = Library("Mine", "for tests", templates=(parse_template("Hello {{ who }}\n", "greet"),))
    source.write_text(export_library(mine, "yaml"), encoding="utf-8")
    library = window.library
    library.questions.choose_open_path = lambda: str(source)
    click_tab(qtbot, window, library)
    with qtbot.waitSignal(library.import_finished, timeout=TIMEOUT_MS) as imported:
        click(qtbot, library.import_button)
    assert imported.args == [True]
    qtbot.waitUntil(lambda: any(lib.name == "Mine"
                                for lib in window.context.collection().libraries))
    click_tab(qtbot, window, view)
    assert view.dataset_combo.currentText() == chosen
    assert view.dataset_mode() and not view.shared_input.isVisible()
    finished.wait()
    assert view.dataset_combo.currentText() == chosen

    # The dataset's outputs are read in the inputs × variants grid: every run in its cell.
    assert view.outputs_stack.currentWidget() is view.grid and view.grid.table.isVisible()
    model = view.grid.model
    assert (model.rowCount(), model.columnCount()) == (3, 1 + len(view.columns))
    report = view.summary.report
    assert report is not None and len(report.runs) == 6
    shown = {str(model.index(r, c).data()) for r in range(3) for c in range(1, 3)}
    assert shown == {run.output for run in report.runs}


def test_a_new_run_shows_nothing_of_the_last_comparison(
    qtbot: QtBot, window: MainWindow, fake_engine: FakeEngine
) -> None:
    view = open_compare(qtbot, window, 1366, 768)
    type_input(qtbot, view)
    assert isinstance(run_by_button(qtbot, view), int)
    assert view.winner_line.full_text() and view.winner_label.text()
    assert view.score_model.rowCount() == 2

    fake_engine.script(Script(token_delay_s=0.05))
    finished = qtbot.waitSignal(view.comparison_finished, timeout=TIMEOUT_MS)
    click(qtbot, view.run_button)
    # At once, before the new comparison gives anything: no winner, no scores, no chart.
    assert view.running
    assert not view.winner_line.full_text() and not view.summary_button.isVisible()
    assert not view.winner_label.text()
    assert view.score_model.rowCount() == 0 and view.summary.report is None
    assert not view.chart_view.chart().series()
    assert all(not c.output.toPlainText() for c in view.columns)
    finished.wait()
    assert view.winner_line.full_text()


def test_renaming_a_variant_renames_it_in_the_input_hint(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = open_compare(qtbot, window, 1366, 768)
    first = view.columns[0]
    type_over(qtbot, first.name_edit, "terse")
    hint = view.inputs.input_hint.full_text()
    assert "dialogue in terse" in hint, hint
