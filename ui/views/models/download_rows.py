"""One row per download in the Get models panel: the file, a bar, bytes, speed and time left, and
Cancel. The download itself is the core's (a child process that a cancel stops at once); the row
only shows what the task reports and sets the cancel event."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from ui.views.models.get_models_tasks import fetch
from ui.widgets.palette import ERROR_STYLE

if TYPE_CHECKING:
    from playground.engine.download import Destination, Downloaded, Progress
    from playground.engine.hub import HubFile
    from ui.services.tasks import TaskRunner

#: The bar counts in KiB: a QProgressBar holds an int, and a model has more bytes than that.
_UNIT = 1024


class DownloadRow(QWidget):
    """A running (then finished, failed or stopped) download."""

    #: the file was downloaded and checked (its path)
    finished = Signal(str)
    #: the row's task has ended, whichever way
    ended = Signal()

    def __init__(self, file: HubFile, destination: Destination, tasks: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.file = file
        self.running = True
        self.cancel_event = threading.Event()
        self.name_label = QLabel(file.filename)
        self.name_label.setToolTip(f"{file.repo_id}: {file.filename}")
        self.name_label.setMinimumWidth(120)
        self.bar = QProgressBar()
        self.bar.setRange(0, max(1, file.size // _UNIT))
        self.bar.setTextVisible(True)
        self.bar.setFixedWidth(130)
        self.status_label = QLabel("starting…")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop this download; what arrived is kept, and Download "
                                      "resumes from there")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.name_label)
        layout.addWidget(self.bar)
        layout.addWidget(self.status_label, 1)
        layout.addWidget(self.cancel_button)
        tasks.start(fetch, file, destination, self.cancel_event, on_event=self._event,
                    on_error=self._error, on_done=self._done)

    def cancel(self) -> None:
        self.cancel_event.set()
        self.cancel_button.setEnabled(False)
        self.status_label.setText("stopping…")

    def _event(self, item: tuple[str, Any]) -> None:
        kind, payload = item
        if kind == "progress":
            self._progress(payload)
        elif kind == "done":
            self._downloaded(payload)

    def _progress(self, progress: Progress) -> None:
        if self.cancel_event.is_set():
            return
        self.bar.setRange(0, max(1, progress.total // _UNIT))
        self.bar.setValue(min(progress.done, progress.total) // _UNIT)
        self.bar.setFormat("checking %p%" if progress.stage == "checking" else "%p%")
        self.status_label.setText(progress.describe())

    def _downloaded(self, got: Downloaded) -> None:
        self.bar.setValue(self.bar.maximum())
        if got.already_there:
            text = f"already downloaded: {got.path}"
        else:
            checked = "SHA-256 checked" if got.sha256_checked else "no SHA-256 listed to check"
            text = f"done ({checked}): {got.path}"
        self.status_label.setText(text)
        self.status_label.setToolTip(str(got.path))
        self.finished.emit(str(got.path))

    def _error(self, message: str) -> None:
        stopped = self.cancel_event.is_set()
        self.status_label.setText(f"Stopped: {message}" if stopped else message)
        self.status_label.setStyleSheet("" if stopped else ERROR_STYLE)
        self.bar.setFormat("stopped" if stopped else "failed")

    def _done(self) -> None:
        self.running = False
        self.cancel_button.hide()
        self.ended.emit()
