"""Confidence intervals and significance tests for comparing prompt variants.

A comparison runs every variant over the same inputs, ``k`` samples per input, and scores each
run. Two facts shape everything here:

* Samples of one input are not independent: an input that is hard for the model is hard for
  all ``k`` of its samples. Treating the ``n * k`` scores as independent would make intervals
  roughly ``sqrt(k)`` times too narrow, so the unit of resampling is the *input*: each input's
  samples are averaged first and the per-input means are resampled.
* Variants share inputs, so they are compared *paired*: the per-input difference cancels out
  how hard each input is, which makes a real difference far easier to detect than comparing
  two independent means.

Scores are plain floats where higher is better. A scorer that could not score a run (N/A,
``None``) must have that run left out by the caller; this module refuses ``None`` and
non-finite values rather than guessing what they mean. An input whose runs were all left out
is treated as unscored.

Every random draw comes from a seeded :class:`numpy.random.Generator`, so a report shows the
same numbers every time it is rebuilt from the same scores.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Final, Literal, TypedDict

import numpy as np
import numpy.typing as npt

__all__ = [
    "INTERVAL_RESAMPLES",
    "TEST_RESAMPLES",
    "Estimate",
    "Method",
    "PairedResult",
    "ScoresByInput",
    "Summary",
    "bootstrap_ci",
    "bootstrap_ci_clustered",
    "holm",
    "overall_winner",
    "paired_test",
    "pairwise",
    "summarize",
]

Method = Literal["bootstrap", "permutation"]
#: Scores of one variant: input id -> the scores of that input's samples.
ScoresByInput = Mapping[str, Sequence[float]]

_FloatArray = npt.NDArray[np.float64]

#: Upper bound on the scratch memory of one batch of resamples. A batch holds an index (or
#: sign) matrix and the values gathered with it, 8 bytes each per cell.
_CHUNK_BYTES: Final = 48 * 2**20
_BYTES_PER_CELL: Final = 16
#: Default resamples of a paired test and of a bootstrap interval (reports name them).
TEST_RESAMPLES: Final = 10000
INTERVAL_RESAMPLES: Final = 2000


@dataclass(frozen=True)
class Estimate:
    """A mean with its confidence interval; ``n`` counts independent units (usually inputs)."""

    mean: float
    low: float
    high: float
    n: int
    level: float = 0.95

    def describe(self, digits: int = 3) -> str:
        """Format as ``0.412 [0.380, 0.445]`` for report tables."""
        if self.n == 0:
            return "n/a"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


@dataclass(frozen=True)
class PairedResult:
    """Outcome of comparing variant ``a`` with variant ``b`` on the inputs both were scored on.

    ``diff`` is ``mean_b - mean_a`` (positive when ``b`` scores higher), ``diff_ci`` its
    bootstrap interval and ``diff_sd`` the spread of the per-input differences. The means are
    over the shared inputs only, so they can differ from each variant's overall mean when some
    inputs were dropped.

    ``p_adjusted`` is set by :func:`pairwise` (Holm–Bonferroni over all pairs); when it is set,
    ``winner`` was decided on it rather than on the raw ``p_value``.
    """

    mean_a: float
    mean_b: float
    diff: float
    diff_ci: Estimate
    p_value: float
    n_inputs: int
    method: Method
    dropped_inputs: int
    winner: Literal["a", "b"] | None
    alpha: float = 0.05
    p_adjusted: float | None = None
    #: Standard deviation (``ddof=1``) of the per-input differences; NaN with fewer than two
    #: shared inputs. ``diff / diff_sd`` is the paired effect size the power calculation uses.
    diff_sd: float = math.nan


class Summary(TypedDict):
    """Descriptive numbers for columns such as tokens/s or latency, where no test is needed."""

    mean: float
    std: float
    min: float
    max: float
    n: int


def bootstrap_ci(
    values: Sequence[float],
    *,
    level: float = 0.95,
    resamples: int = INTERVAL_RESAMPLES,
    seed: int = 0,
) -> Estimate | None:
    """Percentile-bootstrap interval for the mean of independent scores.

    Only valid when the values are independent, e.g. one score per input. For ``k`` samples per
    input use :func:`bootstrap_ci_clustered`, or the interval will be too narrow.

    Returns ``None`` when there is nothing to estimate. With a single value there is no spread
    to resample, so the interval collapses onto it.
    """
    _check_level(level)
    _check_resamples(resamples)
    data = _as_array(values)
    if data.size == 0:
        return None
    return _percentile_estimate(data, level, resamples, np.random.default_rng(seed))


def bootstrap_ci_clustered(
    values_by_input: ScoresByInput,
    *,
    level: float = 0.95,
    resamples: int = INTERVAL_RESAMPLES,
    seed: int = 0,
) -> Estimate | None:
    """Bootstrap interval for the mean score over inputs, resampling inputs rather than runs.

    Each input counts once, whatever its number of samples, so the estimate is "the expected
    score on a new input" and ``n`` is the number of inputs. Inputs with no scores are skipped.
    """
    _check_level(level)
    _check_resamples(resamples)
    means = np.array(
        [float(np.mean(s)) for s in _arrays(values_by_input).values() if s.size], dtype=np.float64
    )
    if means.size == 0:
        return None
    return _percentile_estimate(means, level, resamples, np.random.default_rng(seed))


def paired_test(
    a: ScoresByInput,
    b: ScoresByInput,
    *,
    method: Method = "permutation",
    resamples: int = TEST_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
    alpha: float = 0.05,
) -> PairedResult:
    """Two-sided paired test of whether ``a`` and ``b`` score differently on the same inputs.

    Only inputs scored by both variants take part (``dropped_inputs`` counts the rest), and
    each contributes the difference of its per-input means, so ``k`` samples never count as
    ``k`` independent observations.

    ``"permutation"`` (approximate randomization) flips the sign of each per-input difference
    at random: under "no difference" either sign is equally likely. It stays honest with few
    inputs and is the default. ``"bootstrap"`` (Koehn 2004) resamples inputs and counts how
    often the mean difference changes sign; it tends to give too small p-values when there are
    only a handful of inputs.

    Both use the ``+1`` correction, so a p-value is never 0 and a Monte Carlo test can never
    claim more certainty than its number of resamples allows. With fewer than two shared inputs,
    or when every difference is zero, there is no evidence either way and ``p_value`` is 1.
    """
    if method not in ("bootstrap", "permutation"):
        raise ValueError(f"method must be 'bootstrap' or 'permutation', got {method!r}")
    _check_level(level)
    _check_resamples(resamples)
    _check_alpha(alpha)
    arrays_a = _arrays(a)
    arrays_b = _arrays(b)
    scored_a = {key for key, s in arrays_a.items() if s.size}
    scored_b = {key for key, s in arrays_b.items() if s.size}
    # Keep the caller's order of inputs so a given seed always pairs the same draws with them.
    shared = [key for key in arrays_a if key in scored_a and key in scored_b]
    dropped = len(scored_a | scored_b) - len(shared)
    n = len(shared)
    if n == 0:
        nan = math.nan
        return PairedResult(
            mean_a=nan,
            mean_b=nan,
            diff=nan,
            diff_ci=Estimate(nan, nan, nan, 0, level),
            p_value=1.0,
            n_inputs=0,
            method=method,
            dropped_inputs=dropped,
            winner=None,
            alpha=alpha,
        )

    means_a = np.array([float(np.mean(arrays_a[key])) for key in shared], dtype=np.float64)
    means_b = np.array([float(np.mean(arrays_b[key])) for key in shared], dtype=np.float64)
    diffs = means_b - means_a
    observed = float(np.mean(diffs))
    rng = np.random.default_rng(seed)
    boot_means = _bootstrap_means(diffs, resamples, rng)
    diff_ci = _estimate_from(observed, boot_means, n, level)

    if n < 2 or not np.any(diffs):
        p_value = 1.0
    elif method == "bootstrap":
        p_value = _bootstrap_p(observed, boot_means)
    else:
        p_value = _permutation_p(diffs, observed, resamples, rng)

    return PairedResult(
        mean_a=float(np.mean(means_a)),
        mean_b=float(np.mean(means_b)),
        diff=observed,
        diff_ci=diff_ci,
        p_value=p_value,
        n_inputs=n,
        method=method,
        dropped_inputs=dropped,
        winner=_winner(observed, p_value, alpha),
        alpha=alpha,
        diff_sd=float(np.std(diffs, ddof=1)) if n > 1 else math.nan,
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the order given.

    Comparing several variants runs one test per pair; at ``alpha = 0.05`` each, the chance of
    at least one false "winner" grows with the number of pairs. Comparing the adjusted values
    with ``alpha`` keeps that family-wise error rate at ``alpha``, and unlike plain Bonferroni
    it only penalizes the smallest p-value by the full number of tests.
    """
    m = len(p_values)
    for p in p_values:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values must be between 0 and 1, got {p!r}")
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        # Taking the running maximum keeps the adjusted values in the order of the raw ones.
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def pairwise(
    variants: Mapping[str, ScoresByInput],
    *,
    method: Method = "permutation",
    resamples: int = TEST_RESAMPLES,
    seed: int = 0,
    level: float = 0.95,
    alpha: float = 0.05,
) -> list[tuple[str, str, PairedResult]]:
    """Paired test of every pair of variants, with Holm–Bonferroni adjustment across pairs.

    Pairs come in the order of ``variants`` (``(v0, v1), (v0, v2), (v1, v2), ...``). Each
    result carries its raw ``p_value`` and its ``p_adjusted``; ``winner`` is decided on the
    adjusted value, so a report may name it without the multiple-comparison caveat. Every pair
    uses the same ``seed``, so one pair's numbers do not change when a variant is added.
    """
    pairs: list[tuple[str, str, PairedResult]] = []
    for name_a, name_b in combinations(variants, 2):
        result = paired_test(
            variants[name_a],
            variants[name_b],
            method=method,
            resamples=resamples,
            seed=seed,
            level=level,
            alpha=alpha,
        )
        pairs.append((name_a, name_b, result))
    adjusted = holm([result.p_value for _, _, result in pairs])
    return [
        (
            name_a,
            name_b,
            replace(result, p_adjusted=p, winner=_winner(result.diff, p, result.alpha)),
        )
        for (name_a, name_b, result), p in zip(pairs, adjusted, strict=True)
    ]


