"""GPU layers: auto in the Models tab at 1366x768: ticked by a person, it asks llama.cpp for the
GPU's memory, puts the core rule's number in the GPU layers box with its reason, keeps that
number in the load settings, and follows a VRAM figure the person types. The expected values
come from the same rule with this machine's own answer, so the test holds on a CPU-only build
(0 layers, "no GPU offload") and on a GPU build alike."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from playground.engine.gguf import read_gguf
from playground.engine.gpu import auto_gpu_layers, probe_gpu_memory
from tests.ui.actions import click, click_tab, type_over
from ui.main_window import MainWindow
from ui.views.models.load_settings_panel import GPU_AUTO_KEY


def test_auto_gpu_layers_shows_the_rules_number_and_why(
    qtbot: QtBot, window: MainWindow, default_model_path: Path, settings: QSettings
) -> None:
    window.resize(1366, 768)
    click_tab(qtbot, window, window.models)
    view = window.models
    qtbot.waitUntil(lambda: not view.listing, timeout=10000)
    key = str(default_model_path)
    assert view.selected_key() == key
    panel = view.settings_box
    assert not panel.vram_spin.isVisible()

    click(qtbot, panel.gpu_auto)
    qtbot.waitUntil(lambda: panel.gpu_memory is not None, timeout=60000)
    memory = probe_gpu_memory()
    assert memory is not None and memory == panel.gpu_memory
    info = read_gguf(default_model_path)
    n_ctx = view.ctx_spin.value() or info.context_length or 4096
    expected = auto_gpu_layers(info, n_ctx, offload_supported=memory.offload_supported,
                               vram_budget=memory.free_bytes)
    assert panel.gpu_auto_label.text() == f"Auto: {expected.explanation}."
    assert panel.gpu_auto_label.isVisible() and panel.vram_spin.isVisible()
    assert view.gpu_spin.value() == expected.layers and not view.gpu_spin.isEnabled()
    assert view.hub.options_for(key).n_gpu_layers == expected.layers
    if not memory.offload_supported:
        assert "no GPU offload: 0 layers" in panel.gpu_auto_label.text()
    assert settings.value(GPU_AUTO_KEY) == "yes"

    # A VRAM figure the person gives replaces what llama.cpp reported.
    type_over(qtbot, panel.vram_spin, "2")
    given = auto_gpu_layers(info, n_ctx, offload_supported=memory.offload_supported,
                            vram_budget=2 << 30)
    qtbot.waitUntil(lambda: panel.gpu_auto_label.text() == f"Auto: {given.explanation}.",
                    timeout=2000)
    assert view.hub.options_for(key).n_gpu_layers == given.layers

    # Unticked, the box is the person's again.
    click(qtbot, panel.gpu_auto)
    assert view.gpu_spin.isEnabled() and not panel.gpu_auto_label.isVisible()
    assert settings.value(GPU_AUTO_KEY) == "no"
