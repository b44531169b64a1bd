"""Across views, in one window, as an analyst works: run in the Playground, find the run in
History by a word of its input, and open it back."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from playground.engine.options import LoadOptions
from playground.runs.runner import RunDone
from playground.sampling import SamplingParams
from playground.storage.store import Store
from tests.ui.actions import click
from ui.main_window import MainWindow

DIALOGUE = (
    "Ines: Is the quarterly zeppelin report finished?\n"
    "Tom: Almost, I need the figures from Oslo.\n"
    "Ines: Send it by Friday."
)
TIMEOUT_MS = 120000


@pytest.mark.model
def test_a_run_is_found_in_history_and_opens_back_in_the_playground(
    qtbot: QtBot, window: MainWindow
) -> None:
    hub = window.context.hub
    hub.set_options(hub.current, LoadOptions(n_ctx=1024))
    playground = window.playground
    assert playground.select_template("Built-in", "summarization-zero-shot")
    playground.variables.set_values({"dialogue": DIALOGUE})
    playground.params.set_params(SamplingParams(temperature=0.0, max_tokens=12, seed=3))
    with qtbot.waitSignal(playground.run_finished, timeout=TIMEOUT_MS) as finished:
        playground.run()
    done = finished.args[0]
    assert isinstance(done, RunDone) and done.result is not None and done.run_id is not None
    output = done.result.text

    # History: the Playground runs, searched by a word only this input has; open the single hit.
    window.tabs.setCurrentWidget(window.history)
    history = window.history
    with qtbot.waitSignal(history.history_loaded, timeout=10000):
        click(qtbot, history.kind_buttons["run"])
    history.search_edit.setFocus()
    with qtbot.waitSignal(history.history_loaded, timeout=10000):
        QTest.keyClicks(history.search_edit, "zeppelin")
    qtbot.waitUntil(lambda: history.table.model().rowCount() == 1)
    history.table.selectRow(0)
    playground.output.clear()
    playground.variables.set_values({"dialogue": "something else"})
    qtbot.mouseClick(history.open_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is playground
    qtbot.waitUntil(lambda: playground.output.toPlainText() == output, timeout=10000)
    assert playground.variables.values()["dialogue"] == DIALOGUE

    with Store(window.context.db_path) as store:
        assert store.run(done.run_id).output == output
