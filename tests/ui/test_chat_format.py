"""The Models tab's Chat format choice for a model whose file has no chat template, as a person
makes it at laptop size: the list says "raw completion" until a format is chosen, the choice
is kept with the model's settings, and the loaded model chats in that format."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from playground.engine.backends import LocalBackend
from playground.errors import TemplateError
from playground.events import ChatMessage, Failed, Finished, GenerationRequest
from playground.sampling import SamplingParams
from tests.gguf_factory import without_key
from tests.ui.actions import choose, click, click_cell, click_tab
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.services.hub import open_local
from ui.views.models.models_view import ModelsView
from ui.widgets.item_models import ModelTableModel


@pytest.fixture
def base_model(default_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Path:
    """The bundled model without its chat template, in a folder the app looks in."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("PLAYGROUND_MODELS", str(folder))
    return without_key(default_model_path, folder / "smollm2-base.gguf")


def _open_row(qtbot: QtBot, window: MainWindow, key: str) -> ModelsView:
    window.resize(1366, 768)
    view = window.models
    click_tab(qtbot, window, view)
    qtbot.waitUntil(lambda: not view.listing, timeout=10000)
    row = view.model.row_of(key)
    assert row is not None
    qtbot.waitUntil(lambda: view.model.entry(row).info is not None, timeout=10000)
    click_cell(qtbot, view.table, view.model.index(row, ModelTableModel.NAME))
    assert view.selected_key() == key
    return view


def _details(view: ModelsView, key: str) -> str:
    row = view.model.row_of(key)
    assert row is not None
    return str(view.model.data(view.model.index(row, ModelTableModel.DETAILS)))


def test_choosing_a_chat_format_for_a_base_model_with_clicks(
    base_model: Path, qtbot: QtBot, window: MainWindow, context: AppContext,
    default_model_path: Path, settings: QSettings,
) -> None:
    key = str(base_model)
    view = _open_row(qtbot, window, key)
    combo = view.chat_format_box.combo
    assert _details(view, key).startswith("raw completion · ")
    assert "raw completion" not in _details(view, str(default_model_path))
    assert combo.currentText() == "None: raw completion only"
    assert "no chat template" in view.chat_format_box.note.text()

    choose(qtbot, combo, "ChatML")
    assert context.hub.options_for(key).chat_format == "chatml"
    assert _details(view, key).startswith("chat format: ChatML · ")
    assert "<|im_start|>" in view.chat_format_box.note.text()
    # Another model's own template is untouched.
    assert context.hub.options_for(str(default_model_path)).chat_format is None

    # Kept with the model's settings: a new window shows it chosen.
    window.close()
    fresh = MainWindow(AppContext(settings))
    qtbot.addWidget(fresh)
    fresh.show()
    try:
        again = _open_row(qtbot, fresh, key)
        assert again.chat_format_box.combo.currentText() == "ChatML"
        assert _details(again, key).startswith("chat format: ChatML · ")

        choose(qtbot, again.chat_format_box.combo, "None: raw completion only")
        assert fresh.context.hub.options_for(key).chat_format is None
        assert _details(again, key).startswith("raw completion · ")
    finally:
        fresh.close()
        fresh.context.close()


CHAT = GenerationRequest(messages=(ChatMessage("user", "Name a colour."),),
                         params=SamplingParams(temperature=0, max_tokens=4, seed=1))


@pytest.mark.model
def test_a_loaded_base_model_refuses_chat_until_a_format_is_chosen_and_loaded(
    base_model: Path, qtbot: QtBot, window: MainWindow, context: AppContext
) -> None:
    assert context.hub._open_local is open_local
    key = str(base_model)
    view = _open_row(qtbot, window, key)
    click(qtbot, view.load_button)
    qtbot.waitUntil(lambda: view.state_label.text().startswith("ready"), timeout=60000)
    backend = context.hub.backend(key)
    assert isinstance(backend, LocalBackend)
    refused = list(backend.generate(CHAT))[-1]
    assert isinstance(refused, Failed) and isinstance(refused.error, TemplateError)
    assert "Chat format in the Models tab" in str(refused.error)

    choose(qtbot, view.chat_format_box.combo, "ChatML")
    assert "press Load to apply" in view.state_label.text()
    click(qtbot, view.load_button)
    qtbot.waitUntil(lambda: view.state_label.text().startswith("ready")
                    and not view.load_button.isEnabled(), timeout=60000)
    assert "press Load" not in view.state_label.text()
    backend = context.hub.backend(key)
    assert isinstance(backend, LocalBackend) and backend.options.chat_format == "chatml"
    final = list(backend.generate(CHAT))[-1]
    assert isinstance(final, Finished), final
    assert final.result.rendered_prompt.startswith("<|im_start|>user\nName a colour.<|im_end|>")
    assert (final.result.record or {})["chat_format"] == "chatml"
