"""A judge's rubric score from its token probabilities over the scale, and from its text."""

from __future__ import annotations

import math

import pytest

from playground.evaluation.judge_scores import (
    JudgeScaleError,
    RubricScore,
    candidates,
    expected_score,
    judge_metric,
    read_rubric,
    score_from_text,
    score_position,
)
from playground.evaluation.report import ReportRun, build_report
from playground.evaluation.scales import column_label, metric_label, unit
from playground.evaluation.summary import winner_sentence
from playground.events import TokenLogprob

log = math.log


def test_expected_score_is_the_probability_weighted_mean_renormalised_over_the_scale() -> None:
    # 0.5 on "4", 0.2 on "5", 0.1 on "3", 0.2 off the scale: mass 0.8, renormalised
    # 4: 0.625, 5: 0.25, 3: 0.125 -> 3*0.125 + 4*0.625 + 5*0.25 = 4.125 (by hand).
    score = expected_score({"4": log(0.5), "5": log(0.2), "3": log(0.1), "The": log(0.2)})
    assert score.source == "logprobs"
    assert score.expected == pytest.approx(4.125)
    assert score.most_likely == 4
    assert score.mass == pytest.approx(0.8)
    assert dict(score.probabilities) == pytest.approx(
        {"1": 0.0, "2": 0.0, "3": 0.125, "4": 0.625, "5": 0.25})


def test_leading_space_tokens_count_for_their_label_and_add_up() -> None:
    # " 4" and "4" are different tokens that both say 4: 0.3 + 0.3 = 0.6 on 4, 0.2 on " 2".
    score = expected_score({" 4": log(0.3), "4": log(0.3), " 2": log(0.2), "\n": log(0.2)})
    assert score.most_likely == 4
    assert score.expected == pytest.approx((2 * 0.2 + 4 * 0.6) / 0.8)  # 3.5


def test_less_than_half_the_mass_on_the_scale_is_na_with_the_reason_and_half_scores() -> None:
    under = expected_score({"3": log(0.49), "I": log(0.51)})
    assert under.expected is None and under.most_likely is None
    assert under.source == "n/a"
    assert under.reason is not None and "49%" in under.reason and "50%" in under.reason
    half = expected_score({"3": log(0.25), "5": log(0.25), "I": log(0.5)})
    assert half.source == "logprobs"
    assert half.expected == pytest.approx(4.0)
    # Two labels equally likely: the lower one is named, so the choice never depends on order.
    assert half.most_likely == 3


def test_nothing_on_the_scale_and_nan_logprobs_are_na() -> None:
    assert expected_score({}).source == "n/a"
    assert expected_score({"4": math.nan, "x": 0.0}).source == "n/a"


def test_a_custom_scale_and_a_scale_that_cannot_be_scored() -> None:
    score = expected_score({"0": log(0.5), "10": log(0.5)}, scale=[str(i) for i in range(11)])
    assert score.expected == pytest.approx(5.0)
    with pytest.raises(JudgeScaleError, match="whole numbers"):
        expected_score({}, scale=("bad", "good"))
    with pytest.raises(JudgeScaleError, match="repeats"):
        expected_score({}, scale=("1", "1"))
    with pytest.raises(JudgeScaleError, match="at least two"):
        score_from_text("5", scale=("5",))


def test_text_fallback_reads_the_first_label_standing_as_a_word_and_says_so() -> None:
    assert score_from_text("Score: 4/5").expected == 4.0
    text = score_from_text(" 3\nThe answer is mostly relevant.")
    assert (text.expected, text.most_likely, text.source) == (3.0, 3, "text")
    assert score_from_text("I give it 45 points").source == "n/a"  # 45 is not on 1-5
    missing = score_from_text("It is quite good.")
    assert missing.source == "n/a" and missing.reason is not None
    assert "It is quite good." in missing.reason


def test_score_position_is_the_first_token_on_the_scale() -> None:
    tokens = [TokenLogprob("Score", -0.1), TokenLogprob(":", -0.1), TokenLogprob(" 4", -0.3),
              TokenLogprob("/", -0.1), TokenLogprob("5", -0.1)]
    assert score_position(tokens) == 2
    assert score_position(tokens[:2]) is None


