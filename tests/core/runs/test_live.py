"""Live mode's rules: it waits for the inputs a template needs, and History keeps one finished
run per burst of editing, never a run that was replaced or stopped."""

from __future__ import annotations

from playground.prompts.templates import TemplateMeta, Variable
from playground.runs.live import BURST_PAUSE_S, LiveBurst, unfilled_variables, waiting_message

META = TemplateMeta(
    name="t",
    variables=(
        Variable("dialogue"),
        Variable("tone", default="neutral"),
        Variable("style", type="choice", choices=("a", "b")),
        Variable("examples", type="examples"),
        Variable("shots", type="examples", default_set="support"),
        Variable("count", type="number"),
    ),
)


def test_blank_text_and_empty_examples_without_defaults_are_unfilled() -> None:
    assert unfilled_variables(META, {}) == ("dialogue", "style", "examples", "count")
    filled = {"dialogue": "Ann: hi", "style": "a", "examples": [{"input": "x", "output": "y"}],
              "count": 3}
    assert unfilled_variables(META, filled) == ()
    assert unfilled_variables(META, {**filled, "dialogue": "  \n "}) == ("dialogue",)
    assert unfilled_variables(META, {**filled, "tone": "", "shots": []}) == ()


def test_the_waiting_message_names_what_is_missing() -> None:
    assert "dialogue" in waiting_message(("dialogue",)) and "fill it in" in \
        waiting_message(("dialogue",))
    assert "dialogue, count" in waiting_message(("dialogue", "count"))


def test_a_replaced_or_stopped_run_is_discarded() -> None:
    burst = LiveBurst()
    burst.started(0.0)
    assert burst.finished(1, completed=False, now=0.5) == [1]
    assert burst.finished(None, completed=False, now=0.6) == []
    assert burst.kept is None


def test_only_the_last_finished_run_of_a_burst_is_kept() -> None:
    burst = LiveBurst()
    burst.started(0.0)
    assert burst.finished(1, completed=True, now=1.0) == []
    burst.started(2.0)
    assert burst.finished(2, completed=False, now=2.1) == [2]
    burst.started(2.2)
    assert burst.finished(3, completed=True, now=3.0) == [1]
    assert burst.kept == 3


def test_a_pause_or_a_run_by_hand_starts_a_new_burst() -> None:
    burst = LiveBurst()
    burst.started(0.0)
    assert burst.finished(1, completed=True, now=1.0) == []
    burst.started(1.0 + BURST_PAUSE_S + 1)
    assert burst.finished(2, completed=True, now=BURST_PAUSE_S + 3) == []
    burst.end()
    burst.started(BURST_PAUSE_S + 4)
    assert burst.finished(3, completed=True, now=BURST_PAUSE_S + 5) == []
    assert burst.kept == 3
