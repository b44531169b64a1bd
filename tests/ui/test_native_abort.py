"""A model file that makes llama.cpp abort natively, loaded from the window as a person would."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from playground.runs.runner import RunDone
from tests.gguf_factory import with_duplicate_token
from tests.ui.test_playground import prepare, run_and_wait
from ui.main_window import MainWindow
from ui.views.models.models_view import ModelsView

ASSERTION = "GGML_ASSERT(id_to_token.size() == token_to_id.size()) failed"


def click_row(qtbot: QtBot, view: ModelsView, key: str) -> None:
    row = view.model.row_of(key)
    assert row is not None
    rect = view.table.visualRect(view.model.index(row, 0))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected_key() == key


@pytest.mark.model
def test_a_file_that_aborts_llama_cpp_is_named_and_the_window_keeps_working(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, default_model_path: Path
) -> None:
    window.resize(1366, 768)
    models = window.models
    qtbot.waitUntil(lambda: not models.listing, timeout=10000)
    bundled = window.context.hub.current
    broken = with_duplicate_token(default_model_path, tmp_path / "repeated-token.gguf")

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(broken))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    # Qt delivers a drop only at the end of a real drag, so the handler it calls is called.
    with qtbot.waitSignal(models.model_added, timeout=10000):
        window.dropEvent(drop)
    assert window.tabs.currentWidget() is models
    qtbot.waitUntil(lambda: models.selected_key() == str(broken), timeout=5000)

    qtbot.mouseClick(models.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(models.load_error_label.isVisible, timeout=60000)
    message = models.load_error_label.text()
    assert message.startswith("Could not load: repeated-token.gguf: the model worker died")
    assert "SIGABRT (llama.cpp aborted)" in message
    assert "llama.cpp said: llama-vocab.cpp:" in message and message.endswith(ASSERTION)
    assert window.isVisible()

    # The window goes on: the bundled model loads and a Playground run completes.
    click_row(qtbot, models, bundled)
    qtbot.mouseClick(models.load_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: models.state_label.text().startswith("ready ("), timeout=60000)
    tab_bar = window.tabs.tabBar()
    index = window.tabs.indexOf(window.playground)
    qtbot.mouseClick(tab_bar, Qt.MouseButton.LeftButton, pos=tab_bar.tabRect(index).center())
    assert window.tabs.currentWidget() is window.playground
    prepare(qtbot, window.playground, max_tokens=4)
    done = run_and_wait(qtbot, window.playground)
    assert isinstance(done, RunDone) and done.status == "ok"