def test_candidates_add_the_chosen_token_only_when_the_alternatives_leave_it_out() -> None:
    inside = TokenLogprob("4", log(0.6), (("4", log(0.6)), ("3", log(0.3))))
    assert candidates(inside) == pytest.approx({"4": log(0.6), "3": log(0.3)})
    outside = TokenLogprob("2", log(0.05), (("4", log(0.6)),))
    assert candidates(outside) == pytest.approx({"4": log(0.6), "2": log(0.05)})
    # Two token ids that decode to the same text: their probabilities add.
    twice = TokenLogprob("4", log(0.3), (("4", log(0.3)), ("4", log(0.2))))
    assert candidates(twice)["4"] == pytest.approx(log(0.5))


def test_read_rubric_uses_logprobs_when_there_are_any_and_the_text_otherwise() -> None:
    tokens = [TokenLogprob(" ", -0.01),
              TokenLogprob(" 5", log(0.7), ((" 5", log(0.7)), (" 4", log(0.2)), ("I", log(0.1))))]
    from_logprobs = read_rubric(" 5", tokens)
    assert from_logprobs.source == "logprobs"
    assert from_logprobs.expected == pytest.approx((5 * 0.7 + 4 * 0.2) / 0.9)
    assert read_rubric("5", None).source == "text"
    assert read_rubric("5", []).source == "text"
    no_score = read_rubric("Good.", [TokenLogprob("Good", -0.1), TokenLogprob(".", -0.1)])
    assert no_score.source == "n/a" and no_score.reason is not None


def test_a_rubric_score_is_stored_as_a_judge_metric_saying_where_it_came_from() -> None:
    logprobs = expected_score({"4": 0.0}).to_score("coherence", "model:judge.gguf|template:t@1")
    assert logprobs.metric == judge_metric(" coherence ") == "judge:coherence"
    assert logprobs.value == 4.0 and logprobs.reason is None
    assert "source:logprobs" in logprobs.signature and "scale:1-5" in logprobs.signature
    text = score_from_text("2").to_score("coherence", "remote:x")
    assert text.value == 2.0 and "source:text" in text.signature
    assert text.reason is not None and "no log-probabilities" in text.reason
    na = RubricScore(None, None, "n/a", reason="why").to_score("coherence", "j")
    assert na.value is None and na.reason == "why"


def test_judge_scores_are_shown_on_their_own_scale() -> None:
    assert metric_label("judge:coherence") == "judge: coherence"
    assert unit("judge:coherence") == "1–5"
    assert column_label("judge:coherence") == "judge: coherence (mean, 1–5)"


def _run(variant: str, input_id: str, score: float) -> ReportRun:
    return ReportRun(variant, input_id, 0, 1, "ok", "p", "o", (),
                     {"judge:coherence": score, "mean_logprob": -0.5})


def test_without_references_a_judge_score_decides_the_winner_through_the_paired_test() -> None:
    # Twelve inputs where "b" is judged one point better on every input: significant.
    runs = [_run("a", f"i{i}", 3.0 + 0.1 * (i % 3)) for i in range(12)]
    runs += [_run("b", f"i{i}", 4.0 + 0.1 * (i % 3)) for i in range(12)]
    report = build_report("c", runs)
    assert report.primary == "judge:coherence"
    assert report.winner == "b"
    estimate = report.variants[1].metrics["judge:coherence"]
    assert estimate is not None and estimate.low <= estimate.mean <= estimate.high
    sentence = winner_sentence(report)
    assert "judge: coherence" in sentence and "significantly higher" in sentence
    # With a reference metric present, it stays the primary one.
    with_rouge = [ReportRun(r.variant, r.input_id, 0, 1, "ok", "p", "o", ("ref",),
                            {**r.scores, "rougeL_f": 0.5}) for r in runs]
    assert build_report("c", with_rouge).primary == "rougeL_f"
