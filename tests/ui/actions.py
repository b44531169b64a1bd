"""What a person does in the window, shared by the window tests: click a visible button, type
over a field, click a tab, open a stored comparison or run from History with a double-click on
its row."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QTabWidget, QWidget
from pytestqt.qtbot import QtBot

from playground.storage.store import Store
from ui.main_window import MainWindow
from ui.views.compare.compare_column import CompareColumn


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


def choose(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Open a combo box's list with a click and walk to an entry with the arrow keys, then
    Enter."""
    target = combo.findText(text)
    assert target >= 0, f"{text!r} is not among {[combo.itemText(i) for i in range(combo.count())]}"
    click(qtbot, combo)
    popup = combo.view()
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    for _ in range(abs(target - popup.currentIndex().row())):
        QTest.keyClick(popup, key)
    QTest.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not popup.isVisible(), timeout=2000)
    assert combo.currentText() == text


def click_cell(qtbot: QtBot, view: QAbstractItemView, index: QModelIndex,
               modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Click the middle of a visible cell (with Ctrl to add it to the selection)."""
    rect = view.visualRect(index)
    assert view.isVisible() and view.viewport().rect().contains(rect.center()), rect
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def double_click_cell(qtbot: QtBot, view: QAbstractItemView, index: QModelIndex) -> None:
    """A real double-click starts with a press; the item view reacts only to the pair."""
    click_cell(qtbot, view, index)
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, view.visualRect(index).center())


def choose_template(qtbot: QtBot, column: CompareColumn, template_id: str) -> None:
    """Type part of the name into the template box and click the match in the list shown."""
    edit, completer = column.template_combo.lineEdit(), column.template_combo.completer()
    assert edit is not None and completer is not None
    type_over(qtbot, edit, template_id[:-2])
    popup = completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible)
    model = popup.model()
    wanted = f"Built-in / {template_id}"
    (row,) = [r for r in range(model.rowCount()) if model.index(r, 0).data() == wanted]
    rect = popup.visualRect(model.index(row, 0))
    QTest.mouseClick(popup.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: column.template_key() == f"Built-in/{template_id}")


def click_tab(qtbot: QtBot, window: MainWindow, view: QWidget) -> None:
    bar = window.tabs.tabBar()
    index = window.tabs.indexOf(view)
    rect = bar.tabRect(index)
    assert bar.isVisible() and rect.width() >= 16 and rect.height() >= 16
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentWidget() is view


def click_page(qtbot: QtBot, tabs: QTabWidget, label: str) -> None:
    """Click the tab named ``label`` in a tab widget inside a view (the Models tab's pages)."""
    bar = tabs.tabBar()
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == label)
    rect = bar.tabRect(index)
    assert bar.isVisible() and rect.width() >= 16 and rect.height() >= 16
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=rect.center())
    assert tabs.currentIndex() == index


def history_row(qtbot: QtBot, window: MainWindow, comparison_id: int) -> int:
    """Go to History, switch to the list it is in (Comparisons or Playground runs) and wait for
    the comparison's row; its index."""
    click_tab(qtbot, window, window.history)
    history = window.history
    with Store(window.context.db_path) as store:
        kind = store.comparison(comparison_id).kind
    button = history.kind_buttons[kind]
    if not button.isChecked():
        with qtbot.waitSignal(history.history_loaded, timeout=10000):
            click(qtbot, button)
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
