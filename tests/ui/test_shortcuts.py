"""Every keyboard shortcut of the window means one thing wherever the focus is, and the keys do
what their actions say."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu, QWidget
from pytestqt.qtbot import QtBot

from playground.runs.runner import RunDone
from ui.main_window import MainWindow

TIMEOUT_MS = 120000

#: A scope is where the focus must be for a shortcut to fire: None for anywhere in the window,
#: else a widget and whether its children count too.
Scope = tuple[QWidget, bool] | None


def _scopes(window: MainWindow, action: QAction) -> list[Scope]:
    """Where Qt would let the action's shortcut fire (Qt's own rules for shortcut contexts: a
    menu entry counts as the menu bar, which holds the focus only while it is navigated)."""
    context = action.shortcutContext()
    if context in (Qt.ShortcutContext.WindowShortcut, Qt.ShortcutContext.ApplicationShortcut):
        return [None]
    with_children = context == Qt.ShortcutContext.WidgetWithChildrenShortcut
    scopes: list[Scope] = []
    for owner in action.associatedObjects():
        widget = window.menuBar() if isinstance(owner, QMenu) else owner
        if isinstance(widget, QWidget):
            scopes.append((widget, with_children))
    return scopes


def _within(widget: QWidget, scope: tuple[QWidget, bool]) -> bool:
    """Whether focus on ``widget`` satisfies ``scope``."""
    owner, with_children = scope
    return widget is owner or (with_children and owner.isAncestorOf(widget))


def _overlap(a: Scope, b: Scope) -> bool:
    """Whether one focus widget can satisfy both scopes at once."""
    if a is None or b is None:
        return True
    return _within(a[0], b) or _within(b[0], a)


def _keys(action: QAction) -> set[str]:
    return {k.toString(QKeySequence.SequenceFormat.PortableText) for k in action.shortcuts()
            if not k.isEmpty()}


def shortcut_clashes(window: MainWindow) -> list[str]:
    """Pairs of actions Qt could match for one key press (it then does neither)."""
    actions = [a for a in window.findChildren(QAction) if _keys(a)]
    clashes = []
    for i, first in enumerate(actions):
        for second in actions[i + 1:]:
            shared = _keys(first) & _keys(second)
            if shared and any(_overlap(a, b) for a in _scopes(window, first)
                              for b in _scopes(window, second)):
                clashes.append(f"{sorted(shared)}: {first.text()!r} and {second.text()!r}")
    return clashes


def test_no_two_actions_share_a_shortcut_where_both_can_fire(window: MainWindow) -> None:
    window.resize(1366, 768)
    actions = [a for a in window.findChildren(QAction) if _keys(a)]
    # The walk sees the menus' and the views' actions, not only the main window's own.
    texts = {a.text().replace("&", "") for a in actions}
    assert {"Run", "Regenerate", "Run all variants", "Playground", "Duplicate"} <= texts
    # Disabled actions count too: Stop or Export are enabled later with the same keys.
    assert shortcut_clashes(window) == []


def test_the_check_sees_a_clash_between_a_tab_and_the_window(window: MainWindow) -> None:
    """The check above cannot pass by accident: a window-wide key that one tab also uses is
    reported, and the same key in two tabs is not."""
    run = window.playground.run_action
    twin = QAction("Window-wide twin", window)
    twin.setShortcut(run.shortcut())
    window.addAction(twin)
    assert len(shortcut_clashes(window)) == 1
    twin.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.removeAction(twin)
    window.compare.addAction(twin)
    assert shortcut_clashes(window) == []


def _focus(
    qtbot: QtBot, window: MainWindow, widget: QWidget, target: QWidget | None = None
) -> None:
    """Click into ``widget`` (through ``target``, a text box's viewport) as a person does."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.waitUntil(widget.isVisible)
    QTest.mouseClick(target or widget, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.waitUntil(widget.hasFocus)


def test_the_shortcuts_run_regenerate_and_run_all(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.context.tasks.running == 0)
    view = window.playground
    item = view.picker.item_for("Built-in", "summarization-zero-shot")
    assert item is not None
    view.picker.tree.scrollToItem(item)
    rect = view.picker.tree.visualItemRect(item)
    QTest.mouseClick(view.picker.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    field = view.variables.editors["dialogue"]
    _focus(qtbot, window, field)
    QTest.keyClicks(field, "Ana: Lunch at noon? Ben: Yes.")

    editor = view.editor
    _focus(qtbot, window, editor, editor.viewport())
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as first:
        QTest.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(first.args[0], RunDone)
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as again:
        QTest.keyClick(editor, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert isinstance(again.args[0], RunDone)
    assert again.args[0].planned.prompt_text == first.args[0].planned.prompt_text

    # Ctrl+2 shows Compare; Ctrl+Shift+R there runs every column.
    QTest.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.compare
    compare = window.compare
    shared = compare.inputs.shared_input
    _focus(qtbot, window, shared, shared.viewport())
    QTest.keyClicks(shared, "Ana: Lunch at noon? Ben: Yes.")
    with qtbot.waitSignal(compare.comparison_finished, timeout=TIMEOUT_MS) as finished:
        QTest.keyClick(shared, Qt.Key.Key_R,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert isinstance(finished.args[0], int), compare.message_label.text()
