"""Does the judge agree with the people? Agreement per criterion, with intervals and a verdict.

A judge model is only worth running if its scores stand in for a person's. Where the same
outputs carry a person's Likert rating and the judge's rubric score, or a person's blind pairwise
judgement and the judge's verdict on the same pair, this module measures how far they agree:

* **Likert**: quadratic-weighted Cohen's κ (Cohen 1968), which counts a 4 against a 5 as a
  small disagreement and a 1 against a 5 as a large one and corrects for the agreement two
  raters would reach by chance; and Spearman's rank correlation (average ranks for ties), which
  asks only whether the judge orders the outputs as the person did. The judge's expected score
  is rounded to the nearest label for κ (κ compares categories) and used as it is for Spearman.
* **Pairwise**: the share of pairs where the judge's verdict is the person's (``a``, ``b`` or a
  tie), and unweighted Cohen's κ over those three categories.

Intervals are percentile bootstraps over **inputs**, not over individual ratings: the outputs
of one input share how hard it is to judge, as in :mod:`playground.evaluation.stats`.

The plain-words verdict reads κ with Landis & Koch's (1977) bands (below 0 poor, 0–0.20 slight,
0.21–0.40 fair, 0.41–0.60 moderate, 0.61–0.80 substantial, 0.81–1 almost perfect):

* **agrees well**: κ ≥ 0.61 (substantial or better) *and* the interval's low end ≥ 0.41, so even
  the pessimistic reading is moderate: the judge's scores can stand in for the person's;
* **agrees moderately**: κ ≥ 0.41 otherwise: good for screening, not for close calls;
* **agrees poorly**: κ < 0.41: do not rely on it;
* **too few**: fewer than :data:`MIN_PAIRS` outputs (or pairs) judged by both, or fewer than two
  inputs: no interval worth the name;
* **cannot tell**: one side gave every output the same rating (or verdict). κ is then 0 (or
  undefined when both sides are constant) and Spearman undefined, which says nothing about how
  good the judge is, only that there was no variation to agree on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol

import numpy as np
import numpy.typing as npt

from playground.evaluation.judge_scores import criterion_of, is_judge_metric
from playground.evaluation.stats import INTERVAL_RESAMPLES, Estimate
from playground.ratings import Choice, Judgement

__all__ = [
    "GOOD_KAPPA",
    "MIN_PAIRS",
    "MODERATE_KAPPA",
    "Agreement",
    "ChoicePair",
    "LikertPair",
    "RatedRun",
    "Standing",
    "agreement_rate",
    "average_ranks",
    "cohen_kappa",
    "likert_agreement",
    "likert_pairs",
    "match_judgements",
    "pairwise_agreement",
    "spearman",
]

#: Fewer outputs (or pairs) judged by both sides than this and the verdict is "too few".
MIN_PAIRS: Final = 10
#: Landis & Koch's "substantial": the point estimate needed to agree well.
GOOD_KAPPA: Final = 0.61
#: Landis & Koch's "moderate": below it the judge agrees poorly; the interval's low end must
#: reach it for the judge to agree well.
MODERATE_KAPPA: Final = 0.41

Standing = Literal["good", "moderate", "poor", "too few", "cannot tell"]
Weights = Literal["quadratic", "linear"]

_FloatArray = npt.NDArray[np.float64]
_IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class LikertPair:
    """One output rated on one criterion by a person (``human``, 1–5) and by the judge
    (``judge``: its expected score, or the score read from its text)."""

    input_id: str
    human: float
    judge: float


@dataclass(frozen=True)
class ChoicePair:
    """One pair of outputs judged by a person and by the judge, both in the same orientation
    (``a`` is the same output on both sides)."""

    input_id: str
    human: Choice
    judge: Choice


@dataclass(frozen=True)
class Agreement:
    """How far the judge agrees with the people on one criterion.

    Each :class:`~playground.evaluation.stats.Estimate` holds the point value in ``mean`` and
    its bootstrap interval over inputs (``n`` = inputs). ``kappa`` is quadratic-weighted for
    Likert and unweighted for pairwise; None when undefined (both sides constant) or when
    nothing was judged by both. ``spearman`` is Likert only, ``rate`` pairwise only.
    """

    criterion: str
    kind: Literal["likert", "pairwise"]
    pairs: int
    inputs: int
    kappa: Estimate | None
    standing: Standing
    sentence: str
    spearman: Estimate | None = None
    rate: Estimate | None = None


# --- The statistics -------------------------------------------------------------------


def average_ranks(values: Sequence[float] | _FloatArray) -> _FloatArray:
    """Ranks from 1, tied values sharing the mean of the ranks they span (``[10, 20, 20, 30]``
    ranks ``[1, 2.5, 2.5, 4]``)."""
    data = np.asarray(values, dtype=np.float64)
    unique, inverse, counts = np.unique(data, return_inverse=True, return_counts=True)
    del unique
    before = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.float64)
    return np.asarray(before[inverse] + (counts[inverse] + 1) / 2.0, dtype=np.float64)


def spearman(x: Sequence[float] | _FloatArray, y: Sequence[float] | _FloatArray) -> float:
    """Spearman's ρ: Pearson's correlation of the average ranks, so ties are handled exactly.
    NaN when undefined: fewer than two pairs, or either side constant."""
    rx, ry = average_ranks(x), average_ranks(y)
    if rx.size != ry.size:
        raise ValueError(f"spearman needs paired values, got {rx.size} and {ry.size}")
    if rx.size < 2:
        return math.nan
    dx, dy = rx - rx.mean(), ry - ry.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return math.nan if denominator == 0.0 else float(dx @ dy) / denominator


def cohen_kappa(
    x: Sequence[Hashable], y: Sequence[Hashable], weights: Weights | None = None
) -> float:
    """Cohen's κ between two raters of the same items: 1 − observed / chance disagreement.

    Unweighted (``weights=None``), any categories and every disagreement counts alike.
    Weighted (Cohen 1968), the categories are numbers and a disagreement weighs
    ``(x − y)²`` (quadratic) or ``|x − y|`` (linear), so the result does not depend on which
    categories happened to be used. Chance disagreement comes from the two raters' own
    marginal distributions. NaN when it is zero (both raters gave one and the same category
    throughout: there was nothing to agree on); 0 when only one rater is constant.
    """
    if len(x) != len(y):
        raise ValueError(f"kappa needs paired ratings, got {len(x)} and {len(y)}")
    if not x:
        return math.nan
    if weights is None:
        codes = {c: i for i, c in enumerate(dict.fromkeys([*x, *y]))}
        cx = np.array([codes[c] for c in x], dtype=np.int64)
        cy = np.array([codes[c] for c in y], dtype=np.int64)
        return _kappa_codes(cx, cy, len(codes))
    return _kappa_weighted(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64),
                           2.0 if weights == "quadratic" else 1.0)


def _kappa_codes(cx: _IntArray, cy: _IntArray, k: int) -> float:
    n = cx.size
    observed = float(np.count_nonzero(cx != cy)) / n
    px = np.bincount(cx, minlength=k) / n
    py = np.bincount(cy, minlength=k) / n
    chance = 1.0 - float(px @ py)
    return math.nan if chance <= 1e-15 else 1.0 - observed / chance


def _kappa_weighted(x: _FloatArray, y: _FloatArray, power: float) -> float:
    categories, inverse = np.unique(np.concatenate((x, y)), return_inverse=True)
    n = x.size
    k = categories.size
    px = np.bincount(inverse[:n], minlength=k) / n
    py = np.bincount(inverse[n:], minlength=k) / n
    distance = np.abs(categories[:, None] - categories[None, :]) ** power
    observed = float(np.mean(np.abs(x - y) ** power))
    chance = float(px @ distance @ py)
    return math.nan if chance <= 1e-15 else 1.0 - observed / chance


def agreement_rate(x: Sequence[Hashable], y: Sequence[Hashable]) -> float:
    """The share of items both raters put in the same category; NaN with no items."""
    if len(x) != len(y):
        raise ValueError(f"agreement needs paired verdicts, got {len(x)} and {len(y)}")
    return sum(a == b for a, b in zip(x, y, strict=True)) / len(x) if x else math.nan


# --- Intervals over inputs ------------------------------------------------------------


def _bootstrap(
    input_ids: Sequence[str],
    statistic: Callable[[_IntArray], float],
    *,
    resamples: int,
    seed: int,
    level: float,
) -> Estimate | None:
    """The statistic on all items with a percentile interval from resampling *inputs*: each
    resample draws inputs with replacement and takes every item of each drawn input.
    Resamples where the statistic is undefined (a constant side) are left out."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (exclusive), got {level!r}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples!r}")
    n_items = len(input_ids)
    point = statistic(np.arange(n_items, dtype=np.int64))
    if math.isnan(point):
        return None
    groups = list(dict.fromkeys(input_ids))
    if len(groups) < 2:
        return Estimate(point, point, point, len(groups), level)
    group_of = {g: i for i, g in enumerate(groups)}
    order = np.argsort(np.array([group_of[i] for i in input_ids]), kind="stable")
    lengths = np.bincount([group_of[i] for i in input_ids], minlength=len(groups))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    rng = np.random.default_rng(seed)
    values = np.empty(resamples, dtype=np.float64)
    for r in range(resamples):
        drawn = rng.integers(0, len(groups), size=len(groups))
        sizes = lengths[drawn]
        # Positions of every item of every drawn input, in one vectorised step.
        offsets = np.repeat(starts[drawn] - np.cumsum(sizes) + sizes, sizes)
        values[r] = statistic(order[offsets + np.arange(int(sizes.sum()))])
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return Estimate(point, point, point, len(groups), level)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return Estimate(point, float(low), float(high), len(groups), level)


