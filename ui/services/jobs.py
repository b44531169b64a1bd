"""Task functions the views start through :class:`~ui.services.tasks.TaskRunner`.

They are the core's generators with the window's concerns around them: waiting for the
engines, a database connection that belongs to the task's own thread, tokens relayed to the
GUI thread as they stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from PySide6.QtCore import QObject, Signal

from playground.comparison import ComparisonSpec
from playground.runs.runner import CancelToken, RunnerEvent, make_scorer, run_comparison
from playground.storage.store import Store
from ui.context import AppContext

T = TypeVar("T")


def engine_job(
    context: AppContext, cancel: CancelToken, work: Callable[[Store], Iterator[T]]
) -> Iterator[T]:
    """``work`` on the database once the engines are free, and the engines freed however it
    ends; nothing when cancelled while waiting. Every task that runs models goes through here
    (a comparison, a judge, a replay), so one waits for another instead of loading beside it."""
    if not context.hub.acquire(cancel):
        return
    try:
        with Store(context.db_path) as store:
            yield from work(store)
    finally:
        context.hub.engine_lock.release()


class TokenRelay(QObject):
    """Streamed tokens, carried to the GUI thread by a queued signal: (PlannedRun, Token)."""

    token = Signal(object, object)


def comparison_job(
    context: AppContext,
    spec: ComparisonSpec,
    cancel: CancelToken,
    relay: TokenRelay | None = None,
    *,
    save: bool = True,
    resume_id: int | None = None,
    perplexity: bool = False,
    concurrency: int = 1,
) -> Iterator[RunnerEvent]:
    """Run a comparison (a Playground run is a comparison of one variant on one input) and
    save it as it goes. Waits for the engines first; yields nothing if cancelled meanwhile."""
    if not context.hub.acquire(cancel):
        return
    try:
        store = Store(context.db_path) if save else None
        try:
            yield from run_comparison(
                spec,
                context.hub.pool,
                store=store,
                comparison_id=resume_id,
                scorer=make_scorer(spec.metrics, spec.language),
                cancel=cancel,
                perplexity=perplexity,
                concurrency=concurrency,
                on_token=relay.token.emit if relay is not None else None,
            )
        finally:
            if store is not None:
                store.close()
    finally:
        context.hub.engine_lock.release()
