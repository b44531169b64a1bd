"""How every view reads what an output is judged against: several reference texts in one box
(a line holding only ``---`` separates them, so one reference may span paragraphs), and the
mean token log-probability under which an output is flagged as low-confidence."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSettings

from playground.evaluation.report import LOW_CONFIDENCE

CONFIDENCE_KEY = "scoring/low_confidence_below"

REFERENCE_SEPARATOR = "---"
REFERENCE_HINT = f"Separate several references with a line holding only {REFERENCE_SEPARATOR}."


def split_references(text: str) -> tuple[str, ...]:
    chunks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip() == REFERENCE_SEPARATOR:
            chunks.append([])
        else:
            chunks[-1].append(line)
    return tuple(r for r in ("\n".join(c).strip() for c in chunks) if r)


def join_references(references: Sequence[str]) -> str:
    return f"\n{REFERENCE_SEPARATOR}\n".join(references)


def confidence_threshold(settings: QSettings) -> float:
    """The analyst's chosen threshold (shared by the views), the report's default at first."""
    value = settings.value(CONFIDENCE_KEY, LOW_CONFIDENCE)
    try:
        return min(0.0, max(-20.0, float(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return LOW_CONFIDENCE


def confidence_flag(mean_logprob: float | None, threshold: float) -> str:
    """The words shown beside an output (empty when confident or not measured)."""
    if mean_logprob is None or mean_logprob >= threshold:
        return ""
    return f"⚠ low confidence (mean log-prob {mean_logprob:.2f} < {threshold:.2f})"