# --- Agreement and its verdict --------------------------------------------------------


def likert_agreement(
    criterion: str,
    pairs: Sequence[LikertPair],
    *,
    seed: int = 0,
    resamples: int = INTERVAL_RESAMPLES,
    level: float = 0.95,
) -> Agreement:
    """Quadratic-weighted κ and Spearman's ρ between people's ratings and the judge's scores
    on ``criterion``, with intervals over inputs and the verdict in words (see the module)."""
    ids = [p.input_id for p in pairs]
    human = np.array([p.human for p in pairs], dtype=np.float64)
    judge = np.array([p.judge for p in pairs], dtype=np.float64)
    judge_labels = np.floor(judge + 0.5)  # nearest label, halves up (3.5 → 4)

    def kappa(index: _IntArray) -> float:
        return _kappa_weighted(human[index], judge_labels[index], 2.0) if index.size else math.nan

    def rho(index: _IntArray) -> float:
        return spearman(human[index], judge[index]) if index.size else math.nan

    kappa_est = _bootstrap(ids, kappa, resamples=resamples, seed=seed, level=level)
    rho_est = _bootstrap(ids, rho, resamples=resamples, seed=seed, level=level)
    constant = _constant_side(human.tolist(), judge_labels.tolist(), "rating", "score")
    standing, sentence = _verdict(kappa_est, len(pairs), len(set(ids)), constant, "ratings")
    return Agreement(criterion, "likert", len(pairs), len(set(ids)), kappa_est, standing,
                     sentence, spearman=rho_est)


