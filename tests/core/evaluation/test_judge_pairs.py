"""A judge's pairwise verdicts: both orders, a flip as a tie, position bias, the ranking."""

from __future__ import annotations

import pytest

from playground.evaluation.judge_pairs import (
    PositionBias,
    Verdict,
    as_judgement,
    pairwise_verdict,
    parse_position,
    position_bias,
)
from playground.evaluation.preferences import bradley_terry
from playground.ratings import Judgement


@pytest.mark.parametrize(
    ("ab", "ba", "choice"),
    [
        ("A", "B", "a"),  # a first then a second: the judge chose output a both times
        ("B", "A", "b"),
        ("tie", "tie", "tie"),
    ],
)
def test_both_orders_naming_the_same_output_stand(ab: str, ba: str, choice: str) -> None:
    verdict = pairwise_verdict(ab, ba)
    assert verdict.choice == choice and not verdict.flipped and verdict.lean == 0


@pytest.mark.parametrize(
    ("ab", "ba", "lean"),
    [
        ("A", "A", 2),  # the first-shown output both times: a then b
        ("B", "B", -2),
        ("A", "tie", 1),
        ("tie", "B", -1),
        ("B", "tie", -1),
    ],
)
def test_a_verdict_that_follows_the_position_is_a_flip_and_a_tie(
    ab: str, ba: str, lean: int
) -> None:
    verdict = pairwise_verdict(ab, ba)
    assert verdict.choice == "tie" and verdict.flipped and verdict.lean == lean


def test_an_order_that_could_not_be_read_makes_the_verdict_na_and_says_which() -> None:
    one = pairwise_verdict("A", None)
    assert one.choice is None and not one.flipped
    assert one.reason is not None and "B/A order was" in one.reason
    both = pairwise_verdict("I cannot decide", None)
    assert both.choice is None and both.reason is not None and "A/B and B/A" in both.reason


def test_the_judges_text_is_read_as_a_position() -> None:
    assert parse_position("A") == "A"
    assert parse_position("  b. Because it is shorter") == "B"
    assert parse_position("Output A is better") == "A"
    assert parse_position("Tie") == "tie"
    assert parse_position("Both are equally good") == "tie"
    assert parse_position("Answer: B") == "B"
    assert parse_position("Alpha") is None
    assert parse_position("") is None and parse_position(None) is None
    assert pairwise_verdict("Output A.", "Output B.").choice == "a"


def test_position_bias_counts_flips_and_the_position_they_lean_to() -> None:
    verdicts = [
        pairwise_verdict("A", "B"),  # consistent
        pairwise_verdict("B", "A"),  # consistent
        pairwise_verdict("A", "A"),  # flip toward first
        pairwise_verdict("A", "tie"),  # flip toward first
        pairwise_verdict("B", "B"),  # flip toward second
        pairwise_verdict(None, "A"),  # not read: left out
    ]
    bias = position_bias(verdicts)
    assert bias == PositionBias(pairs=5, flips=3, toward_first=2, toward_second=1, not_read=1)
    assert bias.flip_rate == pytest.approx(0.6)
    assert bias.toward == "first"
    assert bias.describe() == ("The verdict changed with the order on 3 of 5 pairs (60%), 2 "
                               "toward the output shown first and 1 toward the output shown "
                               "second; those count as ties.")
    assert position_bias([]).flip_rate is None and position_bias([]).toward is None
    steady = position_bias([pairwise_verdict("A", "B")])
    assert steady.describe().endswith("no sign of position bias.")


def test_judge_verdicts_feed_the_bradley_terry_ranking_as_peoples_judgements_do() -> None:
    def judged(verdict: Verdict, i: int) -> Judgement | None:
        return as_judgement(verdict, input_id=f"q{i}", prompt="p", variant_a="formal",
                            output_a="F", variant_b="casual", output_b="C")

    verdicts = [pairwise_verdict("A", "B")] * 6 + [pairwise_verdict("A", "A")] * 2
    judgements = [judged(v, i) for i, v in enumerate(verdicts)]
    assert judged(pairwise_verdict(None, "A"), 9) is None
    ranking = bradley_terry([j for j in judgements if j is not None], bootstrap=0)
    assert [r.variant for r in ranking] == ["formal", "casual"]
    assert (ranking[0].wins, ranking[0].ties, ranking[1].losses) == (6, 2, 6)
