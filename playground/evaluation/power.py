"""How many inputs a comparison needs before a difference of the size it saw could show up as
significant: the number a reader needs when "not significant" was said over five inputs.

The comparison's test (:func:`playground.evaluation.stats.paired_test`) is a paired
sign-flip permutation test on the per-input differences. Its power is close to that of the
paired t-test on the same differences, so the sample size is the paired t-test's: for the
effect size ``d = mean(differences) / sd(differences)`` (Cohen's ``d_z``), two-sided level
``alpha`` and power ``1 - beta``,

    n = ((z[1 - alpha/2] + z[1 - beta]) / d)² + z[1 - alpha/2]² / 2

rounded up. This is the normal approximation with Guenther's (1981) small-sample correction
(the second term), which stands in for iterating the noncentral t-distribution: at 80 % power
and ``alpha = 0.05`` it gives the t-test's exact answers (d = 0.2: 199, 0.5: 34, 0.8: 15,
1.0: 10).

One more floor comes from the permutation test itself: with ``n`` inputs its smallest
two-sided p-value is ``2 / 2**n``, so below ``log2(2 / alpha)`` inputs (6 at 0.05) no
difference, however large, can be significant.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Final

from playground.evaluation.stats import PairedResult

ALPHA: Final = 0.05
POWER: Final = 0.8


def smallest_testable(alpha: float = ALPHA) -> int:
    """The fewest inputs with which the sign-flip test can reach ``alpha`` at all."""
    return math.ceil(math.log2(2.0 / alpha) - 1e-12)


def inputs_needed(effect: float, *, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """Inputs needed to detect a paired effect of size ``effect`` (``d_z``) with probability
    ``power`` in a two-sided test at level ``alpha``; None when the effect is zero or not a
    number (there is nothing to detect). An infinite effect (every difference the same) needs
    only what the test's floor asks."""
    if not 0.0 < alpha < 1.0 or not 0.0 < power < 1.0:
        raise ValueError(f"alpha and power must be between 0 and 1, got {alpha!r}, {power!r}")
    if math.isnan(effect) or effect == 0.0:
        return None
    if math.isinf(effect):
        return smallest_testable(alpha)
    normal = NormalDist()
    z_alpha = normal.inv_cdf(1.0 - alpha / 2.0)
    z_power = normal.inv_cdf(power)
    n = ((z_alpha + z_power) / abs(effect)) ** 2 + z_alpha**2 / 2.0
    # A hair under an integer is that integer, not the next one.
    return max(math.ceil(n - 1e-9), smallest_testable(alpha))


def paired_effect(result: PairedResult) -> float | None:
    """The observed effect size of a paired test: the mean per-input difference over their
    standard deviation (infinite when every input differs by the same amount); None with
    fewer than two inputs or no difference."""
    if result.n_inputs < 2 or not math.isfinite(result.diff) or result.diff == 0.0:
        return None
    if not math.isfinite(result.diff_sd):
        return None
    if result.diff_sd == 0.0:
        return math.copysign(math.inf, result.diff)
    return result.diff / result.diff_sd


def inputs_needed_for(
    result: PairedResult, *, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Inputs needed to detect the difference ``result`` observed (see the module's note);
    None when the effect is zero or undefined."""
    effect = paired_effect(result)
    return None if effect is None else inputs_needed(effect, alpha=alpha, power=power)
