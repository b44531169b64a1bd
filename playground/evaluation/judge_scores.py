"""A judge model's rubric score, read from its token probabilities over the scale.

A judge asked "rate this answer from 1 to 5" and read only through the digit it sampled
throws away what it is unsure about: a judge 51 % sure of "4" and 49 % of "3" says "4" as
firmly as one 99 % sure. Following G-Eval (Liu et al., 2023), the score is read from the
log-probabilities of the scale's tokens at the position where the judge writes its score:

* the probability of each scale label is summed over its candidate tokens (``"4"`` and
  ``" 4"`` are different tokens that both say 4) and the distribution renormalised over the
  scale;
* the **expected score** is the probability-weighted mean of the labels, and the **most
  likely** label is kept beside it;
* when less than half the probability mass lands on the scale the judge was mostly about to
  write something else (a word, a refusal), and a number built from the remainder would
  pretend to a verdict it did not give: the score is N/A and says so.

Only the top alternatives a backend reports are seen (``GenerationRequest.logprobs``, at most
20); mass outside them counts as off the scale, which errs toward N/A. Ask for at least as many
alternatives as the scale has labels.

A server that returns no log-probabilities leaves only the sampled text: the score is read from
it and labelled so (``source="text"``), since a sampled digit is a noisier measurement than an
expected score and the two should not be mistaken for one another.

A rubric score is stored like any metric: :meth:`RubricScore.to_score` makes a
:class:`~playground.scores.Score` named ``judge:<criterion>`` (:func:`judge_metric`), attached to
the run that was judged, so reports, intervals, paired tests and the winner sentence treat it as
they treat ROUGE.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from playground.errors import PlaygroundError
from playground.events import TokenLogprob
from playground.scores import Score

__all__ = [
    "JUDGE_PREFIX",
    "MIN_SCALE_MASS",
    "SCALE",
    "JudgeScaleError",
    "RubricScore",
    "Source",
    "candidates",
    "criterion_of",
    "expected_score",
    "is_judge_metric",
    "judge_metric",
    "read_rubric",
    "score_from_text",
    "score_position",
]

#: The default rubric scale: the labels a judge is asked to answer with.
SCALE: Final = ("1", "2", "3", "4", "5")
#: Below this share of probability on the scale's labels the score is N/A (exactly half scores).
MIN_SCALE_MASS: Final = 0.5
#: Stored score names of judge scores start with this, then the criterion.
JUDGE_PREFIX: Final = "judge:"

#: Where a rubric score was read from.
Source = Literal["logprobs", "text", "n/a"]

_WORD: Final = re.compile(r"[^\W_]+")


class JudgeScaleError(PlaygroundError, ValueError):
    """A rubric scale that cannot be scored: empty, repeated or non-integer labels."""


@dataclass(frozen=True)
class RubricScore:
    """One judged output's score on one criterion, and where it was read from.

    ``expected`` is the probability-weighted mean label (``source="logprobs"``) or the label
    found in the sampled text (``source="text"``); ``most_likely`` is the label with the most
    probability (the found label for text). Both are None when ``source="n/a"``, and ``reason``
    says why. ``mass`` is the share of probability that landed on the scale before
    renormalising (None for text), and ``probabilities`` the renormalised distribution, label
    by label in the scale's order.
    """

    expected: float | None
    most_likely: int | None
    source: Source
    reason: str | None = None
    mass: float | None = None
    probabilities: tuple[tuple[str, float], ...] = ()
    #: The labels the judge was asked to answer with.
    scale: tuple[str, ...] = SCALE

    @property
    def scored(self) -> bool:
        return self.expected is not None

    def to_score(self, criterion: str, judge: str) -> Score:
        """This score as the metric ``judge:<criterion>``, stored on the judged run.

        ``judge`` names what made it (judge model, judge template and its version, settings
        that change the numbers); the signature adds the source and the scale, so scores read
        from text and from log-probabilities are never taken for the same measurement. A text
        score carries a note in ``reason``; an N/A carries its reason and no value.
        """
        scale = f"{self.scale[0]}-{self.scale[-1]}" if self.scale else "?"
        signature = f"{judge_metric(criterion)}|{judge}|source:{self.source}|scale:{scale}"
        if self.source == "text":
            note = "read from the judge's sampled text: the server returned no log-probabilities"
            return Score(judge_metric(criterion), self.expected, signature, note)
        return Score(judge_metric(criterion), self.expected, signature, self.reason)


def judge_metric(criterion: str) -> str:
    """The stored score name of a judge's rubric score on ``criterion``: ``judge:coherence``."""
    return f"{JUDGE_PREFIX}{criterion.strip()}"


def is_judge_metric(metric: str) -> bool:
    return metric.startswith(JUDGE_PREFIX)


def criterion_of(metric: str) -> str:
    """``coherence`` for ``judge:coherence``."""
    return metric[len(JUDGE_PREFIX):] if is_judge_metric(metric) else metric


def _scale_values(scale: Sequence[str]) -> list[tuple[str, int]]:
    if isinstance(scale, str):
        raise JudgeScaleError("a rubric scale is a list of labels, not one string")
    labels = [str(label).strip() for label in scale]
    if len(labels) < 2:
        raise JudgeScaleError(f"a rubric scale needs at least two labels, got {len(labels)}")
    if len(set(labels)) != len(labels):
        raise JudgeScaleError(f"the rubric scale repeats a label: {', '.join(labels)}")
    try:
        values = [int(label) for label in labels]
    except ValueError:
        raise JudgeScaleError(
            f"rubric scale labels must be whole numbers, got {', '.join(labels)}"
        ) from None
    return list(zip(labels, values, strict=True))


