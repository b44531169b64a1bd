"""The Evaluate tab's writes, one at a time in the order they were made, so "undo" always
removes the judgement the judge gave last."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from playground.storage.store import Store
from ui.context import AppContext
from ui.views.evaluate.lifetime import live
from ui.views.evaluate.tasks import write

Operation = Callable[[Store], Any]


class WriteQueue(QObject):
    """Runs each write in a task of its own once the one before it has ended."""

    #: a write was saved (before its own callback runs)
    saved = Signal()
    #: a write failed (its message, before its own callback runs)
    failed = Signal(str)
    #: no write is waiting or running any more
    drained = Signal()

    def __init__(self, context: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._writes: list[tuple[Operation, Callable[[Any], None], Callable[[], None]]] = []
        self._writing = False

    @property
    def busy(self) -> bool:
        return self._writing or bool(self._writes)

    def enqueue(self, operation: Operation, on_result: Callable[[Any], None] | None = None,
                on_failure: Callable[[], None] | None = None) -> None:
        """Save ``operation`` after every write asked for before it."""
        self._writes.append((operation, on_result or (lambda _: None),
                             on_failure or (lambda: None)))
        if not self._writing:
            self._next()

    def _next(self) -> None:
        if not self._writes:
            self._writing = False
            self.drained.emit()
            return
        self._writing = True
        operation, on_result, on_failure = self._writes.pop(0)

        def failed(message: str) -> None:
            self.failed.emit(message)
            on_failure()

        def saved(value: Any) -> None:
            self.saved.emit()
            on_result(value)

        self.context.tasks.start(write, self.context.db_path, operation,
                                 on_event=live(self, saved), on_error=live(self, failed),
                                 on_done=live(self, self._next))
