"""The Models tab: which models there are, what is in them, how they load, and their state.

Model files are read (header only, :func:`playground.engine.gguf.read_gguf`) on a background task,
never in the GUI thread: a model folder on a slow disk or a hostile file must not freeze the
window. Loading goes through the shared :class:`~ui.services.hub.ModelHub`, so the Playground,
Compare and Evaluate tabs use the very worker this tab starts.
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
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from playground.engine.backends import LoadedModel, LocalBackend
from playground.engine.endpoints import PREFIX, load_endpoints
from playground.engine.gguf import ModelInfo, read_gguf
from playground.engine.memory import available_memory, check_fits, estimate_memory, format_bytes
from playground.engine.models import catalog_entry, discover_models
from playground.engine.worker import LoadOptions, default_threads, probe_gpu_offload
from playground.errors import InsufficientMemoryError, ModelFileError, PlaygroundError
from ui.context import AppContext
from ui.widgets.item_models import ModelEntry, ModelTableModel

#: QSettings key of the GGUF files the user added (a list of paths).
ADDED_KEY = "models/added"
#: QSettings key of each model's load settings (JSON: key -> settings).
OPTIONS_KEY = "models/options"
#: What the last loaded worker said about GPU offload in this llama.cpp build.
GPU_KEY = "models/gpu_offload_supported"
MAX_CONTEXT = 1 << 20

_SOURCES = {"bundled": "bundled", "env": "PLAYGROUND_MODELS", "user": "models folder",
            "path": "path"}


# -- background work --------------------------------------------------------------------------


def list_models(added: list[str]) -> Iterator[tuple[str, Any]]:
    """Every model on offer, then each local file's header as it is read.

    Yields ``("entries", [ModelEntry])`` once, then ``("entry", ModelEntry)`` per file read,
    and ``("error", message)`` for a saved-endpoints file that cannot be read.
    """
    entries: list[ModelEntry] = []
    seen: set[Path] = set()
    for found in discover_models():
        seen.add(found.path.resolve())
        entries.append(ModelEntry(str(found.path), found.name, _SOURCES.get(found.source,
                                                                             found.source),
                                  str(found.path)))
    for text in added:
        path = Path(text)
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        entries.append(ModelEntry(text, path.stem, "added", text, missing=not path.is_file()))
    try:
        endpoints = load_endpoints()
    except PlaygroundError as exc:
        endpoints = {}
        yield "error", f"Saved remote endpoints: {exc}"
    for endpoint in endpoints.values():
        entries.append(ModelEntry(PREFIX + endpoint.name, PREFIX + endpoint.name, "remote",
                                  endpoint=endpoint))
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
        self._filling_spins = False
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
        self.list_error_label = self._error_label()

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(list_buttons)
        left_layout.addWidget(self.add_label)
        left_layout.addWidget(self.list_error_label)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self._details_box())
        right_layout.addWidget(self._settings_box())
        right_layout.addWidget(self._state_box())
        right_layout.addStretch(1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self._show_selected()

    def _error_label(self) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setStyleSheet("color: #b00020;")
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.hide()
        return label

    def _details_box(self) -> QGroupBox:
        box = QGroupBox("Model")
        form = QFormLayout(box)
        self.detail_labels: dict[str, QLabel] = {}
        for key, title in (
            ("name", "Name"), ("file", "File"), ("architecture", "Architecture"),
            ("parameters", "Parameters"), ("quant", "Quantisation"), ("layers", "Layers"),
            ("heads", "Attention heads (KV)"), ("head_dim", "Head size"),
            ("context", "Trained context"), ("chat", "Chat template"), ("size", "File size"),
            ("license", "Licence"), ("notes", "Notes"),
        ):
            label = QLabel()
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(title + ":", label)
            self.detail_labels[key] = label
        self.model_error_label = self._error_label()
        form.addRow(self.model_error_label)
        return box

    def _settings_box(self) -> QGroupBox:
        box = QGroupBox("Load settings")
        form = QFormLayout(box)
        self.ctx_spin = QSpinBox()
        self.ctx_spin.setRange(0, MAX_CONTEXT)
        self.ctx_spin.setSingleStep(256)
        self.ctx_spin.setSpecialValueText("trained context")
        self.ctx_spin.setToolTip("Tokens the model can see at once (prompt and output); "
                                 "0 uses the context the model was trained for")
        self.gpu_spin = QSpinBox()
        self.gpu_spin.setRange(-1, 999)
        self.gpu_spin.setSpecialValueText("all layers")
        self.gpu_spin.setToolTip("Layers to offload to the GPU; -1 offloads all, 0 none")
        self.threads_spin = QSpinBox()
        self.threads_spin.setRange(1, 512)
        self.threads_spin.setValue(default_threads())
        self.threads_spin.setToolTip(
            f"CPU threads; {default_threads()} (the physical cores) is usually fastest"
        )
        for spin in (self.ctx_spin, self.gpu_spin, self.threads_spin):
            spin.valueChanged.connect(self._options_changed)
        self.gpu_label = QLabel()
        self.gpu_label.setWordWrap(True)
        self.memory_label = QLabel()
        self.memory_label.setWordWrap(True)
        self.memory_warning = self._error_label()
        form.addRow("Context size:", self.ctx_spin)
        form.addRow("GPU layers:", self.gpu_spin)
        form.addRow(self.gpu_label)
        form.addRow("Threads:", self.threads_spin)
        form.addRow("Memory:", self.memory_label)
        form.addRow(self.memory_warning)
        self.settings_box = box
        return box

    def _state_box(self) -> QGroupBox:
        box = QGroupBox("State")
        layout = QVBoxLayout(box)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings_label = QLabel()
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setStyleSheet("color: #8a5a00;")
        self.warnings_label.hide()
        self.load_error_label = self._error_label()
        self.load_button = QPushButton("Load")
        self.load_button.clicked.connect(self.load_selected)
        self.unload_button = QPushButton("Unload")
        self.unload_button.clicked.connect(self.unload_selected)
        self.restart_button = QPushButton("Restart")
        self.restart_button.setToolTip("Start the model's worker again (after a crash, or to "
                                       "apply new settings)")
        self.restart_button.clicked.connect(self.restart_selected)
        self.use_button = QPushButton("Use in Playground")
        self.use_button.setToolTip("New Playground runs and Compare columns start with it")
        self.use_button.clicked.connect(self.use_selected)
        buttons = QHBoxLayout()
        for button in (self.load_button, self.unload_button, self.restart_button,
                       self.use_button):
            buttons.addWidget(button)
        layout.addWidget(self.state_label)
        layout.addWidget(self.warnings_label)
        layout.addWidget(self.load_error_label)
        layout.addLayout(buttons)
        return box

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
                )
            except PlaygroundError:
                continue  # settings from another machine or version: the defaults apply
            self.hub.set_options(str(key), options)

    def save_settings(self, settings: QSettings) -> None:
        saved = {}
        for entry in self.model.entries:
            if entry.remote:
                continue
            options = self.hub.options_for(entry.key)
            if options != LoadOptions():
                saved[entry.key] = {"n_ctx": options.n_ctx, "n_gpu_layers": options.n_gpu_layers,
                                    "n_threads": options.n_threads}
        settings.setValue(OPTIONS_KEY, json.dumps(saved))
        settings.setValue("models/splitter", self.splitter.saveState())

    def added_paths(self) -> list[str]:
        value = self.context.settings.value(ADDED_KEY, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [str(v) for v in value] if isinstance(value, list) else []

    def _set_added_paths(self, paths: list[str]) -> None:
        self.context.settings.setValue(ADDED_KEY, list(dict.fromkeys(paths)))

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

        self.context.tasks.start(list_models, self.added_paths(), on_event=event,
                                 on_error=error, on_done=done)

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
            self.add_label.setStyleSheet("color: #b00020;" if refused else "")
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
        self.model.put(ModelEntry(path, Path(path).stem, "added", path, info))
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
        self._show_details(entry)
        self._fill_spins(entry)
        self._update_memory()
        self._update_state()

    def _show_details(self, entry: ModelEntry | None) -> None:
        labels = self.detail_labels
        for label in labels.values():
            label.clear()
        self.model_error_label.hide()
        if entry is None:
            return
        labels["name"].setText(entry.name)
        if entry.endpoint is not None:
            endpoint = entry.endpoint
            labels["file"].setText(f"remote endpoint {endpoint.base_url}")
            labels["architecture"].setText(f"served model {endpoint.model}")
            key_from = (f"key from ${endpoint.api_key_env}" if endpoint.api_key_env
                        else "key from the OS keyring" if endpoint.api_key_keyring
                        else "no API key")
            labels["notes"].setText(key_from)
            return
        labels["file"].setText(entry.path or entry.key)
        if entry.missing or entry.error:
            self.model_error_label.setText(entry.summary())
            self.model_error_label.show()
            return
        info = entry.info
        if info is None:
            labels["architecture"].setText("reading the file…")
            return
        labels["name"].setText(f"{info.display_name} ({entry.name})"
                               if info.display_name != entry.name else entry.name)
        labels["architecture"].setText(info.architecture or "unknown")
        labels["parameters"].setText(f"{info.size_label} ({info.parameter_count:,})")
        quant = info.file_type or "unknown"
        if info.quant_types:
            mix = ", ".join(f"{name} × {count}" for name, count in
                            sorted(info.quant_types.items(), key=lambda kv: -kv[1]))
            quant += f" (tensors: {mix})"
        labels["quant"].setText(quant)
        labels["layers"].setText(str(info.block_count) if info.block_count else "unknown")
        heads = str(info.head_count) if info.head_count else "unknown"
        if info.head_count_kv:
            heads += f" ({info.head_count_kv} KV)"
        labels["heads"].setText(heads)
        labels["head_dim"].setText(str(info.head_dim) if info.head_dim else "unknown")
        labels["context"].setText(
            f"{info.context_length:,} tokens" if info.context_length else "not stated"
        )
        labels["chat"].setText("yes" if info.chat_template else "no (raw completion only)")
        labels["size"].setText(f"{format_bytes(info.file_size)} ({info.file_size:,} bytes)")
        catalog = catalog_entry(Path(entry.path)) if entry.path else None
        if catalog is not None:
            labels["license"].setText(str(catalog.get("license", "")))
            notes = str(catalog.get("notes", ""))
            upstream = catalog.get("upstream")
            labels["notes"].setText(notes + (f"\n{upstream}" if upstream else ""))
        else:
            labels["license"].setText("not in the catalog: check the model's own card")

    # -- load settings and memory -----------------------------------------------------------

    def _fill_spins(self, entry: ModelEntry | None) -> None:
        local = entry is not None and not entry.remote and entry.usable
        self.settings_box.setEnabled(local)
        if entry is None or not local:
            return
        options = self.hub.options_for(entry.key)
        self._filling_spins = True
        try:
            layers = entry.info.block_count if entry.info is not None else None
            self.gpu_spin.setMaximum(layers or 999)
            trained = entry.info.context_length if entry.info is not None else None
            self.ctx_spin.setSpecialValueText(
                f"trained context ({trained:,})" if trained else "trained context"
            )
            self.ctx_spin.setValue(options.n_ctx)
            self.gpu_spin.setValue(min(options.n_gpu_layers, self.gpu_spin.maximum()))
            self.threads_spin.setValue(options.n_threads or default_threads())
        finally:
            self._filling_spins = False

    def chosen_options(self) -> LoadOptions:
        """The spin boxes as load settings; the default thread count stays "default" so a
        model loaded elsewhere with defaults does not look changed."""
        threads = self.threads_spin.value()
        return LoadOptions(
            n_ctx=self.ctx_spin.value(),
            n_gpu_layers=self.gpu_spin.value(),
            n_threads=None if threads == default_threads() else threads,
        )

    def _options_changed(self) -> None:
        if self._filling_spins:
            return
        entry = self.selected_entry()
        if entry is not None and not entry.remote and entry.usable:
            try:
                self.hub.set_options(entry.key, self.chosen_options())
            except PlaygroundError as exc:
                self.memory_warning.setText(str(exc))
                self.memory_warning.show()
                return
        self._update_memory()
        self._update_state()

    def _update_memory(self) -> None:
        """The estimate for the chosen context and GPU layers, and a warning that quotes both
        the need and what is free when it will not fit."""
        self.memory_warning.hide()
        self._update_gpu_label()
        entry = self.selected_entry()
        if entry is None or entry.remote:
            self.memory_label.setText("not applicable (the model runs on the server)"
                                      if entry is not None else "")
            return
        info = entry.info
        if info is None:
            self.memory_label.setText("")
            return
        n_ctx = self.ctx_spin.value() or info.context_length or 4096
        gpu_layers = self.gpu_spin.value()
        warnings: list[str] = []
        try:
            estimate = check_fits(info, n_ctx, gpu_layers, available=self.available_memory())
        except InsufficientMemoryError as exc:
            estimate = estimate_memory(info, n_ctx, gpu_layers)
            warnings.append(f"Will not fit: {exc}")
        self.memory_label.setText(estimate.describe())
        if info.context_length and n_ctx > info.context_length:
            warnings.append(
                f"A context of {n_ctx:,} is larger than the {info.context_length:,} tokens the "
                "model was trained for; expect quality to drop past that point."
            )
        if gpu_layers != 0 and self.gpu_supported is False:
            warnings.append("This llama.cpp build cannot offload to a GPU: every layer runs on "
                            "the CPU, so the estimate's GPU share will be in RAM too.")
        if warnings:
            self.memory_warning.setText("\n".join(warnings))
            self.memory_warning.show()

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
        self._update_gpu_label()
        self._update_memory()

    def _update_gpu_label(self) -> None:
        if self.gpu_supported is None:
            text = "Checking whether this llama.cpp build supports GPU offload…"
        elif self.gpu_supported:
            text = "This llama.cpp build supports GPU offload."
        else:
            text = "This llama.cpp build has no GPU offload: GPU layers are ignored."
        self.gpu_label.setText(text)

    # -- state ------------------------------------------------------------------------------

    def _state_text(self, key: str, detailed: bool) -> str:
        if key in self._pending:
            return "loading…"
        state = self.hub.state(key)
        if state == "loading":
            return "loading…"
        if state == "ready":
            loaded = self.hub.loaded_model(key)
            if loaded is None:
                return "ready (remote)" if key.startswith(PREFIX) else "ready"
            text = (f"ready (loaded in {loaded.load_s:.1f} s, {loaded.n_threads} threads, "
                    f"n_ctx {loaded.n_ctx:,})")
            if detailed and loaded.options != self.hub.options_for(key):
                text += "; the settings were changed: press Load to apply them"
            return text
        if state == "crashed":
            if not detailed:
                return "crashed"
            backend = self.hub.backend(key)
            crash = backend.last_crash if isinstance(backend, LocalBackend) else None
            return "crashed" + (f": {crash}" if crash else "") + "; press Restart"
        return state

    def _state_changed(self, key: str, _state: str) -> None:
        self._refresh_state(key)

    def _refresh_state(self, key: str) -> None:
        self.model.set_state_text(key, self._state_text(key, False))
        if key == self.selected_key():
            self._update_state()

    def _update_state(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            self.state_label.clear()
            self.warnings_label.hide()
            self.load_error_label.hide()
            for button in (self.load_button, self.unload_button, self.restart_button,
                           self.use_button):
                button.setEnabled(False)
            return
        key = entry.key
        usable = entry.usable
        state = "loading" if key in self._pending else self.hub.state(key)
        if entry.missing:
            self.state_label.setText("missing: the file is no longer there")
        elif entry.error:
            self.state_label.setText("cannot be used: the file is not a valid model")
        else:
            self.state_label.setText(self._state_text(key, True))
        current = key == self.hub.current
        if current:
            self.state_label.setText(self.state_label.text() + "\nIn use in the Playground.")
        loaded = self.hub.loaded_model(key)
        warnings = loaded.warnings if loaded is not None and state == "ready" else ()
        self.warnings_label.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warnings_label.setVisible(bool(warnings))
        message = self._load_errors.get(key)
        self.load_error_label.setText(message or "")
        self.load_error_label.setVisible(bool(message))
        changed = loaded is not None and loaded.options != self.hub.options_for(key)
        self.load_button.setEnabled(usable and (state in ("unloaded", "crashed") or changed))
        self.unload_button.setEnabled(usable and state in ("ready", "crashed"))
        self.restart_button.setEnabled(usable and state in ("ready", "crashed"))
        self.use_button.setEnabled(usable and not current)

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
