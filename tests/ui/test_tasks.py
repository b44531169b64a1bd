"""Background tasks: results come back to the GUI thread, and never after the window closed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from pytestqt.qtbot import QtBot

from ui.services.tasks import TaskRunner


def _yield_once(emitted: threading.Event) -> Iterator[str]:
    yield "result"
    emitted.set()  # runs only after the result was handed to the signal


def test_a_result_reaches_the_gui_thread(qtbot: QtBot) -> None:
    runner = TaskRunner()
    got: list[str] = []
    done: list[bool] = []
    emitted = threading.Event()
    runner.start(_yield_once, emitted, on_event=got.append, on_done=lambda: done.append(True))
    assert emitted.wait(10)
    qtbot.waitUntil(lambda: bool(done))
    assert got == ["result"]


def test_results_still_queued_when_the_runner_closes_are_dropped(qtbot: QtBot) -> None:
    """A result waits in the event queue until the GUI thread runs again. Delivered after the
    window closed, it would reach deleted widgets (a history reload started by a run's end
    then failed in whatever ran next)."""
    runner = TaskRunner()
    got: list[str] = []
    done: list[bool] = []
    emitted = threading.Event()
    runner.start(_yield_once, emitted, on_event=got.append, on_done=lambda: done.append(True))
    assert emitted.wait(10)  # the result is queued; this thread has not run the event loop
    assert runner.close()
    qtbot.waitUntil(lambda: runner.running == 0)
    qtbot.wait(50)
    assert got == []
    assert done == []
