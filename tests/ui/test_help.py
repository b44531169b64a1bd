"""The Help menu opens a quick start and a list of the keyboard shortcuts, both read from the
window's actions; opened by clicking the menu, as a person does."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from ui.main_window import MainWindow
from ui.widgets.help_dialogs import QuickStartDialog, ShortcutsDialog


def click_menu_entry(qtbot: QtBot, window: MainWindow, title: str, entry: str) -> None:
    """Click the menu's title in the menu bar, then the entry in the menu that drops down."""
    bar = window.menuBar()
    (top,) = [a for a in bar.actions() if a.text().replace("&", "") == title]
    rect = bar.actionGeometry(top)
    assert bar.isVisible() and rect.width() >= 16 and rect.height() >= 16
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=rect.center())
    menu = top.menu()
    assert isinstance(menu, QMenu)
    qtbot.waitUntil(menu.isVisible)
    (action,) = [a for a in menu.actions() if a.text().replace("&", "") == entry]
    QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible())


def native(keys: str) -> str:
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


def test_help_lists_the_keyboard_shortcuts_from_the_actions(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.resize(1366, 768)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    click_menu_entry(qtbot, window, "Help", "Keyboard Shortcuts")
    qtbot.waitUntil(lambda: isinstance(window.help_dialog, ShortcutsDialog))
    dialog = window.help_dialog
    assert isinstance(dialog, ShortcutsDialog)
    qtbot.waitUntil(dialog.isVisible)
    rows = dialog.rows()
    assert ("Playground", "Run → Run", f"{native('Ctrl+Return')}, {native('Ctrl+Enter')}") in rows
    assert ("Compare", "Run → Run all variants", native("Ctrl+Shift+R")) in rows
    assert ("Everywhere", "View → History", native("Ctrl+3")) in rows
    assert ("Text fields", "Edit → Undo", native("Ctrl+Z")) in rows
    # Every shortcut shown is one the window really has, listed once.
    assert len(rows) == len(set(rows))
    # Changing a key in code changes the list: it is read from the actions, not written down.
    window.playground.run_action.setShortcut(QKeySequence("F9"))
    click_menu_entry(qtbot, window, "Help", "Keyboard Shortcuts")
    qtbot.waitUntil(lambda: window.help_dialog is not dialog
                    and isinstance(window.help_dialog, ShortcutsDialog))
    again = window.help_dialog
    assert isinstance(again, ShortcutsDialog)
    assert ("Playground", "Run → Run", native("F9")) in again.rows()
    again.close()


def test_help_opens_a_quick_start_with_the_run_keys(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(1366, 768)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    click_menu_entry(qtbot, window, "Help", "Quick Start")
    qtbot.waitUntil(lambda: isinstance(window.help_dialog, QuickStartDialog))
    dialog = window.help_dialog
    assert isinstance(dialog, QuickStartDialog)
    qtbot.waitUntil(dialog.isVisible)
    text = dialog.text.text()
    assert "Quick start" in text and native("Ctrl+Return") in text
    assert native("Ctrl+Shift+R") in text
    # It does not block the window.
    assert QApplication.activeModalWidget() is None
    dialog.close()
