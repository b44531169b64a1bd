"""Replay a stored run and read the verdict: identical, or where it diverged and which
recorded settings differ now (the rules live in :mod:`playground.runs.replay`)."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from playground.events import Event, Token
from playground.runs.replay import ReplayReport, replay
from playground.runs.runner import CancelToken
from ui.context import AppContext
from ui.services.jobs import engine_job
from ui.widgets.palette import ERROR_STYLE


def replay_job(context: AppContext, run_id: int, cancel: CancelToken
               ) -> Iterator[Event | ReplayReport]:
    """The core replay in a task of its own: it waits for the engines like any run, and loads
    the run's model afresh with the recorded settings so that nothing cached from earlier runs
    changes the numbers."""
    return engine_job(context, cancel, lambda store: replay(store, run_id))


class ReplayDialog(QDialog):
    """Streams the replayed text, then shows the report; Stop ends the replay."""

    def __init__(self, context: AppContext, run_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.run_id = run_id
        self.report: ReplayReport | None = None
        self.setWindowTitle(f"Replay of run {run_id}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(640, 440)
        self.status_label = QLabel(f"Replaying run {run_id} with its recorded prompt, settings, "
                                   "seed and model…")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.report_text = QPlainTextEdit()
        self.report_text.setReadOnly(True)
        self.report_text.setFont(QFont("monospace"))
        self.report_text.hide()
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self._stop)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.stop_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(QLabel("Replayed text"))
        layout.addWidget(self.output, 1)
        layout.addWidget(self.report_text, 2)
        layout.addWidget(buttons)
        self._cancel = CancelToken()
        self._worker = context.tasks.start(
            replay_job, context, run_id, self._cancel,
            on_event=self._event, on_error=self._error, on_done=self._done,
        )

    def _event(self, item: Event | ReplayReport) -> None:
        if isinstance(item, Token):
            self.output.insertPlainText(item.text)
        elif isinstance(item, ReplayReport):
            self.report = item
            self.output.setPlainText(item.result.text)
            self.status_label.setText(item.verdict[0].upper() + item.verdict[1:])
            self.report_text.setPlainText("\n".join(item.lines()))
            self.report_text.show()

    def _error(self, message: str) -> None:
        self.status_label.setText(f"Run {self.run_id} could not be replayed: {message}")
        self.status_label.setStyleSheet(ERROR_STYLE)

    def _done(self) -> None:
        self.stop_button.setEnabled(False)

    def _stop(self) -> None:
        self._cancel.cancel()
        self._worker.quit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._stop()
        super().closeEvent(event)
