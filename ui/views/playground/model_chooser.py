"""Which model the Playground's runs go to (the same current model as the Models tab), its
state, and a button to load it before the first run."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QWidget

from playground.engine.endpoints import is_remote
from playground.engine.models import ModelChoices, model_display_name
from ui.context import AppContext
from ui.services.model_list import (
    added_model_paths,
    model_choices_task,
    switched_off_sources,
)

_STATES = {"unloaded": "not loaded", "loading": "loading…", "ready": "ready", "crashed": "crashed"}


class ModelChooser(QWidget):
    """A row: the model list, the current model's state, and Load (Restart after a crash)."""

    #: the current model, or its state, changed (a token count may be possible now)
    changed = Signal()
    #: a load this row asked for failed (the loader's message)
    load_failed = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._load_requested = False

        self.combo = QComboBox()
        self.combo.setToolTip("The model runs go to (shared with the Models tab)")
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(18)
        self.state = QLabel()
        # A fixed width: a state change must not re-lay out the panel (and repaint its sliders)
        # while a model loads, when every bit of Python in the window waits for the loader.
        self.state.setFixedWidth(self.state.fontMetrics().horizontalAdvance("not loaded  ") + 8)
        self.load_button = QToolButton()
        self.load_button.setText("Load")
        self.load_button.setToolTip("Load the model now (a run loads it too)")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Model"))
        row.addWidget(self.combo, 1)
        row.addWidget(self.state)
        row.addWidget(self.load_button)

        self.combo.activated.connect(self._chosen)
        self.load_button.clicked.connect(self.load)
        hub = context.hub
        hub.current_changed.connect(self._current_changed)
        hub.state_changed.connect(self._state_changed)
        hub.loaded.connect(self._loaded)
        hub.failed.connect(self._failed)

    def refresh(self) -> None:
        """List the models again (off the GUI thread)."""
        settings = self.context.settings
        self.context.tasks.start(model_choices_task, added_model_paths(settings),
                                 switched_off_sources(settings), on_event=self._fill)

    def _fill(self, listing: ModelChoices) -> None:
        with QSignalBlocker(self.combo):
            self.combo.clear()
            for choice in listing.usable():
                self.combo.addItem(choice.name, choice.key)
                self.combo.setItemData(self.combo.count() - 1,
                                       f"{choice.key}\n({choice.source_label})",
                                       Qt.ItemDataRole.ToolTipRole)
        self._select(self.context.hub.current)

    def _select(self, key: str) -> None:
        with QSignalBlocker(self.combo):
            index = self.combo.findData(key)
            if index < 0 and key:
                self.combo.addItem(model_display_name(key), key)
                index = self.combo.count() - 1
            self.combo.setCurrentIndex(index)

    def _chosen(self, index: int) -> None:
        key = self.combo.itemData(index)
        if isinstance(key, str):
            self.context.hub.set_current(key)

    def _current_changed(self, key: str) -> None:
        self._select(key)
        self.show_state()
        self.changed.emit()

    def _state_changed(self, key: str, _state: str) -> None:
        if key == self.context.hub.current:
            self.show_state()
            self.changed.emit()

    def _loaded(self, key: str, _loaded: object) -> None:
        self._load_requested = False
        self._state_changed(key, "ready")

    def show_state(self) -> None:
        hub = self.context.hub
        state = hub.state(hub.current) if hub.current else "unloaded"
        shown = "remote" if is_remote(hub.current) else _STATES.get(state, state)
        self.state.setText(shown)
        self.load_button.setEnabled(state in ("unloaded", "crashed")
                                    and not is_remote(hub.current) and bool(hub.current))
        self.load_button.setText("Restart" if state == "crashed" else "Load")

    def load(self) -> None:
        hub = self.context.hub
        if hub.current:
            self._load_requested = True
            hub.load(hub.current, restart=hub.state(hub.current) == "crashed")
            self.state.setText("loading…")
            self.load_button.setEnabled(False)

    def _failed(self, key: str, message: str) -> None:
        if key != self.context.hub.current:
            return
        self.show_state()
        self.state.setToolTip(message)
        if self._load_requested:
            self.load_failed.emit(message)
        self._load_requested = False
