"""The Models tab with the real default model: listing, details, memory estimate, loading,
a real worker crash and restart, and refused model files."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from pytestqt.qtbot import QtBot

from playground.engine.gguf import read_gguf
from playground.errors import ModelFileError, WorkerCrashed
from playground.events import Event, Failed, GenerationRequest
from playground.sampling import SamplingParams
from tests.gguf_factory import valid_builder
from ui.context import AppContext
from ui.views.models.models_view import ADDED_KEY, ModelsView
from ui.widgets.item_models import ModelTableModel


def _make_view(qtbot: QtBot, context: AppContext) -> ModelsView:
    view = ModelsView(context)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    qtbot.waitUntil(lambda: not view.listing, timeout=10000)
    return view


@pytest.fixture
def view(qtbot: QtBot, context: AppContext) -> ModelsView:
    return _make_view(qtbot, context)


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    """A small, valid GGUF header (not loadable by llama.cpp, but a fine list entry)."""
    path = tmp_path / "tiny-test.gguf"
    path.write_bytes(valid_builder().build())
    return path


def _state_cell(view: ModelsView, key: str) -> str:
    row = view.model.row_of(key)
    assert row is not None
    return str(view.model.data(view.model.index(row, ModelTableModel.STATE)))


def test_the_bundled_default_model_is_listed_with_its_gguf_info(
    view: ModelsView, context: AppContext, default_model_path: Path, qtmodeltester: object
) -> None:
    key = context.hub.current
    assert key == str(default_model_path)
    row = view.model.row_of(key)
    assert row is not None
    entry = view.model.entry(row)
    assert entry.source == "bundled" and entry.info is not None and entry.error is None
    assert view.model.data(view.model.index(row, ModelTableModel.CURRENT)) == "●"
    assert "llama" in str(view.model.data(view.model.index(row, ModelTableModel.DETAILS)))
    assert _state_cell(view, key) == "unloaded"
    assert view.selected_key() == key  # the current model is selected at start

    labels = {name: label.text() for name, label in view.detail_labels.items()}
    info = read_gguf(default_model_path)
    assert labels["architecture"] == "llama"
    assert labels["parameters"].startswith(info.size_label)
    assert labels["quant"].startswith("Q4_1")
    assert labels["layers"] == str(info.block_count)
    assert labels["heads"] == f"{info.head_count} ({info.head_count_kv} KV)"
    assert labels["head_dim"] == str(info.head_dim)
    assert labels["context"] == f"{info.context_length:,} tokens"
    assert labels["chat"] == "yes"
    assert f"{info.file_size:,} bytes" in labels["size"]
    assert labels["license"] == "Apache-2.0"
    assert "In use in the Playground" in view.state_label.text()
    assert not view.use_button.isEnabled()
    qtmodeltester.check(view.model)  # type: ignore[attr-defined]


def test_the_memory_estimate_follows_the_context_size_and_warns_when_it_will_not_fit(
    view: ModelsView, context: AppContext
) -> None:
    key = context.hub.current
    view.ctx_spin.setValue(1024)
    small = view.memory_label.text()
    view.ctx_spin.setValue(8192)
    large = view.memory_label.text()
    assert "1,024 tokens" in small and "8,192 tokens" in large
    assert small != large
    assert not view.memory_warning.isVisible()
    assert context.hub.options_for(key).n_ctx == 8192

    view.ctx_spin.setValue(16384)  # past the trained 8k context
    assert view.memory_warning.isVisible()
    assert "trained for" in view.memory_warning.text()

    view.available_memory = lambda: 200 * 1024 * 1024
    view.ctx_spin.setValue(2048)
    warning = view.memory_warning.text()
    assert view.memory_warning.isVisible()
    assert warning.startswith("Will not fit:")
    assert "needs about" in warning and "200.0 MiB is available" in warning
    view.ctx_spin.setValue(256)
    assert not view.memory_warning.isVisible()


@pytest.mark.model
def test_load_from_the_view_then_a_real_crash_then_restart(
    qtbot: QtBot, view: ModelsView, context: AppContext
) -> None:
    hub = context.hub
    key = hub.current
    assert view.state_label.text().startswith("unloaded")
    view.ctx_spin.setValue(1024)
    view.load_button.click()
    assert view.state_label.text().startswith("loading")
    qtbot.waitUntil(lambda: view.state_label.text().startswith("ready ("), timeout=60000)
    assert "n_ctx 1,024" in view.state_label.text()
    assert _state_cell(view, key).startswith("ready (loaded in")
    assert "GPU offload" in view.gpu_label.text() and "Checking" not in view.gpu_label.text()
    assert view.restart_button.isEnabled() and view.unload_button.isEnabled()
    assert not view.load_button.isEnabled()

    backend = hub.backend(key)
    assert backend is not None
    events: list[Event] = []
    # A prompt any model continues for long: the crash "after 2 tokens" needs 2 tokens.
    request = GenerationRequest(prompt="1, 2, 3, 4, 5,",
                                params=SamplingParams(max_tokens=16, seed=1),
                                crash_after_tokens=2)
    worker = threading.Thread(target=lambda: events.extend(backend.generate(request)))
    worker.start()
    qtbot.waitUntil(lambda: not worker.is_alive(), timeout=30000)
    assert isinstance(events[-1], Failed) and isinstance(events[-1].error, WorkerCrashed)

    qtbot.waitUntil(lambda: view.state_label.text().startswith("crashed"), timeout=5000)
    assert "press Restart" in view.state_label.text()
    assert _state_cell(view, key) == "crashed"
    assert view.restart_button.isEnabled()

    view.restart_button.click()
    qtbot.waitUntil(lambda: view.state_label.text().startswith("ready ("), timeout=60000)
    assert hub.state(key) == "ready"
    assert "n_ctx 1,024" in view.state_label.text()


def test_bad_model_files_are_refused_with_the_checkers_message(
    qtbot: QtBot, view: ModelsView, context: AppContext, tmp_path: Path,
    default_model_path: Path
) -> None:
    page = tmp_path / "download.gguf"
    page.write_text("<!DOCTYPE html><html><body>Sign in to continue</body></html>")
    cut = tmp_path / "cut.gguf"
    with default_model_path.open("rb") as src:
        cut.write_bytes(src.read(100_000))
    expected = []
    for path in (page, cut):
        with pytest.raises(ModelFileError) as caught:
            read_gguf(path)
        expected.append(str(caught.value))
    assert "HTML" in expected[0] and "truncated" in expected[1]
    rows = view.model.rowCount()

    with qtbot.waitSignals([view.add_failed, view.add_failed], timeout=10000):
        view.add_model_files([str(page), str(cut)])
    qtbot.waitUntil(lambda: expected[1] in view.add_label.text(), timeout=5000)
    assert view.add_label.text() == "\n".join(expected)
    assert view.model.rowCount() == rows
    assert view.added_paths() == []


def test_an_added_file_is_kept_and_shown_missing_once_gone(
    qtbot: QtBot, view: ModelsView, context: AppContext, tiny_model: Path
) -> None:
    with qtbot.waitSignal(view.model_added, timeout=10000) as added:
        view.add_model_files([str(tiny_model)])
    key = added.args[0]
    assert key == str(tiny_model)
    qtbot.waitUntil(lambda: view.selected_key() == key, timeout=5000)
    assert view.detail_labels["name"].text().startswith("Tiny Test Model")
    assert view.detail_labels["layers"].text() == "2"
    assert "not in the catalog" in view.detail_labels["license"].text()
    assert context.settings.value(ADDED_KEY) in ([key], key)

    with qtbot.waitSignal(context.hub.current_changed, timeout=2000):
        view.use_button.click()
    assert context.hub.current == key
    row = view.model.row_of(key)
    assert row is not None
    assert view.model.data(view.model.index(row, ModelTableModel.CURRENT)) == "●"

    tiny_model.unlink()
    again = _make_view(qtbot, context)
    row = again.model.row_of(key)
    assert row is not None
    entry = again.model.entry(row)
    assert entry.missing and entry.source == "added"
    assert _state_cell(again, key) == "missing"
    again.select_key(key)
    assert not again.load_button.isEnabled()
    assert "no longer there" in again.model_error_label.text()
    again.remove_button.click()
    assert again.model.row_of(key) is None
    assert again.added_paths() == []


def test_gguf_files_dropped_on_the_view_are_added(
    qtbot: QtBot, view: ModelsView, tmp_path: Path, tiny_model: Path
) -> None:
    other = tmp_path / "copy.gguf"
    shutil.copy(tiny_model, other)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other)), QUrl.fromLocalFile(str(tmp_path / "a.txt"))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    # Qt delivers a drop only at the end of a real drag, so the handler it calls is called.
    with qtbot.waitSignal(view.model_added, timeout=10000) as added:
        view.dropEvent(drop)
    assert drop.isAccepted()
    assert added.args == [str(other)]
    assert view.added_paths() == [str(other)]


def test_gpu_offload_support_is_known_before_any_model_loads(
    qtbot: QtBot, view: ModelsView
) -> None:
    from playground.cli import gpu_offload_supported

    expected = gpu_offload_supported()
    qtbot.waitUntil(lambda: view.gpu_supported is not None, timeout=60000)
    assert view.gpu_supported is expected
    assert view.context.hub.state(view.context.hub.current) == "unloaded"
    wording = "supports GPU offload" if expected else "has no GPU offload"
    assert wording in view.gpu_label.text()
    assert view.context.settings.value("models/gpu_offload_supported") == (
        "yes" if expected else "no")