def pairwise_agreement(
    criterion: str,
    pairs: Sequence[ChoicePair],
    *,
    seed: int = 0,
    resamples: int = INTERVAL_RESAMPLES,
    level: float = 0.95,
) -> Agreement:
    """Agreement rate and unweighted κ between people's pairwise judgements and the judge's
    verdicts, with intervals over inputs and the verdict in words (see the module)."""
    ids = [p.input_id for p in pairs]
    codes = {"a": 0, "b": 1, "tie": 2}
    human = np.array([codes[p.human] for p in pairs], dtype=np.int64)
    judge = np.array([codes[p.judge] for p in pairs], dtype=np.int64)

    def kappa(index: _IntArray) -> float:
        return _kappa_codes(human[index], judge[index], 3) if index.size else math.nan

    def rate(index: _IntArray) -> float:
        return float(np.mean(human[index] == judge[index])) if index.size else math.nan

    kappa_est = _bootstrap(ids, kappa, resamples=resamples, seed=seed, level=level)
    rate_est = _bootstrap(ids, rate, resamples=resamples, seed=seed, level=level)
    constant = _constant_side([p.human for p in pairs], [p.judge for p in pairs],
                              "verdict", "verdict")
    standing, sentence = _verdict(kappa_est, len(pairs), len(set(ids)), constant, "judgements")
    return Agreement(criterion, "pairwise", len(pairs), len(set(ids)), kappa_est, standing,
                     sentence, rate=rate_est)