def overall_winner(pairs: Sequence[tuple[str, str, PairedResult]]) -> str | None:
    """The variant that significantly beats every other one, if there is such a variant.

    Meant for the output of :func:`pairwise`: "best" is only claimed when the variant won each
    of its comparisons, not when it merely has the highest mean.
    """
    names = {name for a, b, _ in pairs for name in (a, b)}
    for name in sorted(names):
        others = {b if a == name else a for a, b, _ in pairs if name in (a, b)}
        won = all(
            (result.winner == "a" and a == name) or (result.winner == "b" and b == name)
            for a, b, result in pairs
            if name in (a, b)
        )
        if won and others == names - {name}:
            return name
    return None


def summarize(values: Sequence[float]) -> Summary:
    """Mean, spread and range of a column, with NaN for an empty column.

    ``std`` is the sample standard deviation (``ddof=1``), reported as 0 for a single value
    so a one-run column still renders.
    """
    data = _as_array(values)
    if data.size == 0:
        nan = math.nan
        return Summary(mean=nan, std=nan, min=nan, max=nan, n=0)
    return Summary(
        mean=float(np.mean(data)),
        std=float(np.std(data, ddof=1)) if data.size > 1 else 0.0,
        min=float(np.min(data)),
        max=float(np.max(data)),
        n=int(data.size),
    )


