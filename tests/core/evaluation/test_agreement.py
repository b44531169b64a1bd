"""The judge's agreement with people: kappa, Spearman, intervals over inputs, the verdict.

Published values the statistics are checked against (scipy is not a dependency):
* Spearman: Wikipedia, "Spearman's rank correlation coefficient", worked example (IQ against
  hours of television a week, ten people): rho = -29/165 = -0.175757...
* Unweighted kappa: Wikipedia, "Cohen's kappa", worked example (50 grant proposals, two readers,
  20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no): kappa = 0.4.
* Quadratic-weighted kappa: Maple's documentation of EssayTools[QuadraticWeightedKappa],
  examples 1 and 2: 0.758620689655172 and 0.438095238095238.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from playground.evaluation.agreement import (
    ChoicePair,
    LikertPair,
    agreement_rate,
    average_ranks,
    cohen_kappa,
    likert_agreement,
    likert_pairs,
    match_judgements,
    pairwise_agreement,
    spearman,
)
from playground.evaluation.report import ReportRun
from playground.ratings import Judgement


def test_spearman_matches_the_published_worked_example() -> None:
    iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110]
    tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17]
    assert spearman(iq, tv) == pytest.approx(-29 / 165)


def test_ties_take_the_average_of_their_ranks() -> None:
    assert average_ranks([10, 20, 20, 30]).tolist() == [1.0, 2.5, 2.5, 4.0]
    assert average_ranks([3, 1, 3, 3]).tolist() == [3.0, 1.0, 3.0, 3.0]
    # By hand: x ranks 1, 2.5, 2.5, 4 and y ranks 1, 2, 3.5, 3.5. Deviations from the mean
    # rank 2.5: x (-1.5, 0, 0, 1.5), y (-1.5, -0.5, 1, 1); sum of products 2.25 + 1.5 = 3.75,
    # sums of squares 4.5 and 4.5: rho = 3.75 / 4.5 = 0.8333...
    assert spearman([1, 2, 2, 3], [5, 6, 7, 7]) == pytest.approx(3.75 / 4.5)
    # The plain d^2 formula, wrong with ties, gives 1 - 6*(0+0.25+1+0.25)/(4*15) = 0.85 here.
    assert spearman([1, 2, 2, 3], [5, 6, 7, 7]) != pytest.approx(0.85)


def test_spearman_is_undefined_for_a_constant_side_or_a_single_pair() -> None:
    assert math.isnan(spearman([3, 3, 3], [1, 2, 3]))
    assert math.isnan(spearman([1], [1]))
    assert spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)


def test_unweighted_kappa_matches_the_published_worked_example() -> None:
    reader_a = ["yes"] * 25 + ["no"] * 25
    reader_b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(reader_a, reader_b) == pytest.approx(0.4)
    assert agreement_rate(reader_a, reader_b) == pytest.approx(0.7)


def test_quadratic_weighted_kappa_matches_the_published_examples() -> None:
    first = [9, 7, 8, 7, 6, 8, 3, 5, 10]
    assert cohen_kappa(first, [8, 8, 6, 6, 7, 6, 1, 4, 8], "quadratic") == pytest.approx(
        0.758620689655172)
    assert cohen_kappa(first, [3, 5, 6, 6, 7, 6, 1, 4, 8], "quadratic") == pytest.approx(
        0.438095238095238)


def test_weighted_kappa_by_hand_and_by_an_independent_identity() -> None:
    # By hand, x = (1, 2, 3), y = (1, 3, 3): observed squared disagreement (0 + 1 + 0) / 3;
    # chance: mean of (x_i - y_j)^2 over all nine pairs = (0+4+4 + 1+1+1 + 4+0+0) / 9 = 15/9.
    # kappa = 1 - (1/3) / (15/9) = 0.8. Linear: observed 1/3, chance (0+2+2+1+1+1+2+0+0)/9 = 1;
    # kappa = 2/3. Unweighted: observed 1/3, chance 1 - (1/3*1/3 + 1/3*0 + 1/3*2/3) = 2/3; 0.5.
    assert cohen_kappa([1, 2, 3], [1, 3, 3], "quadratic") == pytest.approx(0.8)
    assert cohen_kappa([1, 2, 3], [1, 3, 3], "linear") == pytest.approx(2 / 3)
    assert cohen_kappa([1, 2, 3], [1, 3, 3]) == pytest.approx(0.5)
    # Quadratic kappa equals 2 cov / (var_x + var_y + (mean_x - mean_y)^2) with population
    # moments (Lin's concordance), a different route to the same number.
    rng = np.random.default_rng(7)
    x = rng.integers(1, 6, size=40)
    y = np.clip(x + rng.integers(-1, 2, size=40), 1, 5)
    cov = float(np.mean((x - x.mean()) * (y - y.mean())))
    lin = 2 * cov / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)
    assert cohen_kappa(x.tolist(), y.tolist(), "quadratic") == pytest.approx(lin)
    # A category nobody used does not change the weights: 1 vs 5 is a distance of 4 even with
    # no 2, 3 or 4 in sight.
    assert cohen_kappa([1, 5, 5, 1], [1, 5, 1, 1], "quadratic") == pytest.approx(
        cohen_kappa([1, 2, 2, 1], [1, 2, 1, 1], "quadratic"))


def test_a_constant_rater_gives_kappa_zero_and_two_identical_constant_raters_none() -> None:
    assert cohen_kappa([4, 4, 4, 4], [3, 4, 5, 4], "quadratic") == pytest.approx(0.0)
    assert cohen_kappa(["a", "a", "a"], ["a", "b", "tie"]) == pytest.approx(0.0)
    assert math.isnan(cohen_kappa([4, 4, 4], [4, 4, 4], "quadratic"))
    assert math.isnan(cohen_kappa(["a", "a"], ["a", "a"]))
    assert math.isnan(cohen_kappa([], []))


def _likert(n_inputs: int, per_input: int, noise: float, seed: int) -> list[LikertPair]:
    rng = np.random.default_rng(seed)
    pairs = []
    for i in range(n_inputs):
        for _ in range(per_input):
            human = int(rng.integers(1, 6))
            judge = float(np.clip(human + rng.normal(0.0, noise), 1.0, 5.0))
            pairs.append(LikertPair(f"q{i}", human, judge))
    return pairs


def test_likert_agreement_intervals_contain_the_estimate_and_shrink_with_more_inputs() -> None:
    few = likert_agreement("coherence", _likert(12, 3, 0.8, seed=1), seed=3)
    many = likert_agreement("coherence", _likert(120, 3, 0.8, seed=1), seed=3)
    for result in (few, many):
        for est in (result.kappa, result.spearman):
            assert est is not None and est.low <= est.mean <= est.high
    assert few.kappa is not None and many.kappa is not None
    assert (many.kappa.high - many.kappa.low) < (few.kappa.high - few.kappa.low)
    assert (few.pairs, few.inputs, few.kappa.n) == (36, 12, 12)
    # Seeded: the same numbers again.
    again = likert_agreement("coherence", _likert(12, 3, 0.8, seed=1), seed=3)
    assert again == few


def test_the_interval_resamples_inputs_not_ratings() -> None:
    # Each input's three outputs are copies: resampling ratings would treat 30 pairs as 30
    # independent ones and give a narrower interval than these 10 inputs support.
    base = _likert(10, 1, 1.0, seed=5)
    copied = [p for p in base for _ in range(3)]
    spread = [LikertPair(f"{p.input_id}-{k}", p.human, p.judge) for p in base for k in range(3)]
    by_input = likert_agreement("c", copied, seed=0).kappa
    by_rating = likert_agreement("c", spread, seed=0).kappa
    assert by_input is not None and by_rating is not None
    assert by_input.mean == pytest.approx(by_rating.mean)
    assert by_input.n == 10 and by_rating.n == 30
    assert (by_input.high - by_input.low) > (by_rating.high - by_rating.low)


def test_the_verdict_in_plain_words() -> None:
    good = likert_agreement("coherence", _likert(30, 2, 0.3, seed=2))
    assert good.standing == "good"
    assert good.sentence.startswith("The judge agrees well with your ratings (κ = ")
    assert "over 30 inputs): its scores can stand in for yours on this comparison." in (
        good.sentence)
    rng = np.random.default_rng(4)
    unrelated = [LikertPair(f"q{i}", int(rng.integers(1, 6)), float(rng.integers(1, 6)))
                 for i in range(40)]
    poor = likert_agreement("coherence", unrelated)
    assert poor.standing == "poor" and "do not rely on it" in poor.sentence
    few = likert_agreement("coherence", _likert(3, 2, 0.3, seed=2))
    assert few.standing == "too few" and "(6;" in few.sentence
    assert likert_agreement("coherence", []).standing == "too few"
    constant = [LikertPair(f"q{i}", 4, float(1 + i % 5)) for i in range(20)]
    told = likert_agreement("coherence", constant)
    assert told.standing == "cannot tell"
    assert "you gave every output the same rating (4)" in told.sentence
    assert told.spearman is None  # undefined, not a number that reads as "no agreement"


def test_the_judges_expected_score_is_rounded_to_a_label_for_kappa_only() -> None:
    # Judge 3.5 reads as 4 for kappa (halves up); Spearman uses 3.5 as it is.
    pairs = [LikertPair("q1", 4, 3.5), LikertPair("q2", 2, 2.4), LikertPair("q3", 5, 4.6)]
    result = likert_agreement("c", pairs, resamples=10)
    assert result.kappa is not None and result.kappa.mean == pytest.approx(1.0)
    assert result.spearman is not None and result.spearman.mean == pytest.approx(1.0)


def _j(input_id: str, a: str, b: str, choice: str) -> Judgement:
    return Judgement(input_id, "p", a, f"out {a}", b, f"out {b}", choice)  # type: ignore[arg-type]


def test_judge_verdicts_are_matched_to_peoples_in_the_persons_orientation() -> None:
    people = [_j("q1", "x", "y", "a"), _j("q2", "y", "x", "a"), _j("q3", "x", "y", "tie"),
              _j("q4", "x", "y", "b")]
    judge = [_j("q1", "x", "y", "a"), _j("q2", "x", "y", "b"), _j("q3", "y", "x", "tie")]
    matched = match_judgements(people, judge)
    assert matched == [ChoicePair("q1", "a", "a"), ChoicePair("q2", "a", "a"),
                       ChoicePair("q3", "tie", "tie")]


def test_pairwise_agreement_rate_and_kappa() -> None:
    # 12 pairs over 12 inputs: 10 agree. By hand, people a:6 b:4 tie:2, judge a:6 b:5 tie:1;
    # chance agreement (36 + 20 + 2) / 144; kappa = (10/12 - 58/144) / (1 - 58/144) = 62/86.
    people = ["a"] * 6 + ["b"] * 4 + ["tie"] * 2
    judge = ["a", "a", "a", "a", "a", "b", "b", "b", "b", "b", "a", "tie"]
    pairs = [ChoicePair(f"q{i}", h, j)  # type: ignore[arg-type]
             for i, (h, j) in enumerate(zip(people, judge, strict=True))]
    result = pairwise_agreement("overall", pairs)
    assert result.rate is not None and result.rate.mean == pytest.approx(10 / 12)
    assert result.kappa is not None and result.kappa.mean == pytest.approx(62 / 86)
    assert result.kappa.low <= result.kappa.mean <= result.kappa.high
    assert result.kind == "pairwise" and "your judgements" in result.sentence


def test_likert_pairs_come_from_runs_a_person_rated_and_the_judge_scored() -> None:
    def run(input_id: str, criteria: dict[str, int], scores: dict[str, float | None]) -> ReportRun:
        return ReportRun("v", input_id, 0, 1, "ok", "p", "o", (), scores, criteria=criteria)

    runs = [run("q1", {"Coherence": 4}, {"judge:coherence": 3.6, "rougeL_f": 0.2}),
            run("q2", {"coherence": 2}, {"judge:coherence": None}),  # judge said N/A
            run("q3", {}, {"judge:coherence": 4.0}),  # nobody rated it
            run("q4", {"fluency": 5}, {"judge:fluency": 4.8})]
    assert likert_pairs(runs, "coherence") == [LikertPair("q1", 4.0, 3.6)]
    assert likert_pairs(runs, "Fluency") == [LikertPair("q4", 5.0, 4.8)]
