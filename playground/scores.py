"""A score: one metric's value for one output, as every part of the app passes it around.

Scoring and the task metrics make scores, the runner adds reference perplexity, the store keeps
them and reads them back, and the report and the window read them: one shape, so a score saved
and read back is equal to the one computed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Score:
    """One metric value, with what is needed to interpret and reproduce it.

    ``value`` is on the metric's own scale (ROUGE 0–1, BLEU and chrF 0–100). ``value is None``
    means *not applicable* and ``reason`` says why; on a real value ``reason`` may carry a
    note (a corpus score says how many inputs it skipped, an empty output that it was empty).
    ``signature`` names metric, tokenizer, options and library version, so a number stored today
    can be told apart from one computed with other settings.
    """

    metric: str
    value: float | None
    signature: str
    reason: str | None = None
