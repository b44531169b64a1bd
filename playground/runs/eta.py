"""How long a comparison has left, said honestly.

The first runs of a comparison are the cheapest: prefix ordering puts prompts that share a
beginning side by side, so llama.cpp reuses its cache, and short outputs come early as often as
late. A plain mean of the first run times therefore promises far too little. The estimate here
waits until a few runs (or some seconds) have finished, prices the time spent per unit of work
(prompt plus generated tokens) rather than per run, charges each remaining run for its own
prompt (known from the plan) and the mean output so far (never more than its max_tokens), and
moves towards each new figure gradually instead of jumping. Runs that overlap (batched
decoding, remote requests in parallel) are counted by how much they overlapped so far: the
finished runs' seconds over the wall time they took.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

#: No estimate before this many runs have finished...
MIN_RUNS = 3
#: ...unless this much time has passed with at least one finished run.
MIN_SECONDS = 20.0
#: How far each new figure moves the shown estimate (1 = no smoothing).
SMOOTHING = 0.3
#: Tokens per character of prompt when no run has said how many tokens its prompt had.
DEFAULT_TOKENS_PER_CHAR = 0.25


@dataclass(frozen=True)
class FinishedWork:
    """A finished run: how long it took and what it had to do. ``prompt_tokens`` is None when
    the backend did not say."""

    seconds: float
    prompt_chars: int
    prompt_tokens: int | None
    generated_tokens: int


@dataclass(frozen=True)
class PendingWork:
    """Runs still to do that share a max_tokens: how many, and their prompts' total length."""

    runs: int
    prompt_chars: int
    max_tokens: int


def remaining_seconds(
    finished: Iterable[FinishedWork], pending: Iterable[PendingWork], *, concurrency: float = 1
) -> float | None:
    """Seconds the pending runs should take at the finished runs' pace per token of work; None
    when nothing has finished (or finished runs did no work) to measure a pace by."""
    done = list(finished)
    todo = [p for p in pending if p.runs > 0]
    if not todo:
        return 0.0
    known = [f for f in done if f.prompt_tokens is not None and f.prompt_chars > 0]
    tokens_per_char = (
        sum(f.prompt_tokens or 0 for f in known) / sum(f.prompt_chars for f in known)
        if known else DEFAULT_TOKENS_PER_CHAR
    )

    def prompt_tokens(run: FinishedWork) -> float:
        if run.prompt_tokens is not None:
            return run.prompt_tokens
        return run.prompt_chars * tokens_per_char

    work_done = sum(prompt_tokens(f) + f.generated_tokens for f in done)
    if not done or work_done <= 0:
        return None
    pace = sum(f.seconds for f in done) / work_done
    mean_generated = sum(f.generated_tokens for f in done) / len(done)
    work_left = sum(
        p.prompt_chars * tokens_per_char + p.runs * min(mean_generated, p.max_tokens)
        for p in todo
    )
    return pace * work_left / max(concurrency, 1.0)


def overlap(finished: Iterable[FinishedWork], elapsed_s: float) -> float:
    """How many runs were in flight at once, on average, so far: one for runs one after
    another, about N for N sequences decoded together. Never less than one."""
    busy = sum(f.seconds for f in finished)
    return max(busy / elapsed_s, 1.0) if elapsed_s > 0 else 1.0


def ready(finished_runs: int, elapsed_s: float) -> bool:
    """Whether enough has finished for a pace worth showing."""
    return finished_runs >= MIN_RUNS or (finished_runs >= 1 and elapsed_s >= MIN_SECONDS)


def smoothed(
    previous: float | None, previous_at: float, estimate: float, now: float
) -> float:
    """The shown estimate moved part of the way to a new one. The previous estimate counts down
    by the time passed since it was made, so a steady pace gives a steady countdown."""
    if previous is None:
        return estimate
    carried = max(previous - (now - previous_at), 0.0)
    return carried + SMOOTHING * (estimate - carried)


class EtaEstimate:
    """The estimate across a comparison's progress events: when to start showing one, and the
    smoothing between them."""

    def __init__(self, concurrency: int = 1) -> None:
        self.concurrency = concurrency
        self._shown: float | None = None
        self._shown_at = 0.0

    def update(
        self, finished: list[FinishedWork], pending: Iterable[PendingWork], elapsed_s: float
    ) -> float | None:
        todo = [p for p in pending if p.runs > 0]
        if not todo:
            return 0.0
        if not ready(len(finished), elapsed_s):
            return None
        at_once = max(float(self.concurrency), overlap(finished, elapsed_s))
        estimate = remaining_seconds(finished, todo, concurrency=at_once)
        if estimate is None:
            return None
        self._shown = smoothed(self._shown, self._shown_at, estimate, elapsed_s)
        self._shown_at = elapsed_s
        return self._shown


def describe_eta(eta_s: float | None, runs_left: int) -> str:
    """The estimate in words, as the window and the terminal show it: empty once nothing is
    left, "estimating…" until there is a figure."""
    if runs_left <= 0:
        return ""
    if eta_s is None:
        return "estimating time left…"
    if eta_s < 90:
        return f"about {max(round(eta_s), 1)} s left"
    minutes = eta_s / 60
    if minutes < 90:
        return f"about {math.ceil(minutes)} min left"
    return f"about {minutes / 60:.1f} h left"