def _as_array(values: Sequence[float]) -> _FloatArray:
    for value in values:
        if value is None:
            raise ValueError("scores must be numbers; leave N/A (None) scores out before calling")
    data = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(data)):
        raise ValueError("scores must be finite numbers")
    return data


def _arrays(values_by_input: ScoresByInput) -> dict[str, _FloatArray]:
    return {key: _as_array(scores) for key, scores in values_by_input.items()}


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (exclusive), got {level!r}")


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")


def _check_resamples(resamples: int) -> None:
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples!r}")


def _chunks(total: int, width: int) -> Iterator[int]:
    """Row counts of successive batches, so a large resample matrix never sits in memory whole."""
    rows = max(1, _CHUNK_BYTES // (_BYTES_PER_CELL * max(1, width)))
    done = 0
    while done < total:
        size = min(rows, total - done)
        yield size
        done += size


def _bootstrap_means(data: _FloatArray, resamples: int, rng: np.random.Generator) -> _FloatArray:
    n = data.size
    out = np.empty(resamples, dtype=np.float64)
    start = 0
    for rows in _chunks(resamples, n):
        index = rng.integers(0, n, size=(rows, n))
        out[start : start + rows] = data[index].mean(axis=1)
        start += rows
    return out


def _percentile_estimate(
    data: _FloatArray, level: float, resamples: int, rng: np.random.Generator
) -> Estimate:
    mean = float(np.mean(data))
    if data.size == 1:
        return Estimate(mean, mean, mean, 1, level)
    return _estimate_from(mean, _bootstrap_means(data, resamples, rng), int(data.size), level)


def _estimate_from(mean: float, boot_means: _FloatArray, n: int, level: float) -> Estimate:
    if n == 1:
        return Estimate(mean, mean, mean, 1, level)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(boot_means, [tail, 1.0 - tail])
    return Estimate(mean, float(low), float(high), n, level)


def _bootstrap_p(observed: float, boot_means: _FloatArray) -> float:
    if observed == 0.0:
        return 1.0
    flipped = boot_means <= 0.0 if observed > 0.0 else boot_means >= 0.0
    count = int(np.count_nonzero(flipped))
    return min(1.0, 2.0 * (count + 1) / (boot_means.size + 1))


def _permutation_p(
    diffs: _FloatArray, observed: float, resamples: int, rng: np.random.Generator
) -> float:
    n = diffs.size
    # A sign pattern that gives the observed statistic exactly may add up in another order;
    # without a tolerance, rounding alone could decide whether it counts as "as extreme".
    threshold = abs(observed) - 1e-12 * max(1.0, float(np.max(np.abs(diffs))))
    total = float(np.sum(diffs))
    count = 0
    for rows in _chunks(resamples, n):
        # One random bit per input says whether its difference is negated; unpacking random
        # bytes is several times faster than drawing a float per cell.
        packed = rng.integers(0, 256, size=(rows, (n + 7) // 8), dtype=np.uint8)
        flips = np.unpackbits(packed, axis=1, count=n).astype(np.float64)
        stats = (total - 2.0 * (flips @ diffs)) / n
        count += int(np.count_nonzero(np.abs(stats) >= threshold))
    return (count + 1) / (resamples + 1)


def _winner(diff: float, p_value: float, alpha: float) -> Literal["a", "b"] | None:
    if p_value >= alpha or diff == 0.0 or math.isnan(diff):
        return None
    return "b" if diff > 0.0 else "a"
