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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playground.engine.pipe import next_message
from playground.errors import GenerationError, PlaygroundError, WorkerCrashed
from playground.events import (
    Event,
    Failed,
    Finished,
    GenerationRequest,
    Result,
    Started,
    Token,
    TokenLogprob,
)

if TYPE_CHECKING:
    from playground.engine.backends import LocalBackend


@dataclass
class _Request:
    """What the parent has heard of one request so far."""

    request: GenerationRequest
    req_id: int
    #: When the worker took it into a slot; a queued request's clock starts there.
    started_at: float
    rendered: str = ""
    prompt_tokens: int = 0
    clipped: bool = False
    pieces: list[str] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    first: float | None = None
    ended: bool = False


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
        self._states: list[_Request] = []
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
        self._states = [_Request(r, first_id + i, now) for i, r in enumerate(self.requests)]
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
                for event in self._events(state, message):
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
                state.ended = True
                if crash is None:
                    yield index, Finished(self._result(state, "cancelled"))
                else:
                    yield index, Failed(crash, self._result(state, "error", str(crash)))

    def _events(self, state: _Request, message: tuple[Any, ...]) -> Iterator[Event]:
        kind = message[0]
        if kind == "tokens":
            if state.first is None:
                state.first = time.perf_counter()
            for text, logprob in message[2]:
                state.pieces.append(text)
                if logprob is not None:
                    state.logprobs.append(logprob)
                yield Token(text, logprob)
        elif kind == "started":
            _, _, state.rendered, state.prompt_tokens, max_tokens, state.clipped = message
            state.started_at = time.perf_counter()
            yield Started(state.rendered, state.prompt_tokens, max_tokens, state.clipped)
        elif kind == "done":
            _, _, text, finish, state.prompt_tokens, completion, decode_s, run, token_ids = message
            state.ended = True
            result = self._result(state, finish, decode_s=decode_s, completion=completion,
                                  run=run, token_ids=token_ids)
            if result.text != text:  # never expected; the pipe is ordered
                result = dataclasses.replace(result, text=text)
            yield Finished(result)
        elif kind == "failed":
            from playground.engine.backends import _error

            state.ended = True
            error: PlaygroundError = _error(message[2], message[3])
            yield Failed(error, self._result(state, "error", str(error)))

    def _result(
        self,
        state: _Request,
        finish: Any,
        error: str | None = None,
        *,
        decode_s: float | None = None,
        completion: int | None = None,
        run: dict[str, Any] | None = None,
        token_ids: list[int] | None = None,
    ) -> Result:
        backend = self.backend
        n = len(state.pieces) if completion is None else completion
        tps = None
        if decode_s is not None and decode_s > 0 and n > 1:
            tps = (n - 1) / decode_s
        request = state.request
        clipped = state.clipped
        return Result(
            text="".join(state.pieces),
            finish_reason=finish,
            prompt_tokens=state.prompt_tokens,
            completion_tokens=n,
            ttft_s=None if state.first is None else state.first - state.started_at,
            tokens_per_second=tps,
            total_s=time.perf_counter() - state.started_at,
            rendered_prompt=state.rendered,
            params=request.params,
            model=backend.loaded.summary() if backend.loaded else {},
            max_tokens_clipped=clipped,
            logprobs=tuple(state.logprobs) if request.logprobs is not None else None,
            error=error,
            warnings=("max_tokens was reduced to fit the context window",) if clipped else (),
            record=backend.record(request, run),
            token_ids=tuple(token_ids) if token_ids is not None else None,
        )
