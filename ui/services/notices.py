"""What the core logs for the user's attention, brought to the window.

The database says when opening it changed something (an upgrade with its backup, a damaged file
set aside) through the ``playground.storage`` logger; the window opens stores in many background
tasks, so one handler hears all of them and a queued signal carries the text to the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

NOTICE_LOGGER = "playground.storage"


class NoticeRelay(QObject):
    """Emits ``notice`` (on the GUI thread's side of a queued connection) for every warning
    the storage layer logs, from any thread, while attached."""

    notice = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        relay = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                relay.notice.emit(record.getMessage())

        self._handler = _Handler(logging.WARNING)
        logging.getLogger(NOTICE_LOGGER).addHandler(self._handler)

    def detach(self) -> None:
        logging.getLogger(NOTICE_LOGGER).removeHandler(self._handler)
