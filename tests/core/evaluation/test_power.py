"""Inputs needed for 80 % power at α = 0.05 (two-sided) to detect an observed paired effect."""

from __future__ import annotations

import math
import statistics

import pytest

from playground.evaluation.power import (
    inputs_needed,
    inputs_needed_for,
    paired_effect,
    smallest_testable,
)
from playground.evaluation.stats import paired_test


@pytest.mark.parametrize(("effect", "needed"), [
    # The paired t-test's sample sizes at 80 % power, α = 0.05 two-sided (Cohen 1988; the
    # same as G*Power's exact noncentral-t answers).
    (0.2, 199), (0.3, 90), (0.5, 34), (0.8, 15), (1.0, 10), (1.2, 8),
])
def test_textbook_sample_sizes(effect: float, needed: int) -> None:
    assert inputs_needed(effect) == needed
    assert inputs_needed(-effect) == needed  # two-sided: the direction does not matter


def test_more_power_or_a_stricter_level_needs_more_inputs() -> None:
    base = inputs_needed(0.5)
    assert base is not None
    assert (inputs_needed(0.5, power=0.9) or 0) > base
    assert (inputs_needed(0.5, alpha=0.01) or 0) > base
    assert (inputs_needed(0.25) or 0) > 3 * base  # about four times for half the effect


def test_the_permutation_test_sets_a_floor() -> None:
    # With 5 inputs the smallest two-sided sign-flip p-value is 2 / 2**5 = 0.0625 > 0.05.
    assert smallest_testable(0.05) == 6
    assert 2 / 2**5 > 0.05 > 2 / 2**6
    assert inputs_needed(3.0) == 6  # the formula alone would say 3
    assert inputs_needed(math.inf) == 6


def test_no_effect_needs_no_answer() -> None:
    assert inputs_needed(0.0) is None
    assert inputs_needed(math.nan) is None
    with pytest.raises(ValueError, match="between 0 and 1"):
        inputs_needed(0.5, power=1.0)


def test_the_effect_is_read_from_the_paired_test() -> None:
    diffs = [0.1, 0.3, -0.1, 0.2, 0.0]
    a = {f"in-{i}": [0.5] for i in range(5)}
    b = {f"in-{i}": [0.5 + d] for i, d in enumerate(diffs)}
    result = paired_test(a, b, resamples=200)
    assert result.diff_sd == pytest.approx(statistics.stdev(diffs))
    effect = paired_effect(result)
    assert effect == pytest.approx(0.1 / math.sqrt(0.025))  # mean 0.1, variance 0.1 / 4
    # (1.960 + 0.842)² / 0.4 + 1.960² / 2 = 19.6 + 1.9 = 21.6, rounded up
    assert inputs_needed_for(result) == 22
    same = paired_test(a, a, resamples=200)
    assert paired_effect(same) is None and inputs_needed_for(same) is None
    one = paired_test({"x": [0.1]}, {"x": [0.9]}, resamples=200)
    assert math.isnan(one.diff_sd) and inputs_needed_for(one) is None
    constant = paired_test(a, {k: [0.7] for k in a}, resamples=200)
    assert paired_effect(constant) == math.inf and inputs_needed_for(constant) == 6
