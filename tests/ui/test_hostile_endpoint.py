"""A hostile endpoint's error in the window reads as the CLI prints it: control sequences
written out, not obeyed; the other column's run is unaffected."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from playground.engine.endpoints import Endpoint, save_endpoint
from playground.storage.store import Store
from tests.integration.misbehaving_server import MisbehavingServer
from ui.main_window import MainWindow

DIALOGUE = "Ann: Lunch at noon?\nBo: Yes, at the usual place."


@pytest.fixture
def endpoints() -> Iterator[MisbehavingServer]:
    with MisbehavingServer() as server:
        save_endpoint(Endpoint("fine", server.url("ok"), "fake-model"))
        save_endpoint(Endpoint("hostile", server.url("hostile"), "fake-model"))
        yield server


def test_a_hostile_error_is_shown_escaped(
    qtbot: QtBot, endpoints: MisbehavingServer, window: MainWindow
) -> None:
    window.resize(1366, 768)
    compare = window.compare
    tabs = window.tabs.tabBar()
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton,
                     pos=tabs.tabRect(window.tabs.indexOf(compare)).center())
    fine, hostile = compare.columns
    for column, model in ((fine, "remote:fine"), (hostile, "remote:hostile")):
        assert column.set_template("summarization-zero-shot")
        column.set_model(model)
    compare.shared_input.setPlainText(DIALOGUE)
    compare.references.setPlainText("They meet for lunch at noon.")

    with qtbot.waitSignal(compare.comparison_finished, timeout=60000) as finished:
        qtbot.mouseClick(compare.run_button, Qt.MouseButton.LeftButton)

    assert fine.output.toPlainText() == "Hi there!"
    assert hostile.error_label.isVisible()
    message = hostile.error_label.text()
    assert "HTTP 500" in message and "boom\\x1b]0;pwned\\x07\\x1b[2J" in message
    assert not any(ch in message for ch in "\x1b\x07\x9b")
    # The message stored with the run is the same escaped one.
    with Store(window.context.db_path) as store:
        errors = [r.error for r in store.runs(finished.args[0]) if r.status == "failed"]
    assert errors and all(e is not None and "\x1b" not in e and "boom\\x1b]0;pwned" in e
                          for e in errors)
