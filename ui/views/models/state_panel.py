"""Where a model stands in the window (not loaded, loading, ready with its load facts, crashed
with the reason) and the buttons that change it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from playground.engine.backends import LocalBackend
from playground.engine.endpoints import is_remote
from ui.services.hub import ModelHub
from ui.views.models.details_panel import error_label
from ui.widgets.item_models import ModelEntry
from ui.widgets.palette import WARNING_STYLE


def state_text(hub: ModelHub, key: str, *, pending: bool, detailed: bool) -> str:
    """A model's state in words: short for the table, with load facts and what to do next
    for the panel."""
    if pending:
        return "loading…"
    state = hub.state(key)
    if state == "loading":
        return "loading…"
    if state == "ready":
        loaded = hub.loaded_model(key)
        if loaded is None:
            return "ready (remote)" if is_remote(key) else "ready"
        text = (f"ready (loaded in {loaded.load_s:.1f} s, {loaded.n_threads} threads, "
                f"n_ctx {loaded.n_ctx:,})")
        if detailed and loaded.options != hub.options_for(key):
            text += "; the settings were changed: press Load to apply them"
        return text
    if state == "crashed":
        if not detailed:
            return "crashed"
        backend = hub.backend(key)
        crash = backend.last_crash if isinstance(backend, LocalBackend) else None
        return "crashed" + (f": {crash}" if crash else "") + "; press Restart"
    return state


class ModelStatePanel(QGroupBox):
    """The selected model's state, its load warnings and error, and Load, Unload, Restart and
    Use in Playground (each enabled only when it applies)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("State", parent)
        layout = QVBoxLayout(self)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings_label = QLabel()
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setStyleSheet(WARNING_STYLE)
        self.warnings_label.hide()
        self.load_error_label = error_label()
        self.load_button = QPushButton("Load")
        self.unload_button = QPushButton("Unload")
        self.restart_button = QPushButton("Restart")
        self.restart_button.setToolTip("Start the model's worker again (after a crash, or to "
                                       "apply new settings)")
        self.use_button = QPushButton("Use in Playground")
        self.use_button.setToolTip("New Playground runs and Compare columns start with it")
        buttons = QHBoxLayout()
        for button in self.buttons():
            buttons.addWidget(button)
        layout.addWidget(self.state_label)
        layout.addWidget(self.warnings_label)
        layout.addWidget(self.load_error_label)
        layout.addLayout(buttons)

    def buttons(self) -> tuple[QPushButton, ...]:
        return (self.load_button, self.unload_button, self.restart_button, self.use_button)

    def show_state(self, hub: ModelHub, entry: ModelEntry | None, *, pending: bool,
                   load_error: str | None) -> None:
        if entry is None:
            self.state_label.clear()
            self.warnings_label.hide()
            self.load_error_label.hide()
            for button in self.buttons():
                button.setEnabled(False)
            return
        key = entry.key
        state = "loading" if pending else hub.state(key)
        if entry.missing:
            text = "missing: the file is no longer there"
        elif entry.error:
            text = "cannot be used: the file is not a valid model"
        else:
            text = state_text(hub, key, pending=pending, detailed=True)
        current = key == hub.current
        self.state_label.setText(text + ("\nIn use in the Playground." if current else ""))
        loaded = hub.loaded_model(key)
        warnings = loaded.warnings if loaded is not None and state == "ready" else ()
        self.warnings_label.setText("\n".join(f"⚠ {w}" for w in warnings))
        self.warnings_label.setVisible(bool(warnings))
        self.load_error_label.setText(load_error or "")
        self.load_error_label.setVisible(bool(load_error))
        changed = loaded is not None and loaded.options != hub.options_for(key)
        usable = entry.usable
        self.load_button.setEnabled(usable and (state in ("unloaded", "crashed") or changed))
        self.unload_button.setEnabled(usable and state in ("ready", "crashed"))
        self.restart_button.setEnabled(usable and state in ("ready", "crashed"))
        self.use_button.setEnabled(usable and not current)
