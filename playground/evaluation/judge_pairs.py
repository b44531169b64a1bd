"""A judge model's pairwise verdicts: both orders, flips, position bias, and the ranking.

Judge models favour a position: shown the same two answers as A/B and then as B/A, many pick
"the first one" both times (Zheng et al., 2023, "Judging LLM-as-a-judge"). So every pair is
judged in both orders and a verdict stands only when the two agree about the *outputs*; when
they disagree the judge's choice followed the position, not the answers, and the pair counts
as a tie. How often that happens, and toward which position, is the judge's position bias.

Positions are what the judge answers with: ``"A"`` is the output shown first, ``"B"`` the one
shown second, ``"tie"`` neither. In the A/B order output ``a`` is shown first; in the B/A order
output ``b`` is. A verdict is in terms of the outputs (``"a"``, ``"b"``, ``"tie"``), the same
choices a person's blind judgement has, so judge verdicts feed the Bradley–Terry ranking
exactly as people's do (:func:`as_judgement`, then
:func:`playground.evaluation.preferences.bradley_terry`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from playground.ratings import Choice, Judgement

__all__ = [
    "Position",
    "PositionBias",
    "Verdict",
    "as_judgement",
    "pairwise_verdict",
    "parse_position",
    "position_bias",
]

#: What the judge answers: the first-shown output, the second-shown one, or neither.
Position = Literal["A", "B", "tie"]

_WORD: Final = re.compile(r"[^\W_]+")
_TIE_WORDS: Final = frozenset({"tie", "equal", "same", "neither", "both", "c"})
#: In each order, which output a position points at.
_AB: Final[dict[Position, Choice]] = {"A": "a", "B": "b", "tie": "tie"}
_BA: Final[dict[Position, Choice]] = {"A": "b", "B": "a", "tie": "tie"}
#: +1 toward the first-shown output, -1 toward the second.
_LEAN: Final[dict[Position, int]] = {"A": 1, "B": -1, "tie": 0}


def parse_position(text: str | None) -> Position | None:
    """The position a judge's answer names: its first word ``A``, ``B`` or a tie word
    (``tie``, ``equal``, ``same``, ``neither``, ``both``, ``C``), in any case; skipping a
    leading ``Output``/``Answer``/``Response``/``Verdict``. None when the answer names none."""
    if text is None:
        return None
    words = [w.casefold() for w in _WORD.findall(text)]
    while words and words[0] in ("output", "answer", "response", "verdict", "assistant"):
        words.pop(0)
    if not words:
        return None
    first = words[0]
    if first == "a":
        return "A"
    if first == "b":
        return "B"
    return "tie" if first in _TIE_WORDS else None


@dataclass(frozen=True)
class Verdict:
    """The judge's verdict on outputs ``a`` and ``b`` from both orders.

    ``choice`` is None (N/A) when either order's answer could not be read: a verdict from one
    order alone is the position bias this design exists to cancel; ``reason`` says which order
    failed. ``flipped`` is True when both orders were read and disagree about the outputs; the
    choice is then ``"tie"``.
    """

    choice: Choice | None
    ab: Position | None
    ba: Position | None
    flipped: bool = False
    reason: str | None = None

    @property
    def lean(self) -> int:
        """Toward which position the two answers lean together: positive toward the
        first-shown output, negative toward the second, 0 when they agree about the outputs
        (a consistent verdict always sums to 0) or were not both read."""
        if self.ab is None or self.ba is None:
            return 0
        return _LEAN[self.ab] + _LEAN[self.ba]


def _read(answer: str | None) -> Position | None:
    if answer is None:
        return None
    if answer in ("A", "B", "tie"):
        return answer  # type: ignore[return-value]
    return parse_position(answer)


def pairwise_verdict(ab: str | None, ba: str | None) -> Verdict:
    """Combine the A/B order's answer (``a`` shown first) and the B/A order's (``b`` first).

    Each answer is a position (``"A"``, ``"B"``, ``"tie"``) or the judge's text, read with
    :func:`parse_position`; None when that order was not run or failed. The verdict stands when
    both orders name the same output (or both a tie); any disagreement is a flip and counts as
    a tie.
    """
    first, second = _read(ab), _read(ba)
    if first is None or second is None:
        missing = [name for name, p in (("A/B", first), ("B/A", second)) if p is None]
        return Verdict(None, first, second,
                       reason=f"the judge's answer in the {' and '.join(missing)} order "
                              f"{'was' if len(missing) == 1 else 'were'} not a verdict")
    in_ab, in_ba = _AB[first], _BA[second]
    if in_ab == in_ba:
        return Verdict(in_ab, first, second)
    return Verdict("tie", first, second, flipped=True)


@dataclass(frozen=True)
class PositionBias:
    """How often the judge's verdict followed the position rather than the outputs.

    ``pairs`` counts verdicts read in both orders (N/A ones are left out); ``flips`` those
    whose two orders disagreed; ``toward_first`` and ``toward_second`` split the flips by the
    position they leaned to (a flip between "A" and "tie" leans to the first).
    """

    pairs: int
    flips: int
    toward_first: int
    toward_second: int
    not_read: int = 0

    @property
    def flip_rate(self) -> float | None:
        return self.flips / self.pairs if self.pairs else None

    @property
    def toward(self) -> Literal["first", "second"] | None:
        """The position most flips leaned to; None without flips or when they split evenly."""
        if self.toward_first == self.toward_second:
            return None
        return "first" if self.toward_first > self.toward_second else "second"

    def describe(self) -> str:
        """``The verdict changed with the order on 3 of 20 pairs (15 %), 3 toward the output
        shown first; those count as ties.``"""
        if not self.pairs:
            return "No pair was judged in both orders: position bias cannot be measured."
        rate = self.flips / self.pairs
        head = (f"The verdict changed with the order on {self.flips} of {self.pairs} "
                f"{'pair' if self.pairs == 1 else 'pairs'} ({rate:.0%})")
        if not self.flips:
            return head + ": no sign of position bias."
        lean = [f"{n} toward the output shown {where}"
                for n, where in ((self.toward_first, "first"), (self.toward_second, "second"))
                if n]
        return f"{head}, {' and '.join(lean)}; those count as ties."


def position_bias(verdicts: Iterable[Verdict]) -> PositionBias:
    """Count flips, and the position each leaned to, over verdicts read in both orders."""
    pairs = flips = first = second = not_read = 0
    for verdict in verdicts:
        if verdict.ab is None or verdict.ba is None:
            not_read += 1
            continue
        pairs += 1
        if verdict.flipped:
            flips += 1
            first += verdict.lean > 0
            second += verdict.lean < 0
    return PositionBias(pairs, flips, first, second, not_read)


def as_judgement(
    verdict: Verdict,
    *,
    input_id: str,
    prompt: str,
    variant_a: str,
    output_a: str,
    variant_b: str,
    output_b: str,
    model_a: str = "",
    model_b: str = "",
) -> Judgement | None:
    """A judge's verdict in the shape of a person's blind judgement, for the Bradley–Terry
    ranking beside the people's (``bradley_terry([...])``) and for agreement with them
    (:func:`playground.evaluation.agreement.match_judgements`); None for an N/A verdict, which
    says nothing about which output is better. A flip is a tie, as the ranking counts ties."""
    if verdict.choice is None:
        return None
    return Judgement(input_id=input_id, prompt=prompt, variant_a=variant_a, output_a=output_a,
                     variant_b=variant_b, output_b=output_b, choice=verdict.choice,
                     model_a=model_a, model_b=model_b)
