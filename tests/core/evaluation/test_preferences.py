"""Blind judging, Bradley–Terry ratings, metric agreement and preference export."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from playground.evaluation.preferences import (
    EXPORT_FIELDS,
    BlindPair,
    Rating,
    _fit,
    agreement,
    blind_pairs,
    bradley_terry,
    export_preferences,
    judge,
    read_preferences,
)
from playground.ratings import Judgement, PreferenceError


def j(a: str, b: str, choice: str, input_id: str = "q1") -> Judgement:
    return Judgement(input_id, f"prompt {input_id}", a, f"out {a}", b, f"out {b}", choice)  # type: ignore[arg-type]


# --- Blind pairs ------------------------------------------------------------------------

RUNS = {
    "formal": {"q1": "F1", "q2": "F2", "q3": "F3"},
    "casual": {"q1": "C1", "q2": "C2"},
    "terse": {"q2": "T2"},
}


def test_blind_pairs_cover_every_shared_input_of_every_variant_pair() -> None:
    pairs = blind_pairs(RUNS, seed=1, prompts={"q1": "Explain tides"}, models={"formal": "m1"})
    seen = {(p.input_id, frozenset((p.left_variant, p.right_variant))) for p in pairs}
    assert seen == {
        ("q1", frozenset({"casual", "formal"})),
        ("q2", frozenset({"casual", "formal"})),
        ("q2", frozenset({"casual", "terse"})),
        ("q2", frozenset({"formal", "terse"})),
    }
    for p in pairs:
        assert p.left == RUNS[p.left_variant][p.input_id]
        assert p.right == RUNS[p.right_variant][p.input_id]
        assert p.prompt == ("Explain tides" if p.input_id == "q1" else p.input_id)
        assert p.left_model == ("m1" if p.left_variant == "formal" else "")
        # Names stay out of what a judge might see printed.
        assert p.left_variant not in repr(p)
        assert p.right_variant not in repr(p)


def test_blind_pairs_are_reproducible_and_sides_are_shuffled() -> None:
    runs = {"a": {str(i): f"a{i}" for i in range(40)}, "b": {str(i): f"b{i}" for i in range(40)}}
    first = blind_pairs(runs, seed=7)
    assert first == blind_pairs(runs, seed=7)
    lefts = [p.left_variant for p in first]
    assert 5 < lefts.count("a") < 35
    assert [p.input_id for p in first] != [str(i) for i in range(40)]


def test_judge_maps_keys_to_choices_and_reveals_variants() -> None:
    pair = BlindPair("q1", "p", "L", "R", left_variant="x", right_variant="y", left_model="m")
    left = judge(pair, "1")
    assert (left.variant_a, left.output_a, left.variant_b, left.output_b) == ("x", "L", "y", "R")
    assert left.choice == "a"
    assert left.model_a == "m"
    assert judge(pair, "2").choice == "b"
    assert judge(pair, "3").choice == "tie"
    with pytest.raises(PreferenceError, match="press 1"):
        judge(pair, "4")


def test_judgement_validates_choice_and_variants() -> None:
    with pytest.raises(PreferenceError):
        j("a", "b", "left")
    with pytest.raises(PreferenceError, match="two different variants"):
        j("a", "a", "a")


# --- Bradley–Terry ----------------------------------------------------------------------


def transitive_judgements() -> list[Judgement]:
    out: list[Judgement] = []
    for i in range(6):
        q = f"q{i}"
        out += [j("A", "B", "a", q), j("B", "C", "a", q), j("C", "A", "b", q)]
    return out


def test_bradley_terry_ranks_a_transitive_order_with_separated_intervals() -> None:
    ratings = bradley_terry(transitive_judgements(), bootstrap=100, seed=3)
    assert [r.variant for r in ratings] == ["A", "B", "C"]
    a, b, c = ratings
    assert (a.wins, a.losses, a.ties) == (12, 0, 0)
    assert (b.wins, b.losses) == (6, 6)
    assert (c.wins, c.losses) == (0, 12)
    assert a.low > c.high
    for r in ratings:
        assert 0 < r.low <= r.strength <= r.high
    # Strengths are finite despite A never losing, and scaled to a geometric mean of 1.
    assert a.strength * b.strength * c.strength == pytest.approx(1.0)


def test_bradley_terry_fit_is_the_posterior_fixed_point() -> None:
    # A beats B 3 to 1. With prior 0.5 (half a win and half a loss against a strength-1
    # anchor) the fixed point satisfies p = (W + 0.5) / (n / (p + q) + 1 / (p + 1)).
    wins = np.array([[0.0, 3.0], [1.0, 0.0]])
    raw = _fit(wins, wins + wins.T, 0.5, 10_000)
    # _fit rescales to a geometric mean of 1, so compare ratios with a direct iteration.
    p, q = 1.0, 1.0
    for _ in range(20_000):
        p, q = 3.5 / (4 / (p + q) + 1 / (p + 1)), 1.5 / (4 / (p + q) + 1 / (q + 1))
    assert raw[0] / raw[1] == pytest.approx(p / q, rel=1e-6)
    assert raw[0] * raw[1] == pytest.approx(1.0)

    judgements = [j("A", "B", "a"), j("A", "B", "a"), j("B", "A", "b"), j("A", "B", "b")]
    ratings = {r.variant: r for r in bradley_terry(judgements, bootstrap=0)}
    assert ratings["A"].strength / ratings["B"].strength == pytest.approx(p / q, rel=1e-6)
    assert ratings["A"].low == ratings["A"].strength == ratings["A"].high


@pytest.mark.parametrize(
    ("wins", "losses", "ties"), [(7, 3, 0), (6, 2, 2), (1, 9, 0), (5, 5, 3)]
)
def test_two_variants_get_the_closed_form_maximum_likelihood_ratio(
    wins: int, losses: int, ties: int
) -> None:
    # Two players: the likelihood p^W (1-p)^L peaks at p = W / (W + L), and p = a / (a + b)
    # gives the strength ratio a / b = W / L (a tie is half a win each). A vanishing prior
    # leaves the maximum-likelihood answer.
    judgements = (
        [j("A", "B", "a", f"w{i}") for i in range(wins)]
        + [j("B", "A", "a", f"l{i}") for i in range(losses)]
        + [j("A", "B", "tie", f"t{i}") for i in range(ties)]
    )
    ratings = {r.variant: r for r in bradley_terry(judgements, bootstrap=0, prior=1e-9,
                                                     iterations=100_000)}
    expected = (wins + ties / 2) / (losses + ties / 2)
    assert ratings["A"].strength / ratings["B"].strength == pytest.approx(expected, rel=1e-6)


def _newton_map(wins: np.ndarray, prior: float) -> np.ndarray:
    """The posterior mode by Newton's method on log-strengths, written from the model:
    log P = sum_ij w_ij log s_i/(s_i+s_j) + prior * sum_i log s_i/(s_i+1) + log 1/(s_i+1)."""
    games = wins + wins.T
    theta = np.zeros(wins.shape[0])
    for _ in range(100):
        sig = 1.0 / (1.0 + np.exp(theta[None, :] - theta[:, None]))  # P(i beats j)
        anchor = 1.0 / (1.0 + np.exp(-theta))  # P(i beats the strength-1 anchor)
        gradient = wins.sum(axis=1) + prior - (games * sig).sum(axis=1) - 2 * prior * anchor
        curvature = games * sig * sig.T
        hessian = curvature - np.diag(curvature.sum(axis=1) + 2 * prior * anchor * (1 - anchor))
        step = np.linalg.solve(hessian, gradient)
        theta = theta - step
        if np.max(np.abs(step)) < 1e-13:
            break
    strength = np.exp(theta)
    return np.asarray(strength / np.exp(np.mean(theta)), dtype=np.float64)


def test_several_variants_match_an_independent_newton_fit_of_the_same_posterior() -> None:
    # Unbalanced, incomplete and with ties: D meets only C; A is never beaten by B.
    judgements = (
        [j("A", "B", "a", f"ab{i}") for i in range(4)]
        + [j("A", "C", "a", f"ac{i}") for i in range(3)]
        + [j("C", "A", "a", "ca0"), j("B", "C", "tie", "bc0"), j("B", "C", "a", "bc1")]
        + [j("C", "B", "a", f"cb{i}") for i in range(2)]
        + [j("D", "C", "a", "dc0"), j("C", "D", "a", "cd0"), j("C", "D", "a", "cd1")]
    )
    names = ["A", "B", "C", "D"]
    wins = np.zeros((4, 4))
    for jd in judgements:
        a, b = names.index(jd.variant_a), names.index(jd.variant_b)
        if jd.choice == "tie":
            wins[a, b] += 0.5
            wins[b, a] += 0.5
        elif jd.choice == "a":
            wins[a, b] += 1
        else:
            wins[b, a] += 1
    for prior in (0.5, 2.0):
        expected = dict(zip(names, _newton_map(wins, prior), strict=True))
        ratings = bradley_terry(judgements, bootstrap=0, prior=prior)
        assert {r.variant: r.strength for r in ratings} == pytest.approx(expected, rel=1e-6)
        assert [r.variant for r in ratings] == sorted(names, key=lambda n: -expected[n])


def test_bradley_terry_ties_count_half_and_equal_records_are_equal() -> None:
    ratings = bradley_terry([j("A", "B", "tie"), j("A", "B", "tie")], bootstrap=20)
    assert ratings[0].strength == pytest.approx(ratings[1].strength)
    assert all(r.ties == 2 and r.wins == 0 for r in ratings)
    assert bradley_terry([]) == []


def test_bradley_terry_is_reproducible() -> None:
    assert bradley_terry(transitive_judgements(), bootstrap=30, seed=5) == bradley_terry(
        transitive_judgements(), bootstrap=30, seed=5
    )


# --- Agreement --------------------------------------------------------------------------


def test_agreement_identical_and_reversed_orders() -> None:
    ratings = bradley_terry(transitive_judgements(), bootstrap=0)
    assert agreement(ratings, {"A": 0.9, "B": 0.5, "C": 0.1}) == pytest.approx(1.0)
    assert agreement(ratings, {"A": 0.1, "B": 0.5, "C": 0.9}) == pytest.approx(-1.0)
    assert agreement(["A", "B", "C"], {"A": 3, "B": 2, "C": 1}) == pytest.approx(1.0)


def test_agreement_partial_and_undefined() -> None:
    # Pairs: (A,B) concordant, (A,C) concordant, (B,C) discordant: tau = 1/3.
    assert agreement(["A", "B", "C"], {"A": 3, "B": 1, "C": 2}) == pytest.approx(1 / 3)
    # Variants missing from the metric are ignored; a single shared one has no pairs.
    assert math.isnan(agreement(["A", "B"], {"A": 1.0}))
    # A metric that ties every variant says nothing about the order.
    assert math.isnan(agreement(["A", "B"], {"A": 1.0, "B": 1.0}))


def _rating(name: str, strength: float) -> Rating:
    return Rating(name, strength, strength, strength, 0, 0, 0)


def test_agreement_is_tau_b_with_ties_on_both_sides() -> None:
    # A published example with ties in both rankings (scipy.stats.kendalltau's documentation):
    # x = [12, 2, 1, 12, 2], y = [1, 4, 7, 1, 0] gives tau-b = -0.47140452079103173. By hand:
    # of the 10 pairs, 2 concordant, 6 discordant, 2 tied in x, 1 tied in y (one pair tied in
    # both): (2 - 6) / sqrt((10 - 2) * (10 - 1)) = -4 / sqrt(72).
    people = [_rating(n, s) for n, s in zip("ABCDE", [12, 2, 1, 12, 2], strict=True)]
    metric = dict(zip("ABCDE", [1.0, 4.0, 7.0, 1.0, 0.0], strict=True))
    assert agreement(people, metric) == pytest.approx(-4 / math.sqrt(72))
    assert agreement(people, metric) == pytest.approx(-0.47140452079103173)


def test_agreement_with_ties_only_in_the_metric_is_tau_b_not_tau_a() -> None:
    # People: A > B > C > D. Metric: A = B > C > D. 5 concordant pairs, 0 discordant, the
    # A-B pair tied in the metric: tau-b = 5 / sqrt(6 * 5); tau-a would be 5 / 6.
    tau = agreement(["A", "B", "C", "D"], {"A": 2.0, "B": 2.0, "C": 1.0, "D": 0.0})
    assert tau == pytest.approx(5 / math.sqrt(30))
    assert tau != pytest.approx(5 / 6)


# --- Export -----------------------------------------------------------------------------


def test_export_round_trips_and_skips_ties() -> None:
    judgements = [
        Judgement(
            "q1",
            "Explain tides",
            "formal",
            "Tides are…",
            "casual",
            "Moon stuff",
            "a",
            model_a="m1",
            model_b="m2",
        ),
        Judgement("q2", "Say hi", "formal", "Good day", "casual", "hey", "b"),
        Judgement("q3", "Tie", "formal", "x", "casual", "y", "tie"),
    ]
    text = export_preferences(judgements)
    lines = text.splitlines()
    assert len(lines) == 2
    assert list(json.loads(lines[0])) == list(EXPORT_FIELDS)
    assert "Tides are…" in text  # written as UTF-8, not escaped
    records = read_preferences(text)
    assert records[0] == {
        "prompt": "Explain tides",
        "chosen": "Tides are…",
        "rejected": "Moon stuff",
        "chosen_variant": "formal",
        "rejected_variant": "casual",
        "chosen_model": "m1",
        "rejected_model": "m2",
        "input_id": "q1",
    }
    assert (records[1]["chosen"], records[1]["rejected"]) == ("hey", "Good day")
    assert records[1]["chosen_variant"] == "casual"
    assert export_preferences([judgements[2]]) == ""


def test_read_preferences_reports_every_bad_line_with_its_number() -> None:
    text = "\n".join(
        [
            '{"prompt": "p", "chosen": "a", "rejected": "b"}',
            "",
            "{not json",
            '["a list"]',
            '{"prompt": "p", "chosen": "a"}',
            '{"prompt": "p", "chosen": 1, "rejected": "b"}',
        ]
    )
    with pytest.raises(PreferenceError) as info:
        read_preferences(text)
    message = str(info.value)
    assert "line 3: not valid JSON" in message
    assert "line 4: expected a JSON object, got list" in message
    assert "line 5: missing rejected" in message
    assert "line 6: chosen must be text" in message
    assert "line 1" not in message
    assert read_preferences('{"prompt": "p", "chosen": "a", "rejected": "b"}\n\n') == [
        {"prompt": "p", "chosen": "a", "rejected": "b"}
    ]