class RatedRun(Protocol):
    """A run as :class:`~playground.evaluation.report.ReportRun` carries it: a person's Likert
    ratings in ``criteria`` and the judge's rubric scores among ``scores``."""

    @property
    def input_id(self) -> str: ...
    @property
    def criteria(self) -> Mapping[str, int]: ...
    @property
    def scores(self) -> Mapping[str, float | None]: ...


def likert_pairs(runs: Iterable[RatedRun], criterion: str) -> list[LikertPair]:
    """The runs a person rated on ``criterion`` and the judge scored as
    ``judge:<criterion>`` (criterion names compared without regard to case); a run the judge
    scored N/A is left out."""
    wanted = criterion.strip().casefold()
    out: list[LikertPair] = []
    for run in runs:
        human = next((v for c, v in run.criteria.items() if c.strip().casefold() == wanted), None)
        judged = next((v for m, v in run.scores.items() if is_judge_metric(m)
                       and criterion_of(m).strip().casefold() == wanted), None)
        if human is not None and judged is not None:
            out.append(LikertPair(run.input_id, float(human), float(judged)))
    return out


def match_judgements(
    people: Sequence[Judgement], judge: Sequence[Judgement]
) -> list[ChoicePair]:
    """People's and the judge's verdicts on the same pairs, in the person's orientation.

    A pair is the same input and the same two variants, whichever side each was on; the
    judge's choice is mirrored when its ``a`` is the person's ``b``. Every person's judgement
    of a pair is matched (several people, or one person twice, each count); pairs only one
    side judged are left out.
    """
    by_pair: dict[tuple[str, str, str], Choice] = {}
    for verdict in judge:
        by_pair[(verdict.input_id, verdict.variant_a, verdict.variant_b)] = verdict.choice
        by_pair[(verdict.input_id, verdict.variant_b, verdict.variant_a)] = _mirror(verdict.choice)
    out: list[ChoicePair] = []
    for person in people:
        choice = by_pair.get((person.input_id, person.variant_a, person.variant_b))
        if choice is not None:
            out.append(ChoicePair(person.input_id, person.choice, choice))
    return out


def _mirror(choice: Choice) -> Choice:
    return "b" if choice == "a" else "a" if choice == "b" else "tie"


def _constant_side(
    human: Sequence[Hashable], judge: Sequence[Hashable], human_word: str, judge_word: str
) -> str | None:
    """Why agreement cannot be told when one side never varied; None when both did."""
    if len(human) < 2:
        return None
    if len(set(human)) == 1:
        return f"you gave every output the same {human_word} ({_shown(human[0])})"
    if len(set(judge)) == 1:
        return f"the judge gave every output the same {judge_word} ({_shown(judge[0])})"
    return None


def _shown(value: Hashable) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _verdict(
    kappa: Estimate | None, pairs: int, inputs: int, constant: str | None, what: str
) -> tuple[Standing, str]:
    if pairs < MIN_PAIRS or inputs < 2:
        return "too few", (f"Too few outputs judged by both you and the judge to tell how well "
                           f"it agrees with your {what} ({pairs}; at least {MIN_PAIRS} over two "
                           "inputs or more are needed).")
    if constant is not None or kappa is None:
        because = constant or "neither side's verdicts varied"
        return "cannot tell", (f"Cannot tell whether the judge agrees with your {what}: "
                               f"{because}, so there is no variation to agree on.")
    numbers = (f"κ = {kappa.mean:.2f}, {kappa.low:.2f}–{kappa.high:.2f} over "
               f"{kappa.n} inputs")
    if kappa.mean >= GOOD_KAPPA and kappa.low >= MODERATE_KAPPA:
        return "good", (f"The judge agrees well with your {what} ({numbers}): its scores can "
                        "stand in for yours on this comparison.")
    if kappa.mean >= MODERATE_KAPPA:
        return "moderate", (f"The judge agrees moderately with your {what} ({numbers}): use it "
                            "to screen outputs, and check close calls yourself.")
    return "poor", (f"The judge agrees poorly with your {what} ({numbers}): do not rely on it "
                    "for this comparison.")
