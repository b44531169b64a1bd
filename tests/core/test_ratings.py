"""The rules for what people say about outputs, which the store checks before it saves them."""

from __future__ import annotations

import pytest

from playground.ratings import (
    DEFAULT_CRITERIA,
    MAX_CRITERION_LENGTH,
    Judgement,
    PreferenceError,
    check_criteria,
    input_prompt,
)


def test_criteria_are_cleaned_and_keep_their_order() -> None:
    assert check_criteria(["  Clarity ", "brevity"]) == ("Clarity", "brevity")
    assert check_criteria(DEFAULT_CRITERIA) == DEFAULT_CRITERIA
    longest = "x" * MAX_CRITERION_LENGTH
    assert check_criteria([longest]) == (longest,)


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["x" * (MAX_CRITERION_LENGTH + 1)], "at most 40 characters"),
        (["Fluency", "fluency "], "the criterion 'fluency' is listed twice"),
        ([3], "a criterion name must be text, got 3"),
        ("fluency", "criteria must be a list of names, not one string"),
    ],
)
def test_bad_criteria_say_what_is_wrong(names: list[str], message: str) -> None:
    with pytest.raises(PreferenceError, match=message):
        check_criteria(names)


def test_a_judge_reads_the_input_itself() -> None:
    assert input_prompt({"question": "What is 2 + 2?"}) == "What is 2 + 2?"
    assert input_prompt({"text": "Rain fell.", "style": "terse"}) == (
        "text: Rain fell.\nstyle: terse"
    )


def test_a_judgement_needs_a_known_choice_and_two_variants() -> None:
    with pytest.raises(PreferenceError, match="choice must be 'a', 'b' or 'tie', got 'c'"):
        Judgement("q1", "p", "x", "out x", "y", "out y", "c")  # type: ignore[arg-type]
    with pytest.raises(PreferenceError, match="two different variants"):
        Judgement("q1", "p", "x", "out x", "x", "out x", "a")
