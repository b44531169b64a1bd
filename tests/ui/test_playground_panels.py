"""The Playground's panels in the window at 1366×768: each on screen and usable, and working
together by clicks and typing (editor → preview, variables → preview, Run → output, token view,
errors marked in the editor)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot

from playground.runs.runner import RunDone
from playground.storage.store import Store
from tests.ui.actions import click
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.views.playground.playground_view import PlaygroundView

BUILTIN = "Built-in"
TEMPLATE = "summarization-zero-shot"


@pytest.fixture
def playground(qtbot: QtBot, context: AppContext) -> Iterator[PlaygroundView]:
    win = MainWindow(context)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: context.tasks.running == 0, timeout=20000)
    assert win.tabs.currentWidget() is win.playground
    yield win.playground
    win.playground.stop()
    win.close()


def on_screen(widget: QWidget, *, min_height: int = 16) -> bool:
    """Shown and not scrolled out of sight: the part a person can see is big enough."""
    seen = widget.visibleRegion().boundingRect()
    return widget.isVisible() and seen.width() >= 16 and seen.height() >= min_height


def type_over(qtbot: QtBot, widget: QWidget, text: str) -> None:
    widget.setFocus()
    QTest.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def test_every_panel_is_on_screen_at_a_laptop_size(
    qtbot: QtBot, playground: PlaygroundView
) -> None:
    # It opens ready to type; the template's panels are one click away.
    assert on_screen(playground.modes.scratch_panel.prompt, min_height=120)
    click(qtbot, playground.modes.buttons["template"])
    for text_box in (playground.editor, playground.preview, playground.output,
                     playground.reference, playground.variables_scroll):
        assert on_screen(text_box, min_height=40), text_box
    for widget in (playground.picker.tree, playground.model_combo, playground.run_button,
                   playground.stop_button, playground.regenerate_button, playground.live_check,
                   playground.token_check, playground.params.temperature):
        assert on_screen(widget), widget
    for label in (playground.status_label, playground.preview_tokens_label):
        assert label.isVisible() and label.height() >= label.fontMetrics().height()


def test_the_panels_work_together_by_clicks_and_typing(
    qtbot: QtBot, playground: PlaygroundView
) -> None:
    picker = playground.picker
    item = picker.item_for(BUILTIN, TEMPLATE)
    assert item is not None
    picker.tree.scrollToItem(item)
    rect = picker.tree.visualItemRect(item)
    qtbot.mouseClick(picker.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert playground.editor.toPlainText().startswith("{#---")

    # The variables form feeds the preview panel.
    dialogue = playground.variables.editors["dialogue"]
    assert isinstance(dialogue, QPlainTextEdit)
    qtbot.waitUntil(lambda: on_screen(dialogue))
    type_over(qtbot, dialogue, "Ann: the quokka smiled.")
    qtbot.waitUntil(lambda: "Ann: the quokka smiled." in playground.preview.toPlainText())
    assert "characters" in playground.preview_tokens_label.text()

    # An error typed into the editor is written under it and its line marked; fixed, both go.
    source = playground.editor.toPlainText()
    broken = "{{ missing_thing("
    viewport = playground.editor.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=viewport.rect().center())
    QTest.keyClick(playground.editor, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(playground.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(playground.editor, broken)
    qtbot.waitUntil(playground.editor_message.isVisible)
    assert playground.error_line == playground.editor.toPlainText().count("\n") + 1
    assert "cannot be rendered" in playground.preview_tokens_label.text()
    for _ in range(len(broken) + 1):
        QTest.keyClick(playground.editor, Qt.Key.Key_Backspace)
    assert playground.editor.toPlainText() == source
    qtbot.waitUntil(lambda: not playground.editor_message.isVisible())
    assert playground.error_line is None

    # Run (the button), with the token view on (the check box): the output panel fills.
    qtbot.mouseClick(playground.token_check, Qt.MouseButton.LeftButton)
    assert on_screen(playground.token_view, min_height=40)
    playground.params.max_tokens._label.setFocus()  # type: ignore[attr-defined]
    playground.params.max_tokens._label.selectAll()  # type: ignore[attr-defined]
    QTest.keyClicks(playground.params.max_tokens._label, "8")  # type: ignore[attr-defined]
    QTest.keyClick(playground.params.max_tokens._label, Qt.Key.Key_Return)  # type: ignore[attr-defined]
    with qtbot.waitSignal(playground.run_finished, timeout=120000) as finished:
        qtbot.mouseClick(playground.run_button, Qt.MouseButton.LeftButton)
    done = finished.args[0]
    assert isinstance(done, RunDone) and done.result is not None
    assert playground.output.toPlainText() == done.result.text
    with Store(playground.context.db_path) as store:  # the name History lists it by
        label = store.comparison(store.run(done.run_id).comparison_id).label  # type: ignore[arg-type]
    assert label == "Run 1" and f"saved as {label}" in playground.status_label.text()
    assert done.result.logprobs is not None
    assert len(playground.token_view.tokens) == len(done.result.logprobs)
    assert not playground.stop_action.isEnabled()
    assert playground.replay_action.isEnabled()