def _labels(pairs: Sequence[tuple[str, int]]) -> tuple[str, ...]:
    return tuple(label for label, _ in pairs)


def _span(pairs: Sequence[tuple[str, int]]) -> str:
    return f"{pairs[0][0]} to {pairs[-1][0]}"


def expected_score(
    token_logprobs: Mapping[str, float], scale: Sequence[str] = SCALE
) -> RubricScore:
    """The G-Eval score from the candidate tokens' log-probabilities at the score position.

    ``token_logprobs`` maps each candidate token's text to its log-probability (natural log),
    as :func:`candidates` gathers them from a :class:`~playground.events.TokenLogprob`. Tokens
    are compared stripped of surrounding white space, so ``" 4"`` and ``"4"`` both count for 4
    and their probabilities add. NaN values are ignored. N/A when less than
    :data:`MIN_SCALE_MASS` of the probability lands on the scale; exactly half scores.
    """
    pairs = _scale_values(scale)
    index = {label: i for i, (label, _) in enumerate(pairs)}
    mass = [0.0] * len(pairs)
    for token, logprob in token_logprobs.items():
        position = index.get(token.strip())
        if position is not None and not math.isnan(logprob):
            mass[position] += math.exp(min(float(logprob), 0.0))
    total = sum(mass)
    on_scale = min(total, 1.0)
    # A tolerance far below any real probability, so rounding in exp(log p) never decides.
    if total < MIN_SCALE_MASS - 1e-12:
        return RubricScore(
            None, None, "n/a",
            reason=(f"only {on_scale:.0%} of the judge's probability was on the scale "
                    f"{_span(pairs)} (at least {MIN_SCALE_MASS:.0%} is needed)"),
            mass=on_scale, scale=_labels(pairs),
        )
    probabilities = tuple((label, m / total) for (label, _), m in zip(pairs, mass, strict=True))
    expected = sum(p * value for (_, value), (_, p) in zip(pairs, probabilities, strict=True))
    best = max(range(len(pairs)), key=lambda i: (mass[i], -i))
    return RubricScore(expected, pairs[best][1], "logprobs", mass=on_scale,
                       probabilities=probabilities, scale=_labels(pairs))


def score_from_text(text: str, scale: Sequence[str] = SCALE) -> RubricScore:
    """The score a judge wrote, for a server that returns no log-probabilities.

    The first word of the answer (letters and digits, so ``"4/5"`` reads as ``4``) that is a
    label of the scale is the score; ``source="text"`` says it was read this way. N/A with the
    start of the answer in the reason when no label stands as a word of its own.
    """
    pairs = _scale_values(scale)
    values = dict(pairs)
    for word in _WORD.findall(text):
        if word in values:
            value = values[word]
            probabilities = tuple((label, 1.0 if label == word else 0.0) for label, _ in pairs)
            return RubricScore(float(value), value, "text", probabilities=probabilities,
                               scale=_labels(pairs))
    shown = " ".join(text.split())
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return RubricScore(None, None, "n/a",
                       reason=f"no score from {_span(pairs)} in the judge's answer: {shown!r}",
                       scale=_labels(pairs))


def score_position(tokens: Sequence[TokenLogprob], scale: Sequence[str] = SCALE) -> int | None:
    """Where the judge wrote its score: the first generated token whose text, stripped, is a
    label of the scale; None when there is none."""
    labels = {label for label, _ in _scale_values(scale)}
    return next((i for i, t in enumerate(tokens) if t.token.strip() in labels), None)


def candidates(token: TokenLogprob) -> dict[str, float]:
    """The candidate tokens at one position: the top alternatives, plus the chosen token when
    they leave it out. Two alternatives with the same text (different token ids that decode
    alike) have their probabilities added."""
    out: dict[str, float] = {}
    for text, logprob in token.top:
        out[text] = float(logprob) if text not in out else _log_add(out[text], float(logprob))
    if token.token not in out:
        out[token.token] = token.logprob
    return out


def _log_add(x: float, y: float) -> float:
    high, low = max(x, y), min(x, y)
    return high if low == -math.inf else high + math.log1p(math.exp(low - high))


def read_rubric(
    text: str, tokens: Sequence[TokenLogprob] | None, scale: Sequence[str] = SCALE
) -> RubricScore:
    """A judge's answer read as a rubric score: from log-probabilities when the backend
    returned them, else from the sampled text (labelled so).

    ``tokens`` is the judge run's per-token log-probabilities (None or empty: the server sent
    none). With tokens but no scale label among them the score is N/A: the judge did not write
    a score, and reading a digit out of the text would hide that the probabilities were there.
    """
    if not tokens:
        return score_from_text(text, scale)
    position = score_position(tokens, scale)
    if position is None:
        pairs = _scale_values(scale)
        return RubricScore(None, None, "n/a",
                           reason=f"the judge wrote no score from {_span(pairs)}",
                           scale=_labels(pairs))
    return expected_score(candidates(tokens[position]), scale)

