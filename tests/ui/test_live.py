"""Live mode as a person meets it: it waits for the inputs a template needs, the output never
goes blank while a new run starts, History keeps one finished run per burst of editing and never
a run that was replaced or stopped, and the token view needs no new run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit
from pytestqt.qtbot import QtBot

from playground.runs.runner import RunDone
from playground.storage.store import Store
from tests.fakes import FakeEngine, Script
from tests.ui.actions import click
from tests.ui.test_playground import (
    DIALOGUE,
    SUMMARY,
    TIMEOUT_MS,
    click_template,
    make_view,
    type_into,
)
from ui.context import AppContext
from ui.views.playground.playground_view import PlaygroundView


@pytest.fixture
def view(qtbot: QtBot, context: AppContext) -> Iterator[PlaygroundView]:
    playground = make_view(qtbot, context)
    yield playground
    playground.stop()


def stored_ids(context: AppContext) -> list[int]:
    with Store(context.db_path) as store:
        return sorted(row.id for row in store.history(limit=500))


def type_text(qtbot: QtBot, field: QPlainTextEdit, text: str) -> None:
    """Click at the end of a text box and type (one line)."""
    click(qtbot, field.viewport())
    field.moveCursor(field.textCursor().MoveOperation.End)
    qtbot.keyClicks(field, text)


def test_live_waits_for_the_inputs_the_template_needs(
    qtbot: QtBot, view: PlaygroundView, fake_engine: FakeEngine
) -> None:
    fake_engine.script(Script(length=4))
    click(qtbot, view.live_check)
    with qtbot.assertNotEmitted(view.run_finished, wait=1200):
        click_template(qtbot, view, SUMMARY)
    assert "waiting for dialogue" in view.output_panel.status_label.text()
    assert fake_engine.requests == []

    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        type_text(qtbot, view.variables.editors["dialogue"], "Ann: Lunch at one?")
    done = blocker.args[0]
    assert isinstance(done, RunDone) and "Lunch at one" in done.planned.prompt_text


def test_history_keeps_the_last_finished_live_run_of_a_burst(
    qtbot: QtBot, view: PlaygroundView, fake_engine: FakeEngine
) -> None:
    fake_engine.script(Script(length=6, token_delay_s=0.2))
    click_template(qtbot, view, SUMMARY)
    dialogue = view.variables.editors["dialogue"]
    type_into(qtbot, dialogue, DIALOGUE)
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS):
        click(qtbot, view.run_button)  # by hand: kept whatever Live does next
    qtbot.waitUntil(lambda: len(stored_ids(view.context)) == 1)
    by_hand = stored_ids(view.context)

    click(qtbot, view.live_check)
    # Edits that each outlast the debounce: every run is replaced by the next one while it
    # streams, then the last one finishes.
    for word in (" Maya:", " See", " you"):
        asked = len(fake_engine.requests)
        type_text(qtbot, dialogue, word)
        qtbot.waitUntil(lambda n=asked: len(fake_engine.requests) > n,  # type: ignore[misc]
                        timeout=TIMEOUT_MS)
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS):
        type_text(qtbot, dialogue, " there.")
    started = len(fake_engine.requests)
    assert started >= 4

    # Another finished Live run in the same burst supersedes the first.
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        type_text(qtbot, dialogue, " Bye.")
    last = blocker.args[0]
    assert isinstance(last, RunDone) and last.status == "ok"
    qtbot.waitUntil(lambda: view.context.tasks.running == 0, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: len(stored_ids(view.context)) == 2, timeout=TIMEOUT_MS)
    ids = stored_ids(view.context)
    assert ids[0] == by_hand[0]
    with Store(view.context.db_path) as store:
        kept = store.comparison(ids[1])
        runs = store.runs(ids[1])
    assert kept.status == "done"
    assert [r.id for r in runs] == [last.run_id]


def test_a_stopped_live_run_is_not_kept(
    qtbot: QtBot, view: PlaygroundView, fake_engine: FakeEngine
) -> None:
    fake_engine.script(Script(length=None, token_delay_s=0.02))
    click_template(qtbot, view, SUMMARY)
    click(qtbot, view.live_check)
    type_text(qtbot, view.variables.editors["dialogue"], "Ann: hi")
    qtbot.waitUntil(lambda: view.output_panel.output.toPlainText() != "", timeout=TIMEOUT_MS)
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS):
        click(qtbot, view.stop_button)
    assert view.output_panel.output.toPlainText()  # what streamed stays on screen
    qtbot.waitUntil(lambda: view.context.tasks.running == 0, timeout=TIMEOUT_MS)
    assert stored_ids(view.context) == []


def test_the_output_stays_until_the_next_live_run_streams(
    qtbot: QtBot, view: PlaygroundView, fake_engine: FakeEngine
) -> None:
    fake_engine.script(Script(length=3))
    click_template(qtbot, view, SUMMARY)
    click(qtbot, view.live_check)
    dialogue = view.variables.editors["dialogue"]
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS):
        type_text(qtbot, dialogue, "Ann: hi")
    shown = view.output_panel.output.toPlainText()
    assert shown

    fake_engine.script(Script(text="A fresh answer.", token_delay_s=1.0))  # room to look
    type_text(qtbot, dialogue, " Bob: hello")
    qtbot.waitUntil(lambda: view.running, timeout=TIMEOUT_MS)
    assert view.output_panel.output.toPlainText() == shown  # not blank while it waits
    assert view.output_panel.stale
    assert "previous output" in view.output_panel.status_label.text()
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS):
        pass
    assert view.output_panel.output.toPlainText() == "A fresh answer."
    assert not view.output_panel.stale


def test_the_token_view_shows_alternatives_of_a_run_made_without_it(
    qtbot: QtBot, view: PlaygroundView, fake_engine: FakeEngine
) -> None:
    fake_engine.script(Script(length=5))
    click_template(qtbot, view, SUMMARY)
    type_into(qtbot, view.variables.editors["dialogue"], DIALOGUE)
    assert not view.token_check.isChecked()
    with qtbot.waitSignal(view.run_finished, timeout=TIMEOUT_MS) as blocker:
        click(qtbot, view.run_button)
    done = blocker.args[0]
    assert isinstance(done, RunDone) and done.result is not None
    requests = len(fake_engine.requests)

    qtbot.mouseClick(view.token_check, Qt.MouseButton.LeftButton)
    assert view.token_view.isVisible()
    tokens = view.token_view.tokens
    assert len(tokens) == done.result.completion_tokens
    assert any(entry.top for entry in tokens)
    assert len(fake_engine.requests) == requests  # nothing ran again
