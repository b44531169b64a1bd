"""The prompt as the model will read it, and its size in tokens, kept up to date while the
template, its values or the settings change.

Rendering and counting happen in a task (:func:`playground.runs.preview.preview_prompt`), at
most one at a time: changes made meanwhile start one more when it ends, and a result overtaken
by a newer change is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from playground.engine.backends import Backend
from playground.runs.preview import EngineLock, PromptPreview, preview_prompt
from playground.sampling import SamplingParams
from ui.context import AppContext
from ui.widgets.palette import ERROR_STYLE, WARNING_STYLE

PREVIEW_DEBOUNCE_MS = 250


@dataclass(frozen=True)
class PreviewRequest:
    """What the preview renders: the template as edited, with the values and settings shown."""

    source: str
    template_id: str
    values: Mapping[str, Any]
    library_sources: Mapping[str, str]
    params: SamplingParams


def preview_task(serial: int, request: PreviewRequest, backend: Backend | None,
                 special_tokens: Sequence[str],
                 engine_lock: EngineLock) -> Iterator[tuple[int, PromptPreview]]:
    yield serial, preview_prompt(request.source, request.template_id, request.values,
                                 request.library_sources, request.params, backend,
                                 special_tokens, engine_lock)


class PreviewPanel(QWidget):
    """The rendered prompt, its token count (or why there is none) and its warnings.

    ``rendered`` carries every preview that is still current, errors included, for the editor
    to mark them and the variables form to follow an edited header.
    """

    rendered = Signal(object)

    def __init__(self, context: AppContext, request: Callable[[], PreviewRequest | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._request = request
        self._serial = 0
        self._busy = False
        self._dirty = False

        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tokens_label = QLabel("—")
        self.tokens_label.setWordWrap(True)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(WARNING_STYLE)
        self.warnings.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(QLabel("<b>Prompt preview</b>"))
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.tokens_label)
        layout.addWidget(self.warnings)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)

    @property
    def pending(self) -> bool:
        """Whether a preview is waiting for its debounce or being rendered."""
        return self._timer.isActive() or self._busy

    def schedule(self) -> None:
        """Preview again shortly (typing restarts the wait)."""
        self._timer.start()

    def _start(self) -> None:
        request = self._request()
        if request is None:
            return
        if self._busy:
            self._dirty = True
            return
        self._busy = True
        self._dirty = False
        self._serial += 1
        hub = self.context.hub
        backend = hub.backend(hub.current) if hub.current else None
        loaded = hub.loaded_model(hub.current) if hub.current else None
        self.context.tasks.start(
            preview_task, self._serial, request, backend,
            loaded.special_tokens if loaded is not None else (), hub.engine_lock,
            on_event=self._show, on_error=self._failed, on_done=self._done,
        )

    def _done(self) -> None:
        self._busy = False
        if self._dirty:
            self._start()

    def _failed(self, message: str) -> None:
        self.tokens_label.setText(f"Preview failed: {message}")

    def _show(self, item: tuple[int, PromptPreview]) -> None:
        serial, outcome = item
        if serial != self._serial or self._dirty:
            return  # the template or values changed since: a newer preview follows
        if outcome.error is not None:
            self.tokens_label.setText("The template cannot be rendered (see above).")
            self.tokens_label.setStyleSheet(ERROR_STYLE)
            self.rendered.emit(outcome)
            return
        self.preview.setPlainText(outcome.text)
        if outcome.tokens is not None and outcome.n_ctx is not None:
            text = f"{outcome.tokens:,} / {outcome.n_ctx:,} tokens"
            if outcome.fit_warning:
                text += f" — does not fit: {outcome.fit_warning}"
            self.tokens_label.setText(text)
            self.tokens_label.setStyleSheet(ERROR_STYLE if outcome.fit_warning else "")
        else:
            self.tokens_label.setText(
                f"Rendered template ({len(outcome.text):,} characters); {outcome.note}")
            self.tokens_label.setStyleSheet("")
        self.warnings.setText("\n".join(f"⚠ {w}" for w in outcome.warnings))
        self.warnings.setVisible(bool(outcome.warnings))
        self.rendered.emit(outcome)
