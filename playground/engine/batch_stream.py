"""The parent's side of a batch: several requests sent to one worker at once, their events
read back as they come, each tagged with its request's place in the list.

The worker decodes them together (:mod:`playground.engine.batch`); here every request gets the
events a single generation gets (``Started``, ``Token``..., then ``Finished`` or ``Failed``),
one request can be cancelled while the others go on, and a worker that dies fails every request
still in flight with the usual :class:`~playground.errors.WorkerCrashed` message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from playground.engine.pipe import next_message
from playground.engine.streamed import RequestStream
from playground.errors import GenerationError, WorkerCrashed
from playground.events import Event, GenerationRequest

if TYPE_CHECKING:
    from playground.engine.backends import LocalBackend


class BatchStream:
    """Events of several requests decoded together: iterate for ``(index, event)`` pairs.

    Every request ends with one ``Finished`` or ``Failed``. ``cancel(index)`` ends one request
    (the others go on); ``cancel_all()`` ends them all. Both are safe from any thread.
    """

    def __init__(self, backend: LocalBackend, requests: Sequence[GenerationRequest]) -> None:
        self.backend = backend
        self.requests = [
            dataclasses.replace(r, params=r.params.with_seed()) for r in requests
        ]
        self._states: list[RequestStream] = []
        self._send_lock = threading.Lock()

    def cancel(self, index: int) -> None:
        """End request ``index``; the others continue."""
        if index < len(self._states) and not self._states[index].ended:
            conn = self.backend._conn
            if conn is not None:
                with self._send_lock, contextlib.suppress(OSError):
                    conn.send(("cancel", self._states[index].req_id))

    def cancel_all(self) -> None:
        self.backend.cancel()

    def __iter__(self) -> Iterator[tuple[int, Event]]:
        backend = self.backend
        if not backend._lock.acquire(blocking=False):
            raise GenerationError("this model is busy with another request; cancel it first")
        try:
            yield from self._run()
        finally:
            if backend._active_id:
                backend._cancel.value = max(backend._cancel.value, backend._active_id)
            backend._active_id = 0
            backend._cancel_at = None
            backend._lock.release()

    def _run(self) -> Iterator[tuple[int, Event]]:
        backend = self.backend
        conn = backend._ensure_ready()
        assert backend.loaded is not None and backend._process is not None
        first_id = backend._next_id + 1
        backend._next_id += len(self.requests)
        # cancel() raises the shared counter to the last id: every request of the batch.
        backend._active_id = backend._next_id
        backend._cancel_at = None
        now = time.perf_counter()
        self._states = [
            RequestStream(r, first_id + i, now, backend._model_summary, backend.record,
                          queued=True)
            for i, r in enumerate(self.requests)
        ]
        by_id = {s.req_id: i for i, s in enumerate(self._states)}
        with self._send_lock:
            conn.send(("batch", first_id, [(s.req_id, s.request) for s in self._states]))
        sentinel = backend._process.sentinel
        left = len(self._states)
        while left:
            message, gone = next_message(conn, sentinel)
            if message is not None:
                index = by_id.get(message[1]) if len(message) > 1 else None
                if index is None:
                    continue  # a late reply to an earlier request
                state = self._states[index]
                for event in state.events(message):
                    yield index, event
                if state.ended:
                    left -= 1
            elif gone:
                yield from self._end_all(backend._worker_ended())
                return
            if backend._stop_if_overdue():
                yield from self._end_all(None)
                return

    def _end_all(self, crash: WorkerCrashed | None) -> Iterator[tuple[int, Event]]:
        """Every request still open ends: cancelled (the worker was stopped on purpose), or
        failed with the crash that took the worker down."""
        for index, state in enumerate(self._states):
            if not state.ended:
                yield index, state.end(crash)
