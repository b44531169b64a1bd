"""The Models tab: which models there are, what is in them, how they load, and their state.

The list is the core's (:func:`playground.engine.models.model_choices`, the same the Playground
and Compare offer, under the same names). Model files are read (header only,
:func:`playground.engine.gguf.read_gguf`) on a background task, never in the GUI thread: a
model folder on a slow disk or a hostile file must not freeze the window. Loading goes through
the shared :class:`~ui.services.hub.ModelHub`, so the Playground, Compare and Evaluate tabs use
the very worker this tab starts. The view lays out and wires its panels: the details
(:mod:`.details_panel`), the load settings (:mod:`.load_settings_panel`), the chat format
(:mod:`.chat_format_panel`) and the state (:mod:`.state_panel`); a second page gets models from
Hugging Face (:mod:`.get_models_panel`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground.engine.backends import LoadedModel, LocalBackend
from playground.engine.gguf import ModelInfo, read_gguf
from playground.engine.gpu import probe_gpu_offload
from playground.engine.memory import available_memory
from playground.engine.models import ModelChoice, model_choices, model_display_name
from playground.engine.options import LoadOptions
from playground.errors import ModelFileError, PlaygroundError
from playground.prompts.chat_formats import CHAT_FORMATS
from ui.context import AppContext
from ui.services.model_list import ADDED_KEY as ADDED_KEY
from ui.services.model_list import added_model_paths, set_added_model_paths
from ui.views.models.chat_format_panel import ChatFormatPanel
from ui.views.models.details_panel import ModelDetails, error_label
from ui.views.models.get_models_panel import GetModelsPanel
from ui.views.models.load_settings_panel import LoadSettingsPanel
from ui.views.models.sources_panel import SourcesPanel
from ui.views.models.state_panel import ModelStatePanel, state_text
from ui.widgets.item_models import ModelEntry, ModelTableModel
from ui.widgets.palette import ERROR_STYLE

#: QSettings key of each model's load settings (JSON: key -> settings).
OPTIONS_KEY = "models/options"
#: What the last loaded worker said about GPU offload in this llama.cpp build.
GPU_KEY = "models/gpu_offload_supported"


# -- background work --------------------------------------------------------------------------


def _entry(choice: ModelChoice) -> ModelEntry:
    return ModelEntry(choice.key, choice.name, choice.source_label,
                      str(choice.path) if choice.path is not None else None,
                      missing=choice.missing, endpoint=choice.endpoint)


def list_models(added: list[str], switched_off: list[str]) -> Iterator[tuple[str, Any]]:
    """Every model on offer, then each local file's header as it is read.

    Yields ``("error", message)`` for a saved-endpoints file that cannot be read, then
    ``("entries", [ModelEntry])`` once, then ``("entry", ModelEntry)`` per file read.
    """
    listing = model_choices(added, switched_off)
    if listing.endpoints_error is not None:
        yield "error", f"Saved remote endpoints: {listing.endpoints_error}"
    entries = [_entry(choice) for choice in listing.models]
    yield "entries", entries
    for entry in entries:
        if entry.path is None or entry.missing:
            continue
        try:
            yield "entry", dataclasses.replace(entry, info=read_gguf(entry.path))
        except ModelFileError as exc:
            yield "entry", dataclasses.replace(entry, error=str(exc))


def _gpu_probe() -> Iterator[bool | None]:
    yield probe_gpu_offload()


def validate_files(paths: list[str]) -> Iterator[tuple[str, ModelInfo | None, str | None]]:
    """Each file's header checked: (path, info, None) or (path, None, the checker's message)."""
    for path in paths:
        try:
            yield path, read_gguf(path), None
        except ModelFileError as exc:
            yield path, None, str(exc)


def _int(value: object, default: int | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _chat_format(value: object) -> str | None:
    """A saved chat format this version knows; another's (or none) leaves the model's own."""
    return value if isinstance(value, str) and value in CHAT_FORMATS else None


# -- the view ---------------------------------------------------------------------------------


class ModelsView(QWidget):
    """List, inspect, add, load, unload, restart and choose models."""

    #: the model list is complete, headers included
    models_listed = Signal()
    #: a model file passed the header check and was added (its key)
    model_added = Signal(str)
    #: a model file was refused (path, the checker's message)
    add_failed = Signal(str, str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.hub = context.hub
        #: Free RAM for the memory check; replaceable to see the warning without filling RAM.
        self.available_memory: Callable[[], int] = available_memory
        self.model = ModelTableModel(self)
        self.model.set_current(self.hub.current)
        self.listing = False
        self._pending: set[str] = set()
        self._load_errors: dict[str, str] = {}
        self._list_generation = 0
        self.gpu_supported: bool | None = None
        self._probe_pending = False
        self.setAcceptDrops(True)

        self._restore(context.settings)
        self._build()
        splitter = context.settings.value("models/splitter")
        if isinstance(splitter, QByteArray):
            self.splitter.restoreState(splitter)
        self.hub.state_changed.connect(self._state_changed)
        self.hub.loaded.connect(self._loaded)
        self.hub.failed.connect(self._failed)
        self.hub.current_changed.connect(self._current_changed)
        self.refresh()

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((55, 200, 170, 100)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _: self.use_selected())

        self.add_button = QPushButton("Add model file…")
        self.add_button.setToolTip("Add a .gguf file (you can also drop files on this tab)")
        self.add_button.clicked.connect(self.add_dialog)
        self.remove_button = QPushButton("Remove from list")
        self.remove_button.setToolTip("Forget an added file (the file itself is not deleted)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Look for model files again")
        self.refresh_button.clicked.connect(self.refresh)
        list_buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.refresh_button):
            list_buttons.addWidget(button)
        list_buttons.addStretch(1)

        self.add_label = QLabel()
        self.add_label.setWordWrap(True)
        self.add_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.add_label.hide()
        self.list_error_label = error_label()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.sources = SourcesPanel(self.context.settings)
        self.sources.changed.connect(self.refresh)
        left_layout.addWidget(self.sources)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(list_buttons)
        left_layout.addWidget(self.add_label)
        left_layout.addWidget(self.list_error_label)

        self.details = ModelDetails()
        self.settings_box = LoadSettingsPanel(self.context.tasks, self.context.settings)
        self.settings_box.edited.connect(self._options_changed)
        self.chat_format_box = ChatFormatPanel()
        self.chat_format_box.edited.connect(self._options_changed)
        self.state_box = ModelStatePanel()
        for button, action in zip(self.state_box.buttons(), (
                self.load_selected, self.unload_selected, self.restart_selected,
                self.use_selected), strict=True):
            button.clicked.connect(action)
        self._alias_panel_widgets()

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.details)
        right_layout.addWidget(self.settings_box)
        right_layout.addWidget(self.chat_format_box)
        right_layout.addWidget(self.state_box)
        right_layout.addStretch(1)

        # The model's panels scroll rather than make the window taller than a laptop screen.
        right_scroll = QScrollArea()
        right_scroll.setWidgetResizable(True)
        right_scroll.setFrameShape(QFrame.Shape.NoFrame)
        right_scroll.setWidget(right)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right_scroll)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        # Models on this computer, and Hugging Face's: a download refreshes the list.
        self.get_models = GetModelsPanel(self.context)
        self.get_models.models_changed.connect(self.refresh)
        self.pages = QTabWidget()
        self.pages.addTab(self.splitter, "On this computer")
        self.pages.addTab(self.get_models, "Get models")
        layout.addWidget(self.pages)
        self._show_selected()

    def _alias_panel_widgets(self) -> None:
        """The panels' widgets, by the names the rest of the window and its tests use."""
        self.detail_labels = self.details.labels
        self.model_error_label = self.details.error_label
        settings = self.settings_box
        self.ctx_spin, self.gpu_spin, self.threads_spin = (
            settings.ctx_spin, settings.gpu_spin, settings.threads_spin)
        self.gpu_label, self.memory_label, self.memory_warning = (
            settings.gpu_label, settings.memory_label, settings.memory_warning)
        state = self.state_box
        self.state_label, self.warnings_label, self.load_error_label = (
            state.state_label, state.warnings_label, state.load_error_label)
        self.load_button, self.unload_button, self.restart_button, self.use_button = (
            state.buttons())

    # -- settings ---------------------------------------------------------------------------

    def _restore(self, settings: QSettings) -> None:
        gpu = settings.value(GPU_KEY)
        if gpu in ("yes", "no"):
            self.gpu_supported = gpu == "yes"
        else:
            self._probe_pending = True  # asked when the view is first shown
        raw = settings.value(OPTIONS_KEY)
        if not isinstance(raw, str) or not raw:
            return
        try:
            saved = json.loads(raw)
        except ValueError:
            return
        if not isinstance(saved, dict):
            return
        for key, values in saved.items():
            if not isinstance(values, dict):
                continue
            try:
                options = LoadOptions(
                    n_ctx=_int(values.get("n_ctx"), 4096) or 0,
                    n_gpu_layers=_int(values.get("n_gpu_layers"), 0) or 0,
                    n_threads=_int(values.get("n_threads"), None),
                    chat_format=_chat_format(values.get("chat_format")),
                    parallel=_int(values.get("parallel"), 1) or 1,
                )
            except PlaygroundError:
                continue  # settings from another machine or version: the defaults apply
            self.hub.set_options(str(key), options)
            self.model.set_chat_format(str(key), options.chat_format)

    def save_settings(self, settings: QSettings) -> None:
        saved = {}
        for entry in self.model.entries:
            if entry.remote:
                continue
            options = self.hub.options_for(entry.key)
            if options != LoadOptions():
                saved[entry.key] = {"n_ctx": options.n_ctx, "n_gpu_layers": options.n_gpu_layers,
                                    "n_threads": options.n_threads,
                                    "chat_format": options.chat_format,
                                    "parallel": options.parallel}
        settings.setValue(OPTIONS_KEY, json.dumps(saved))
        settings.setValue("models/splitter", self.splitter.saveState())

    def added_paths(self) -> list[str]:
        return added_model_paths(self.context.settings)

    def _set_added_paths(self, paths: list[str]) -> None:
        set_added_model_paths(self.context.settings, paths)

    # -- listing ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Find the models again and re-check every added file's header."""
        self._list_generation += 1
        generation = self._list_generation
        self.listing = True
        self.list_error_label.hide()
        errors: list[str] = []

        def event(item: tuple[str, Any]) -> None:
            if generation != self._list_generation:
                return
            kind, payload = item
            if kind == "entries":
                selected = self.selected_key() or self.hub.current
                self.model.set_entries(payload)
                for entry in payload:
                    self.model.set_state_text(entry.key, self._state_text(entry.key, False))
                self.select_key(selected)
            elif kind == "entry":
                self.model.put(payload)
                if payload.key == self.selected_key():
                    self._show_selected()
            else:
                errors.append(str(payload))
                self.list_error_label.setText("\n".join(errors))
                self.list_error_label.show()

        def error(message: str) -> None:
            if generation == self._list_generation:
                self.list_error_label.setText(f"Could not list the models: {message}")
                self.list_error_label.show()

        def done() -> None:
            if generation == self._list_generation:
                self.listing = False
                self.models_listed.emit()

        self.context.tasks.start(list_models, self.added_paths(), self.sources.switched_off(),
                                 on_event=event, on_error=error, on_done=done)

    # -- adding -----------------------------------------------------------------------------

    def add_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add model files", str(Path.home()), "GGUF models (*.gguf);;All files (*)"
        )
        if paths:
            self.add_model_files(paths)

    def add_model_files(self, paths: list[str]) -> None:
        """Check each file's header off the GUI thread; add the good ones, and show the
        checker's own message for each bad one (nothing is added for those)."""
        wanted = [str(Path(p).expanduser().absolute()) for p in paths if str(p).strip()]
        if not wanted:
            return
        self.add_label.setText(f"Checking {len(wanted)} file{'s' if len(wanted) > 1 else ''}…")
        self.add_label.setStyleSheet("")
        self.add_label.show()
        added: list[str] = []
        refused: list[str] = []

        def event(item: tuple[str, ModelInfo | None, str | None]) -> None:
            path, info, message = item
            if info is None:
                refused.append(message or f"{Path(path).name}: not a usable model file")
                self.add_failed.emit(path, refused[-1])
                return
            key = self._add_entry(path, info)
            added.append(key)
            self.model_added.emit(key)

        def error(message: str) -> None:
            refused.append(message)

        def done() -> None:
            lines = [f"Added {Path(k).name}" for k in added] + refused
            self.add_label.setText("\n".join(lines))
            self.add_label.setStyleSheet(ERROR_STYLE if refused else "")
            self.add_label.setVisible(bool(lines))
            if added:
                self.select_key(added[-1])

        self.context.tasks.start(validate_files, wanted, on_event=event, on_error=error,
                                 on_done=done)

    def _add_entry(self, path: str, info: ModelInfo) -> str:
        """The row for a checked file: an existing one (same file) is refreshed, not doubled."""
        resolved = Path(path).resolve()
        for entry in self.model.entries:
            if entry.path is not None and Path(entry.path).resolve() == resolved:
                self.model.put(dataclasses.replace(entry, info=info, error=None, missing=False))
                return entry.key
        self.model.put(ModelEntry(path, model_display_name(path), "added", path, info))
        self.model.set_state_text(path, self._state_text(path, False))
        self._set_added_paths([*self.added_paths(), path])
        return path

    def remove_selected(self) -> None:
        entry = self.selected_entry()
        if entry is None or entry.source != "added":
            return
        self._set_added_paths([p for p in self.added_paths() if p != entry.key])
        self.model.remove(entry.key)
        self._show_selected()

    def _dropped(self, event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls()
                if u.isLocalFile() and u.toLocalFile().lower().endswith(".gguf")]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped(event)
        if paths:
            event.acceptProposedAction()
            self.add_model_files(paths)

    # -- selection --------------------------------------------------------------------------

    def selected_entry(self) -> ModelEntry | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.entry(index.row())

    def selected_key(self) -> str | None:
        entry = self.selected_entry()
        return entry.key if entry is not None else None

    def select_key(self, key: str | None) -> None:
        row = self.model.row_of(key) if key else None
        if row is None and self.model.rowCount():
            row = 0
        if row is None:
            self._show_selected()
            return
        self.table.selectionModel().setCurrentIndex(
            self.model.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self._show_selected()

    def _selection_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        entry = self.selected_entry()
        self.details.show_entry(entry)
        options = self.hub.options_for(entry.key) if entry else LoadOptions()
        self.settings_box.fill(entry, options)
        self.chat_format_box.fill(entry, options.chat_format)
        self._update_memory()
        self._update_state()

    # -- load settings and memory -----------------------------------------------------------

    def chosen_options(self) -> LoadOptions:
        return dataclasses.replace(self.settings_box.chosen_options(),
                                   chat_format=self.chat_format_box.chosen())

    def _options_changed(self) -> None:
        entry = self.selected_entry()
        if entry is not None and not entry.remote and entry.usable:
            try:
                self.hub.set_options(entry.key, self.chosen_options())
            except PlaygroundError as exc:
                self.settings_box.warn(str(exc))
                return
            self.model.set_chat_format(entry.key, self.chat_format_box.chosen())
        self._update_memory()
        self._update_state()

    def _update_memory(self) -> None:
        self.settings_box.update_memory(self.selected_entry(), available=self.available_memory,
                                        gpu_supported=self.gpu_supported)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._probe_pending:
            self._probe_pending = False
            self.context.tasks.start(_gpu_probe, on_event=self._gpu_probed)

    def _gpu_probed(self, supported: bool | None) -> None:
        if supported is None or self.gpu_supported is not None:
            return
        self.gpu_supported = supported
        self.context.settings.setValue(GPU_KEY, "yes" if supported else "no")
        self._update_memory()

    # -- state ------------------------------------------------------------------------------

    def _state_text(self, key: str, detailed: bool) -> str:
        return state_text(self.hub, key, pending=key in self._pending, detailed=detailed)

    def _state_changed(self, key: str, _state: str) -> None:
        self._refresh_state(key)

    def _refresh_state(self, key: str) -> None:
        self.model.set_state_text(key, self._state_text(key, False))
        if key == self.selected_key():
            self._update_state()

    def _update_state(self) -> None:
        entry = self.selected_entry()
        self.state_box.show_state(
            self.hub, entry, pending=entry is not None and entry.key in self._pending,
            load_error=self._load_errors.get(entry.key) if entry is not None else None)

    def _loaded(self, key: str, loaded: LoadedModel | None) -> None:
        self._pending.discard(key)
        self._load_errors.pop(key, None)
        if loaded is not None:
            self.gpu_supported = loaded.gpu_offload_supported
            self.context.settings.setValue(GPU_KEY, "yes" if self.gpu_supported else "no")
            if key == self.selected_key():
                self._update_memory()
        self._refresh_state(key)

    def _failed(self, key: str, message: str) -> None:
        self._pending.discard(key)
        self._load_errors[key] = f"Could not load: {message}"
        self._refresh_state(key)

    def _current_changed(self, key: str) -> None:
        self.model.set_current(key)
        self._update_state()

    # -- actions ----------------------------------------------------------------------------

    def _start_load(self, key: str, restart: bool) -> None:
        self._pending.add(key)
        self._load_errors.pop(key, None)
        self._refresh_state(key)
        self.hub.load(key, restart=restart)

    def load_selected(self) -> None:
        entry = self.selected_entry()
        if entry is None or not entry.usable:
            return
        if not entry.remote:
            self.hub.set_options(entry.key, self.chosen_options())
        self._start_load(entry.key, restart=False)

    def restart_selected(self) -> None:
        """A fresh worker; with changed settings it is a new load with them."""
        entry = self.selected_entry()
        if entry is None or not entry.usable:
            return
        backend = self.hub.backend(entry.key)
        restart = True
        if not entry.remote:
            options = self.chosen_options()
            self.hub.set_options(entry.key, options)
            restart = not isinstance(backend, LocalBackend) or backend.options == options
        self._start_load(entry.key, restart=restart)

    def unload_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None:
            self.hub.unload(entry.key)

    def use_selected(self) -> None:
        entry = self.selected_entry()
        if entry is not None and entry.usable:
            self.hub.set_current(entry.key)
            self.context.status.emit(f"New Playground runs use {entry.name}")
