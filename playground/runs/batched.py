"""A comparison's local runs, each model's runs decoded together where its worker holds several
sequences (``--parallel N``, :mod:`playground.engine.batch`), one at a time otherwise.

The plan already groups runs by model and orders them by prompt, so the runs that share a
prefix (the samples of one cell, the inputs of one variant) reach the worker side by side and
copy each other's cached prompt. Outcomes come back as runs finish, in whatever order that is;
scoring and saving stay with the caller.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from playground.engine.backends import Backend, LocalBackend
from playground.errors import PlaygroundError
from playground.events import Failed, Finished, Token

if TYPE_CHECKING:
    from playground.runs.runner import (
        BackendPool,
        CancelToken,
        Outcome,
        PlannedRun,
        TokenCallback,
    )

Executed = tuple["PlannedRun", "Outcome | None", float]
Execute = Callable[
    ["PlannedRun", Callable[[], Backend], "CancelToken", "TokenCallback | None"], "Outcome | None"
]


def local_outcomes(
    items: Sequence[PlannedRun],
    pool: BackendPool,
    cancel: CancelToken,
    on_token: TokenCallback | None,
    execute: Execute,
) -> Iterator[Executed]:
    """Every local run's outcome; None as an outcome means cancelled (nothing after it)."""
    done: set[str] = set()
    for item in items:
        if cancel.cancelled:
            return
        model = item.variant.model
        if model in done:
            continue
        backend = _batching_backend(pool, model)
        if backend is not None:
            done.add(model)
            group = [p for p in items if p.variant.model == model]
            for executed in batched_outcomes(group, backend, cancel, on_token):
                yield executed
                if executed[1] is None:
                    return
            continue
        started = time.monotonic()
        outcome = execute(item, functools.partial(pool.get, model), cancel, on_token)
        yield item, outcome, time.monotonic() - started
        if outcome is None:
            return


def _batching_backend(pool: BackendPool, model: str) -> LocalBackend | None:
    """The model's backend when it decodes several sequences at once; None otherwise (and when
    it cannot be had: the run one at a time then reports why)."""
    try:
        backend = pool.get(model)
    except PlaygroundError:
        return None
    if isinstance(backend, LocalBackend) and backend.options.parallel > 1:
        return backend
    return None


def batched_outcomes(
    items: Sequence[PlannedRun],
    backend: LocalBackend,
    cancel: CancelToken,
    on_token: TokenCallback | None = None,
) -> Iterator[Executed]:
    """Run ``items`` on one worker's sequences; each outcome as its run finishes."""
    runnable = [p for p in items if p.request is not None]
    for item in items:
        if item.request is None:
            yield item, ("failed", None, item.error), 0.0
    if not runnable or cancel.cancelled:
        return
    stream = backend.generate_many([p.request for p in runnable if p.request is not None])
    remove = cancel.on_cancel(stream.cancel_all)
    started = time.monotonic()
    ended: set[int] = set()
    try:
        for index, event in stream:
            item = runnable[index]
            if isinstance(event, (Finished, Failed)):
                ended.add(index)
            if isinstance(event, Token):
                if on_token is not None:
                    on_token(item, event)
            elif isinstance(event, Finished):
                result = event.result
                seconds = result.total_s
                if result.finish_reason == "cancelled":
                    yield item, None, seconds
                    return
                yield item, ("ok", result, None), seconds
            elif isinstance(event, Failed):
                seconds = event.result.total_s if event.result else time.monotonic() - started
                yield item, ("failed", event.result, str(event.error)), seconds
    except PlaygroundError as exc:  # the worker could not be started
        for index, item in enumerate(runnable):
            if index not in ended:
                yield item, ("failed", None, str(exc)), 0.0
    finally:
        remove()
