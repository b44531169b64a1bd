"""A run described in a line for people: its scores, how it went, and a saved run's facts.

The Playground's status line and its reopened runs read the same words from here.
"""

from __future__ import annotations

from collections.abc import Sequence

from playground.engine.models import model_display_name
from playground.evaluation.structured import json_note
from playground.events import Result, count_text
from playground.runs.opening import StoredRun
from playground.scores import Score
from playground.wording import human_time, plural

#: Why a generation ended, in words.
FINISH_REASONS = {
    "stop": "end of text or a stop sequence",
    "length": "max tokens reached",
    "cancelled": "stopped",
    "error": "error",
}


def finish_text(reason: str) -> str:
    return FINISH_REASONS.get(reason, reason)


def describe_scores(scores: Sequence[Score]) -> tuple[str, str]:
    """A one-line summary (an output's JSON first, then F-scores, BLEU, chrF, confidence) and a
    tooltip with every number: precision and recall halves only in the tooltip, a missing score
    with its reason."""
    parts: list[str] = []
    details: list[str] = []
    for score in scores:
        value = "n/a" if score.value is None else f"{score.value:.3f}"
        details.append(f"{score.metric}: {value}" + (f" ({score.reason})" if score.reason else ""))
        if score.metric.endswith(("_p", "_r")):
            continue
        parts.append(f"{score.metric.removesuffix('_f')} {value}")
    note = json_note({s.metric: s.value for s in scores},
                     {s.metric: s.reason for s in scores if s.reason})
    return " · ".join(([note] if note else []) + parts), "\n".join(details)


def _tokens(count: int | None) -> str:
    """A token count that may be unknown (a server that does not say)."""
    return f"{count_text(count)} tokens" if count is None else plural(count, "token")


def describe_result(result: Result, seed: int | None) -> str:
    """How a finished generation went: tokens, speed, first-token time, prompt size, why it
    ended and the seed that reproduces it."""
    parts = [plural(result.completion_tokens, "token")]
    if result.tokens_per_second is not None:
        parts.append(f"{result.tokens_per_second:.1f} tokens/s")
    if result.ttft_s is not None:
        parts.append(f"first token after {result.ttft_s:.2f} s")
    parts.append(f"prompt {_tokens(result.prompt_tokens)}")
    parts.append(f"finished: {finish_text(result.finish_reason)}")
    if seed is not None:
        parts.append(f"seed {seed}")
    return " · ".join(parts)


def describe_stored_run(stored: StoredRun) -> str:
    """A reopened run's line: which run, on which model, and how it went then."""
    run = stored.run
    made = human_time(run.created_at) if run.created_at else "earlier"
    which = stored.label if stored.single else f"A run of {stored.label or 'a comparison'}"
    parts = [f"{which or 'Run'}, made {made}",
             f"model {model_display_name(stored.setup.model)}"]
    if run.status == "failed":
        parts.append(f"failed: {run.error or 'no reason recorded'}")
    elif run.completion_tokens is not None:
        parts.append(plural(run.completion_tokens, "token"))
        parts.append(f"prompt {_tokens(run.prompt_tokens)}")
        if run.tokens_per_second:
            parts.append(f"{run.tokens_per_second:.1f} tokens/s")
        if run.finish_reason:
            parts.append(f"finished: {finish_text(run.finish_reason)}")
    if stored.setup.params.seed is not None:
        parts.append(f"seed {stored.setup.params.seed}")
    return " · ".join(parts)
