"""Scratch mode at 1366×768, as a person uses it: type a prompt and run it, chat (send, edit a
turn and run again, start over), save what was typed as a template, and reopen a chat from
History to go on with it. The model is the scripted one (tests/fakes.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from playground.events import ChatMessage, GenerationRequest
from playground.runs.runner import RunDone
from playground.storage.store import Store
from tests.fakes import FakeEngine
from tests.ui.actions import click, double_click_history_row, history_row, type_over
from ui.main_window import MainWindow
from ui.views.playground.playground_view import PlaygroundView

TIMEOUT_MS = 20000


def finished(qtbot: QtBot, view: PlaygroundView, act: object) -> RunDone:
    """Do ``act`` (a click or a key) and wait for the run it starts to be saved."""
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        act()  # type: ignore[operator]
    done = blocker.args[0]
    assert isinstance(done, RunDone) and done.result is not None and done.run_id is not None
    return done


def last_request(engine: FakeEngine) -> GenerationRequest:
    return engine.requests[-1]


def transcript(view: PlaygroundView) -> list[tuple[str, str]]:
    return [(turn.role, turn.content()) for turn in view.modes.chat_panel.turns]


def send(qtbot: QtBot, view: PlaygroundView, text: str, *, button: bool = False) -> RunDone:
    box = view.modes.chat_panel.message
    type_over(qtbot, box, text)
    if button:
        return finished(qtbot, view, lambda: click(qtbot, view.modes.chat_panel.send_button))
    return finished(qtbot, view, lambda: QTest.keyClick(box, Qt.Key.Key_Return))


def test_it_opens_ready_to_type_and_runs_the_prompt_as_typed(
    qtbot: QtBot, laptop: MainWindow, fake_engine: FakeEngine
) -> None:
    view = laptop.playground
    prompt = view.modes.scratch_panel.prompt
    assert view.modes.mode == "scratch" and prompt.isVisible() and prompt.height() >= 120
    qtbot.waitUntil(prompt.hasFocus)
    typed = "Say {{ hello }} to Ada"  # not a template: sent exactly as typed
    qtbot.keyClicks(prompt, typed)

    done = finished(qtbot, view, lambda: QTest.keyClick(
        prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier))
    assert last_request(fake_engine).messages == (ChatMessage("user", typed),)
    assert view.output.toPlainText() == done.result.text  # type: ignore[union-attr]
    with Store(view.context.db_path) as store:  # the name History lists it by
        label = store.comparison(store.run(done.run_id).comparison_id).label  # type: ignore[arg-type]
    assert label == "Run 1" and f"saved as {label}" in view.status_label.text()

    click(qtbot, view.modes.scratch_panel.chat_check)  # raw text for the model to continue
    finished(qtbot, view, lambda: click(qtbot, view.run_button))
    assert last_request(fake_engine).prompt == typed

    type_over(qtbot, prompt, "   ")
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS):
        click(qtbot, view.run_button)
    assert view.status_label.text() == "type a prompt first"


def test_a_chat_sends_turns_reruns_an_edited_turn_and_starts_over(
    qtbot: QtBot, laptop: MainWindow, fake_engine: FakeEngine
) -> None:
    view = laptop.playground
    click(qtbot, view.modes.buttons["chat"])
    chat = view.modes.chat_panel
    assert chat.message.hasFocus()
    type_over(qtbot, chat.system, "Answer in one line.")

    first = send(qtbot, view, "Name a colour")
    answer = first.result.text  # type: ignore[union-attr]
    assert transcript(view) == [("user", "Name a colour"), ("assistant", answer)]
    assert chat.message.toPlainText() == ""

    # Shift+Enter is a new line; the Send button sends. The answer goes back exactly.
    box = chat.message
    type_over(qtbot, box, "And")
    QTest.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "another")
    finished(qtbot, view, lambda: click(qtbot, chat.send_button))
    assert last_request(fake_engine).messages == (
        ChatMessage("system", "Answer in one line."), ChatMessage("user", "Name a colour"),
        ChatMessage("assistant", answer), ChatMessage("user", "And\nanother"))
    assert [role for role, _ in transcript(view)] == ["user", "assistant"] * 2

    # Edit the first message and run again from it: what came after it goes.
    type_over(qtbot, chat.turns[0].text, "Name a fruit")
    redone = finished(qtbot, view, lambda: click(qtbot, chat.turns[0].rerun_button))
    assert last_request(fake_engine).messages == (
        ChatMessage("system", "Answer in one line."), ChatMessage("user", "Name a fruit"))
    assert transcript(view) == [("user", "Name a fruit"),
                                ("assistant", redone.result.text)]  # type: ignore[union-attr]

    # An answer run again is written anew from the turns before it.
    finished(qtbot, view, lambda: click(qtbot, chat.turns[1].rerun_button))
    assert last_request(fake_engine).messages[-1] == ChatMessage("user", "Name a fruit")
    assert len(chat.turns) == 2

    click(qtbot, chat.new_button)
    assert transcript(view) == []
    assert chat.system.toPlainText() == "Answer in one line."


def test_what_was_typed_is_saved_as_a_library_template(
    qtbot: QtBot, laptop: MainWindow
) -> None:
    view = laptop.playground
    qtbot.keyClicks(view.modes.scratch_panel.prompt, "Translate {{ text }} into {{ language }}.")
    click(qtbot, view.modes.save_button)
    dialog = view.modes.save_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    assert "Variables: language, text" in dialog.variables.text()

    type_over(qtbot, dialog.name_edit, "my translation")
    assert not dialog.save_button.isEnabled()
    assert "cannot name a template" in dialog.message.text()
    type_over(qtbot, dialog.name_edit, "my-translation")
    with qtbot.waitSignal(laptop.playground.context.library_changed, timeout=TIMEOUT_MS):
        click(qtbot, dialog.save_button)
    qtbot.waitUntil(lambda: "Saved the template 'my-translation'" in view.status_label.text())

    library = view.context.collection().library("My library")
    template = library.template("my-translation")
    assert template is not None and template.meta.format == "text"
    assert [v.name for v in template.meta.variables] == ["language", "text"]
    qtbot.waitUntil(lambda: view.picker.item_for("My library", "my-translation") is not None)

    # A chat becomes a chat template; the name is taken now, and the dialog says so.
    click(qtbot, view.modes.buttons["chat"])
    type_over(qtbot, view.modes.chat_panel.message, "Hello {{ name }}")
    click(qtbot, view.modes.save_button)
    dialog = view.modes.save_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    type_over(qtbot, dialog.name_edit, "my-translation")
    assert "already has a template named 'my-translation'" in dialog.message.text()
    click(qtbot, dialog.buttons.button(dialog.buttons.StandardButton.Cancel))


def test_a_chat_reopens_from_history_and_goes_on(
    qtbot: QtBot, laptop: MainWindow, fake_engine: FakeEngine
) -> None:
    view = laptop.playground
    click(qtbot, view.modes.buttons["chat"])
    send(qtbot, view, "First question")
    second = send(qtbot, view, "Second question", button=True)
    turns = transcript(view)
    assert len(turns) == 4

    # Elsewhere meanwhile: a plain prompt, then a template.
    click(qtbot, view.modes.buttons["scratch"])
    qtbot.keyClicks(view.modes.scratch_panel.prompt, "Something else")
    click(qtbot, view.modes.buttons["template"])

    with Store(view.context.db_path) as store:
        comparison_id = store.run(second.run_id).comparison_id  # type: ignore[arg-type]
    assert comparison_id is not None
    row = history_row(qtbot, laptop, comparison_id)
    double_click_history_row(qtbot, laptop, row)
    qtbot.waitUntil(lambda: view.modes.mode == "chat", timeout=TIMEOUT_MS)
    assert laptop.tabs.currentWidget() is view
    qtbot.waitUntil(lambda: transcript(view) == turns, timeout=TIMEOUT_MS)

    send(qtbot, view, "Third question")
    sent = last_request(fake_engine).messages
    assert sent is not None
    assert [(m.role, m.content) for m in sent] == [*turns, ("user", "Third question")]
    assert len(transcript(view)) == 6
