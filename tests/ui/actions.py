"""What a person does in the window, shared by the window tests: click a visible button, type
over a field, click a tab, open a stored comparison or run from History with a double-click on
its row."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from ui.main_window import MainWindow


def click(qtbot: QtBot, widget: QWidget) -> None:
    """Click a widget a person can see and use (once it has appeared): a test fails when what it
    clicks is hidden, disabled or smaller than 16×16 pixels."""
    qtbot.waitUntil(lambda: widget.isVisible() and widget.isEnabled(), timeout=2000)
    assert widget.width() >= 16 and widget.height() >= 16, widget
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_over(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Click into a field, select what it holds and type over it."""
    click(qtbot, widget)
    QTest.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(widget, text)


def click_tab(qtbot: QtBot, window: MainWindow, view: QWidget) -> None:
    bar = window.tabs.tabBar()
    index = window.tabs.indexOf(view)
    rect = bar.tabRect(index)
    assert bar.isVisible() and rect.width() >= 16 and rect.height() >= 16
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentWidget() is view


def history_row(qtbot: QtBot, window: MainWindow, comparison_id: int) -> int:
    """Go to History and wait for the comparison's row; its index."""
    click_tab(qtbot, window, window.history)
    history = window.history
    qtbot.waitUntil(lambda: history.model.row_of_comparison(comparison_id) is not None,
                    timeout=10000)
    row = history.model.row_of_comparison(comparison_id)
    assert row is not None
    return row


def double_click_history_row(qtbot: QtBot, window: MainWindow, row: int) -> None:
    history = window.history
    rect = history.table.visualRect(history.model.index(row, 1))
    # A real double-click starts with a press; the item view reacts only to the pair.
    qtbot.mouseClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(history.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def open_comparison_from_history(qtbot: QtBot, window: MainWindow, comparison_id: int) -> None:
    """Open a stored comparison in Compare as a person does: its row in History, twice."""
    row = history_row(qtbot, window, comparison_id)
    with qtbot.waitSignal(window.compare.comparison_opened, timeout=20000):
        double_click_history_row(qtbot, window, row)
    assert window.tabs.currentWidget() is window.compare
