"""The Playground's runs, one at a time: a new run replaces the one in flight, which ends in the
background with its results dropped; the current run's tokens and end arrive as signals.

Live runs are kept in History only as :class:`~playground.runs.live.LiveBurst` says: a Live run
replaced or stopped before it finished is deleted once its task has ended, and a finished one
replaces the burst's previous one.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from playground.comparison import ComparisonSpec
from playground.events import Token
from playground.runs.live import LiveBurst
from playground.runs.runner import CancelToken, ComparisonStarted, RunDone
from ui.context import AppContext
from ui.services.jobs import TokenRelay, comparison_job
from ui.services.tasks import Worker
from ui.views.history.tasks import delete_comparisons


@dataclass
class ActiveRun:
    """A run whose task has not ended, and what is known of it so far."""

    serial: int
    spec: ComparisonSpec
    random_seed: bool
    cancel: CancelToken
    relay: TokenRelay
    worker: Worker | None = None
    done: RunDone | None = None
    comparison_id: int | None = None
    #: what History calls it ("Run 3")
    label: str | None = None
    error: str | None = None
    streamed: int = 0
    #: started by Live rather than by hand
    live: bool = False

    @property
    def completed(self) -> bool:
        """Whether the run finished on its own (not stopped, replaced or failed)."""
        return self.done is not None and self.done.status == "ok"


class RunSession(QObject):
    """Starts, stops and replaces runs; reports only the current one."""

    #: a token of the current run, and whether it is the first
    token = Signal(object, bool)
    #: the current run finished (its RunDone, as saved)
    done = Signal(object)
    #: the current run's task failed (a readable message)
    failed = Signal(str)
    #: the current run's task ended, however it went (its ActiveRun)
    ended = Signal(object)

    def __init__(self, context: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._serial = 0
        self._current: ActiveRun | None = None
        #: every run whose task has not ended yet (a replaced run ends in the background)
        self._tasks: dict[int, ActiveRun] = {}
        #: the last run that finished (Regenerate runs its prompt again)
        self.last: ActiveRun | None = None
        #: which Live runs History keeps
        self.burst = LiveBurst()

    @property
    def running(self) -> bool:
        return self._current is not None

    def start(self, spec: ComparisonSpec, *, random_seed: bool, live: bool = False) -> ActiveRun:
        """Run ``spec``, saving it; a run in flight is abandoned first. A run by hand ends a
        Live burst: the burst's last finished run stays in History."""
        self.abandon()
        self._serial += 1
        if live:
            self.burst.started(time.monotonic())
        else:
            self.burst.end()
        relay = TokenRelay()
        run = ActiveRun(self._serial, spec, random_seed, CancelToken(), relay, live=live)
        relay.token.connect(functools.partial(self._on_token, run.serial))
        self._current = run
        self._tasks[run.serial] = run
        run.worker = self.context.tasks.start(
            comparison_job, self.context, spec, run.cancel, relay,
            on_event=functools.partial(self._on_event, run.serial),
            on_error=functools.partial(self._on_error, run.serial),
            on_done=functools.partial(self._on_done, run.serial),
        )
        return run

    def stop(self) -> bool:
        """Ask the current run to stop (what streamed is kept); False when none runs."""
        run = self._current
        if run is None:
            return False
        run.cancel.cancel()
        if run.worker is not None:
            run.worker.quit()
        return True

    def abandon(self) -> None:
        """Cancel the run in flight without reporting it: a new one replaces it."""
        run = self._current
        if run is None:
            return
        self._current = None
        run.cancel.cancel()
        if run.worker is not None:
            run.worker.quit()

    @property
    def current(self) -> ActiveRun | None:
        """The run in flight, if any."""
        return self._current

    def _is_current(self, serial: int) -> ActiveRun | None:
        run = self._current
        return run if run is not None and run.serial == serial else None

    def _on_token(self, serial: int, _planned: object, token: Token) -> None:
        run = self._is_current(serial)
        if run is not None:
            run.streamed += 1
            self.token.emit(token, run.streamed == 1)

    def _on_event(self, serial: int, event: object) -> None:
        run = self._tasks.get(serial)
        if run is None:
            return
        if isinstance(event, ComparisonStarted):
            run.comparison_id = event.comparison_id
            run.label = event.label
        elif isinstance(event, RunDone):
            run.done = event
            if self._is_current(serial) is not None:
                self.done.emit(event)

    def _on_error(self, serial: int, message: str) -> None:
        run = self._is_current(serial)
        if run is not None:
            run.error = message
            self.failed.emit(message)

    def _on_done(self, serial: int) -> None:
        finished = self._tasks.pop(serial, None)
        if finished is not None:
            self._settle_history(finished)
        run = self._is_current(serial)
        if run is None:
            return
        self._current = None
        if run.done is not None:
            self.last = run
        self.ended.emit(run)

    def _settle_history(self, run: ActiveRun) -> None:
        """A run's task ended: History hears of it, after the Live runs it should not keep
        are deleted."""
        discard = (self.burst.finished(run.comparison_id, completed=run.completed,
                                       now=time.monotonic()) if run.live else [])
        if discard:
            self.context.tasks.start(
                delete_comparisons, self.context.db_path, discard,
                on_done=self.context.history_changed.emit)
        elif run.comparison_id is not None:
            self.context.history_changed.emit()
