"""Live mode's rules: when an edit may start a run, and which of a burst's runs History keeps.

Live runs the template again shortly after every change. Left to itself it would run templates
whose inputs are still empty (a template just picked) and fill History with every run a drag of
a slider started and the next one replaced. The window asks these rules; they hold no Qt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from playground.prompts.templates import TemplateMeta, Variable

#: A Live run that starts this long after the burst's last run ended begins a new burst: what
#: the person paused to read is kept.
BURST_PAUSE_S = 15.0


def _unfilled(variable: Variable, value: Any) -> bool:
    if variable.default not in (None, "", [], ()) or variable.default_set:
        return False
    if variable.type == "text":
        return value is None or not str(value).strip()
    if variable.type == "examples":
        return not value
    return value is None


def unfilled_variables(meta: TemplateMeta, values: Mapping[str, Any]) -> tuple[str, ...]:
    """The variables a run needs a value for and has none: a text left blank, examples left
    empty, with no default of the template's own to fall back on."""
    return tuple(v.name for v in meta.variables if _unfilled(v, values.get(v.name)))


def waiting_message(names: tuple[str, ...]) -> str:
    """What Live says while it waits for the person to fill the template in."""
    listed = ", ".join(names)
    return f"Live is waiting for {listed}: fill {'it' if len(names) == 1 else 'them'} in to run."


@dataclass
class LiveBurst:
    """Which stored Live runs to discard.

    A burst is the run of Live runs one stretch of editing starts. A Live run that was replaced
    or stopped before it finished is never kept; of those that finished, only the burst's last
    stays in History, since each one supersedes the one before. A pause longer than
    :data:`BURST_PAUSE_S`, a run started by hand or Live switched off ends the burst, and what
    it kept stays.
    """

    pause_s: float = BURST_PAUSE_S
    #: the stored comparison of the burst's last finished run
    kept: int | None = None
    #: when the burst's last run ended (seconds on a monotonic clock)
    last_end: float | None = None

    def end(self) -> None:
        """The burst is over: what it kept stays."""
        self.kept = None
        self.last_end = None

    def started(self, now: float) -> None:
        """A Live run starts at ``now``; after a long pause it begins a new burst."""
        if self.last_end is not None and now - self.last_end > self.pause_s:
            self.end()

    def finished(self, comparison_id: int | None, *, completed: bool, now: float) -> list[int]:
        """A Live run's task ended; the stored comparisons to discard now."""
        self.last_end = now
        if comparison_id is None:
            return []
        if not completed:
            return [comparison_id]
        discard = [] if self.kept is None or self.kept == comparison_id else [self.kept]
        self.kept = comparison_id
        return discard
