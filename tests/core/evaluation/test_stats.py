"""Statistics for comparing variants: known differences are found, noise is not called a win."""

from __future__ import annotations

import math

import numpy as np
import pytest

from playground.evaluation import stats
from playground.evaluation.stats import (
    Estimate,
    PairedResult,
    ScoresByInput,
    bootstrap_ci,
    bootstrap_ci_clustered,
    holm,
    overall_winner,
    paired_test,
    pairwise,
    summarize,
)


def _by_input(values: np.ndarray) -> dict[str, list[float]]:
    """Rows are inputs, columns are samples."""
    return {f"in{i}": [float(v) for v in row] for i, row in enumerate(np.atleast_2d(values))}


def _shifted_pair(
    shift: float, *, n: int = 50, k: int = 3, noise: float = 0.02, seed: int = 1
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Variant ``b`` scores ``shift`` above ``a`` on every input, up to per-sample noise."""
    rng = np.random.default_rng(seed)
    difficulty = rng.uniform(0.2, 0.8, size=(n, 1))
    a = difficulty + rng.normal(0.0, noise, size=(n, k))
    b = difficulty + shift + rng.normal(0.0, noise, size=(n, k))
    return _by_input(a), _by_input(b)


# --- Estimate and bootstrap_ci ------------------------------------------------------------------


def test_describe_formats_mean_and_interval() -> None:
    assert Estimate(0.412, 0.38, 0.445, n=10).describe() == "0.412 [0.380, 0.445]"
    assert Estimate(0.5, 0.25, 0.75, n=4).describe(digits=1) == "0.5 [0.2, 0.8]"


def test_bootstrap_ci_of_nothing_is_none() -> None:
    assert bootstrap_ci([]) is None
    assert bootstrap_ci_clustered({}) is None
    assert bootstrap_ci_clustered({"x": [], "y": []}) is None


def test_bootstrap_ci_of_one_value_is_degenerate() -> None:
    assert bootstrap_ci([0.7]) == Estimate(0.7, 0.7, 0.7, 1, 0.95)
    clustered = bootstrap_ci_clustered({"x": [0.25, 0.75]})
    assert clustered == Estimate(0.5, 0.5, 0.5, 1, 0.95)


def test_bootstrap_ci_brackets_the_sample_mean() -> None:
    values = list(np.random.default_rng(3).normal(0.5, 0.1, size=40))
    estimate = bootstrap_ci(values, level=0.9)
    assert estimate is not None
    assert estimate.mean == pytest.approx(float(np.mean(values)))
    assert estimate.low < estimate.mean < estimate.high
    assert estimate.n == 40
    assert estimate.level == 0.9


def test_bootstrap_ci_is_reproducible_with_a_seed() -> None:
    values = list(np.random.default_rng(4).random(30))
    assert bootstrap_ci(values, seed=7) == bootstrap_ci(values, seed=7)
    assert bootstrap_ci(values, seed=7) != bootstrap_ci(values, seed=8)


def test_higher_level_gives_wider_interval() -> None:
    values = list(np.random.default_rng(5).random(30))
    narrow = bootstrap_ci(values, level=0.8)
    wide = bootstrap_ci(values, level=0.99)
    assert narrow is not None
    assert wide is not None
    assert wide.high - wide.low > narrow.high - narrow.low


def test_bootstrap_ci_covers_the_true_mean_about_95_percent_of_the_time() -> None:
    true_mean = 0.3
    covered = 0
    repetitions = 200
    for rep in range(repetitions):
        sample = np.random.default_rng(1000 + rep).normal(true_mean, 1.0, size=30)
        estimate = bootstrap_ci(list(sample), seed=rep)
        assert estimate is not None
        covered += estimate.low <= true_mean <= estimate.high
    assert 0.88 <= covered / repetitions <= 0.99


@pytest.mark.parametrize("bad", [[None], [math.nan], [math.inf]])
def test_missing_or_non_finite_scores_are_refused(bad: list[float]) -> None:
    with pytest.raises(ValueError, match="scores must be"):
        bootstrap_ci(bad)
    with pytest.raises(ValueError, match="scores must be"):
        paired_test({"x": bad}, {"x": [1.0]})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level": 0.0}, "level"),
        ({"level": 1.0}, "level"),
        ({"resamples": 0}, "resamples"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bootstrap_ci([1.0, 2.0], **kwargs)  # type: ignore[arg-type]


# --- clustered bootstrap ------------------------------------------------------------------------


def test_clustered_ci_is_wider_than_naive_when_samples_are_correlated() -> None:
    rng = np.random.default_rng(11)
    # Most of the spread is between inputs; samples of one input barely differ.
    scores = rng.normal(0.0, 1.0, size=(30, 1)) + rng.normal(0.0, 0.1, size=(30, 10))
    naive = bootstrap_ci(list(scores.ravel()))
    clustered = bootstrap_ci_clustered(_by_input(scores))
    assert naive is not None
    assert clustered is not None
    assert clustered.n == 30
    assert naive.n == 300
    assert clustered.mean == pytest.approx(naive.mean)
    assert clustered.high - clustered.low > 2 * (naive.high - naive.low)


def test_clustered_with_one_sample_per_input_matches_plain_bootstrap() -> None:
    values = np.random.default_rng(12).random(25)
    assert bootstrap_ci_clustered(_by_input(values[:, None])) == bootstrap_ci(list(values))


def test_clustered_weights_each_input_once() -> None:
    estimate = bootstrap_ci_clustered({"x": [1.0, 1.0, 1.0, 1.0], "y": [0.0], "z": []})
    assert estimate is not None
    assert estimate.mean == 0.5
    assert estimate.n == 2


# --- paired tests -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["permutation", "bootstrap"])
def test_a_real_improvement_is_detected(method: stats.Method) -> None:
    a, b = _shifted_pair(0.1)
    result = paired_test(a, b, method=method)
    assert result.p_value < 0.01
    assert result.winner == "b"
    assert result.diff == pytest.approx(0.1, abs=0.02)
    assert result.diff == pytest.approx(result.mean_b - result.mean_a)
    assert result.diff_ci.low < result.diff < result.diff_ci.high
    assert result.diff_ci.low > 0
    assert result.n_inputs == 50
    assert result.dropped_inputs == 0
    assert result.method == method


def test_winner_is_a_when_a_scores_higher() -> None:
    a, b = _shifted_pair(0.1)
    result = paired_test(b, a)
    assert result.winner == "a"
    assert result.diff < 0
    assert result.diff_ci.high < 0


@pytest.mark.parametrize("method", ["permutation", "bootstrap"])
def test_same_distribution_is_not_a_win(method: stats.Method) -> None:
    rng = np.random.default_rng(21)
    a = _by_input(rng.random((50, 3)))
    b = _by_input(rng.random((50, 3)))
    result = paired_test(a, b, method=method)
    assert result.p_value > 0.05
    assert result.winner is None
    assert result.diff_ci.low < 0 < result.diff_ci.high


@pytest.mark.parametrize("method", ["permutation", "bootstrap"])
def test_identical_scores_give_p_of_one(method: stats.Method) -> None:
    a = {f"in{i}": [0.5, 0.5] for i in range(20)}
    result = paired_test(a, dict(a), method=method)
    assert result.p_value == 1.0
    assert result.winner is None
    assert result.diff == 0.0
    assert result.diff_ci.describe() == "0.000 [0.000, 0.000]"


def test_permutation_and_bootstrap_agree_on_a_clear_case() -> None:
    a, b = _shifted_pair(0.05, noise=0.05, seed=2)
    permutation = paired_test(a, b, method="permutation")
    bootstrap = paired_test(a, b, method="bootstrap")
    assert permutation.winner == bootstrap.winner == "b"
    assert permutation.p_value < 0.001
    assert bootstrap.p_value < 0.001
    assert permutation.diff == bootstrap.diff
    assert permutation.diff_ci == bootstrap.diff_ci


def test_p_value_never_reaches_zero() -> None:
    a, b = _shifted_pair(0.5)
    assert paired_test(a, b, resamples=999).p_value == pytest.approx(1 / 1000)
    assert paired_test(a, b, method="bootstrap", resamples=999).p_value == pytest.approx(2 / 1000)


def test_paired_test_is_reproducible_with_a_seed() -> None:
    a, b = _shifted_pair(0.005, noise=0.05, seed=3)
    assert paired_test(a, b, seed=5) == paired_test(a, b, seed=5)
    assert paired_test(a, b, seed=5).p_value != paired_test(a, b, seed=6).p_value


def test_inputs_missing_from_either_side_are_dropped_and_counted() -> None:
    a, b = _shifted_pair(0.1, n=30)
    del a["in0"], a["in1"]
    del b["in2"]
    b["in3"] = []  # every run of this input was N/A
    b["extra"] = [1.0]
    result = paired_test(a, b)
    assert result.n_inputs == 26
    assert result.dropped_inputs == 5


def test_paired_means_use_only_shared_inputs() -> None:
    result = paired_test({"x": [0.0, 1.0], "y": [1.0], "only_a": [9.0]}, {"x": [1.0], "y": [1.0]})
    assert result.mean_a == 0.75
    assert result.mean_b == 1.0
    assert result.diff == 0.25
    assert result.dropped_inputs == 1


def test_no_shared_inputs_is_no_evidence() -> None:
    result = paired_test({"x": [1.0]}, {"y": [0.0]})
    assert result.n_inputs == 0
    assert result.dropped_inputs == 2
    assert result.p_value == 1.0
    assert result.winner is None
    assert math.isnan(result.diff)
    assert result.diff_ci.describe() == "n/a"


@pytest.mark.parametrize("method", ["permutation", "bootstrap"])
def test_one_shared_input_is_no_evidence(method: stats.Method) -> None:
    result = paired_test({"x": [0.0, 0.5]}, {"x": [0.75, 1.0]}, method=method)
    assert result.n_inputs == 1
    assert result.p_value == 1.0
    assert result.winner is None
    assert result.diff_ci == Estimate(0.625, 0.625, 0.625, 1)


def test_alpha_decides_the_winner() -> None:
    a, b = _shifted_pair(0.1)
    result = paired_test(a, b, resamples=99)
    assert result.p_value == pytest.approx(0.01)
    assert paired_test(a, b, resamples=99, alpha=0.01).winner is None
    assert paired_test(a, b, resamples=99, alpha=0.011).winner == "b"


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        paired_test({"x": [1.0]}, {"x": [1.0]}, method="t-test")  # type: ignore[arg-type]


def test_large_resample_counts_are_drawn_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = _shifted_pair(0.003, noise=0.02, seed=4)
    whole = paired_test(a, b, resamples=4000)
    monkeypatch.setattr(stats, "_CHUNK_BYTES", 50 * 16 * 7)  # 7 rows per chunk
    chunked = paired_test(a, b, resamples=4000)
    assert chunked == paired_test(a, b, resamples=4000)
    assert chunked.p_value == pytest.approx(whole.p_value, abs=0.05)
    assert chunked.diff_ci.low == pytest.approx(whole.diff_ci.low, abs=0.002)


# --- Holm and pairwise --------------------------------------------------------------------------


def test_holm_matches_hand_computed_values() -> None:
    # Sorted: 0.01*4=0.04, 0.02*3=0.06, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06.
    assert holm([0.04, 0.01, 0.03, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    # Capped at 1 and kept monotone: 0.3*3=0.9, 0.4*2=0.8 -> 0.9, 0.5*1 -> 0.9.
    assert holm([0.5, 0.3, 0.4]) == pytest.approx([0.9, 0.9, 0.9])
    assert holm([0.6, 0.01]) == pytest.approx([0.6, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_holm_edge_cases() -> None:
    assert holm([]) == []
    assert holm([0.03]) == [0.03]
    assert holm([0.02, 0.02]) == pytest.approx([0.04, 0.04])
    with pytest.raises(ValueError, match="between 0 and 1"):
        holm([1.5])


def _three_variants() -> dict[str, ScoresByInput]:
    rng = np.random.default_rng(31)
    difficulty = rng.uniform(0.2, 0.7, size=(60, 1))
    return {
        "base": _by_input(difficulty + rng.normal(0.0, 0.05, size=(60, 3))),
        "same": _by_input(difficulty + rng.normal(0.0, 0.05, size=(60, 3))),
        "better": _by_input(difficulty + 0.1 + rng.normal(0.0, 0.05, size=(60, 3))),
    }


def test_pairwise_covers_every_pair_with_holm_adjustment() -> None:
    variants = _three_variants()
    results = pairwise(variants, resamples=2000)
    assert [(a, b) for a, b, _ in results] == [
        ("base", "same"),
        ("base", "better"),
        ("same", "better"),
    ]
    raw = [result.p_value for _, _, result in results]
    assert [result.p_adjusted for _, _, result in results] == pytest.approx(holm(raw))
    winners = {(a, b): result.winner for a, b, result in results}
    assert winners == {("base", "same"): None, ("base", "better"): "b", ("same", "better"): "b"}
    assert overall_winner(results) == "better"
    # Each pair matches a direct test apart from the adjustment.
    direct = paired_test(variants["base"], variants["same"], resamples=2000)
    assert results[0][2].p_value == direct.p_value
    assert results[0][2].diff_ci == direct.diff_ci


def test_pairwise_winner_uses_the_adjusted_p_value() -> None:
    # With 99 resamples the smallest p is 0.01; three pairs adjust it to 0.03.
    a, b = _shifted_pair(0.1)
    variants: dict[str, ScoresByInput] = {"a": a, "b": b, "c": a}
    results = pairwise(variants, resamples=99, alpha=0.02)
    by_pair = {(x, y): result for x, y, result in results}
    assert by_pair["a", "b"].p_value == pytest.approx(0.01)
    assert by_pair["a", "b"].p_adjusted == pytest.approx(0.03)
    assert by_pair["a", "b"].winner is None
    assert paired_test(a, b, resamples=99, alpha=0.02).winner == "b"


def test_no_overall_winner_without_a_clear_best() -> None:
    variants = _three_variants()
    variants["better_too"] = variants["better"]
    results = pairwise(variants, resamples=2000)
    assert overall_winner(results) is None
    assert overall_winner(pairwise({"only": variants["base"]})) is None


def test_pair_results_are_plain_values() -> None:
    a, b = _shifted_pair(0.1, n=10)
    result = paired_test(a, b, resamples=200)
    assert isinstance(result, PairedResult)
    assert result.alpha == 0.05
    assert result.p_adjusted is None


# --- summarize ----------------------------------------------------------------------------------


def test_summarize_reports_mean_spread_and_range() -> None:
    assert summarize([1.0, 2.0, 3.0, 6.0]) == {
        "mean": 3.0,
        "std": pytest.approx(float(np.std([1.0, 2.0, 3.0, 6.0], ddof=1))),
        "min": 1.0,
        "max": 6.0,
        "n": 4,
    }


def test_summarize_degenerate_columns() -> None:
    assert summarize([4.5]) == {"mean": 4.5, "std": 0.0, "min": 4.5, "max": 4.5, "n": 1}
    empty = summarize([])
    assert empty["n"] == 0
    assert math.isnan(empty["mean"])
    assert math.isnan(empty["std"])
    assert math.isnan(empty["min"])
    assert math.isnan(empty["max"])
