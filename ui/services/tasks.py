"""Background work for the window: core generators run on pool threads, results come back as
signals, so the event loop never waits on a model, a render, a score or the database."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import GeneratorWorker, create_worker

from playground.errors import PlaygroundError
from playground.terminal import escape_controls

log = logging.getLogger("playground.ui")
Worker = GeneratorWorker[Any, Any, Any]


def describe_error(exc: BaseException) -> str:
    """The message a person reads: the core's own words for its errors, a short plain sentence
    (never a traceback) for anything unexpected, whose details go to the log."""
    if isinstance(exc, PlaygroundError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "the computer ran out of memory for this task"
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    log.error("unexpected error:\n%s", "".join(traceback.format_exception(exc)))
    text = str(exc).strip() or type(exc).__name__
    return escape_controls(f"something went wrong: {text}")


class TaskError(Exception):
    """A RuntimeError from a task, renamed: superqt reads RuntimeError as "the worker was
    deleted" and would drop the task silently, without its error or finished signals."""


def _guarded(func: Callable[..., Iterator[Any]], *args: Any, **kwargs: Any) -> Iterator[Any]:
    try:
        yield from func(*args, **kwargs)
    except RuntimeError as exc:
        raise TaskError(str(exc) or type(exc).__name__) from exc


class _ClosingWorker(GeneratorWorker):  # type: ignore[type-arg]
    """Closes the generator on its own thread when the task stops early, so a task's
    ``finally`` (closing a database, cancelling a backend) runs where the task ran."""

    def work(self) -> Any:
        try:
            return super().work()
        finally:
            gen = getattr(self, "_gen", None)
            if gen is not None:
                try:
                    gen.close()
                except Exception as exc:  # a cleanup failure must not hide the task's result
                    log.error("closing a task failed: %s", exc)


class TaskRunner(QObject):
    """Starts generator tasks on Qt's thread pool and keeps track of the ones running.

    A task is a plain generator function from the core's point of view: it yields events and
    stops at the next yield once ``quit()`` is asked. Each task gets an ``on_event`` for what it
    yields, ``on_error`` with a readable message, and ``on_done`` when it has ended either way.
    """

    busy_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workers: set[Worker] = set()
        self._closed = False

    def start(
        self,
        func: Callable[..., Iterator[Any]],
        *args: Any,
        on_event: Callable[[Any], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        on_done: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> Worker:
        worker = create_worker(
            _guarded, func, *args, _start_thread=False, _worker_class=_ClosingWorker,
            _ignore_errors=True, **kwargs
        )
        assert isinstance(worker, GeneratorWorker), "tasks are generator functions"
        if on_event is not None:

            def yielded(value: Any) -> None:
                if not self._closed:
                    on_event(value)

            worker.yielded.connect(yielded)

        def errored(exc: BaseException) -> None:
            message = describe_error(exc)
            if on_error is not None and not self._closed:
                on_error(message)
            else:
                log.error("background task failed: %s", message)

        worker.errored.connect(errored)

        def finished(*_: object) -> None:
            self._workers.discard(worker)
            self.busy_changed.emit(len(self._workers))
            if on_done is not None and not self._closed:
                on_done()

        worker.finished.connect(finished)
        self._workers.add(worker)
        self.busy_changed.emit(len(self._workers))
        worker.start()
        return worker

    @property
    def running(self) -> int:
        return len(self._workers)

    def stop_all(self, timeout_ms: int = 5000) -> bool:
        """Ask every task to stop and wait for the pool; True when all have ended."""
        for worker in list(self._workers):
            worker.quit()
        return QThreadPool.globalInstance().waitForDone(timeout_ms)

    def close(self, timeout_ms: int = 5000) -> bool:
        """On quit: stop every task, and deliver nothing from now on. A task's results reach
        the GUI thread as queued signals, which can still be pending once its thread has
        ended; delivered after the window is gone, they would reach deleted widgets (and a
        history reload they trigger would start new work on a closed window)."""
        self._closed = True
        return self.stop_all(timeout_ms)
