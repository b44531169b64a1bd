"""The Models tab lists the models other tools downloaded, each with its tool as the source,
and a person takes a tool's models off the list by unticking it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from playground.engine import models
from playground.engine.discovery import Home
from tests.other_tools import EXPECTED, build_home, look_in
from tests.ui.actions import click, click_tab
from ui.main_window import MainWindow
from ui.services.model_list import switched_off_sources
from ui.widgets.item_models import ModelTableModel


@pytest.fixture
def other_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """Other tools' folders in the home the window looks in (built before the window opens)."""
    gguf = models.default_model_path()
    assert gguf is not None
    home = build_home("linux", tmp_path / "tools", gguf)
    look_in(monkeypatch, home)
    return home


def listed(window: MainWindow) -> list[tuple[str, str]]:
    """The (name, source) of every row, as the table shows them."""
    table = window.models.model
    return [(str(table.data(table.index(row, ModelTableModel.NAME))),
             str(table.data(table.index(row, ModelTableModel.SOURCE))))
            for row in range(table.rowCount())]


def test_unticking_a_tool_takes_its_models_off_the_list(
    qtbot: QtBot, other_tools: Home, window: MainWindow, settings: QSettings
) -> None:
    window.resize(1366, 768)
    click_tab(qtbot, window, window.models)
    view = window.models
    qtbot.waitUntil(lambda: not view.listing, timeout=10000)
    rows = listed(window)
    assert ("llama3.2:3b", "Ollama") in rows
    assert (EXPECTED[0][0], "Hugging Face cache") in rows
    assert [source for _, source in rows].count("LM Studio") == 2
    assert not any("sha256" in name for name, _ in rows)

    with qtbot.waitSignal(view.models_listed, timeout=10000):
        click(qtbot, view.sources.boxes["ollama"])
    rows = listed(window)
    assert "Ollama" not in [source for _, source in rows]
    assert (EXPECTED[0][0], "Hugging Face cache") in rows
    assert switched_off_sources(settings) == ["ollama"]

    with qtbot.waitSignal(view.models_listed, timeout=10000):
        click(qtbot, view.sources.boxes["huggingface"])
    with qtbot.waitSignal(view.models_listed, timeout=10000):
        click(qtbot, view.sources.boxes["ollama"])
    rows = listed(window)
    assert ("llama3.2:3b", "Ollama") in rows
    assert "Hugging Face cache" not in [source for _, source in rows]
    assert switched_off_sources(settings) == ["huggingface"]
    # Every tick box is on screen, whole, beside the list.
    for box in view.sources.boxes.values():
        corner = box.mapTo(window, box.rect().bottomRight())
        assert window.rect().contains(corner), box.text()
