"""A run described in a line: its scores, its result, a reopened run's facts."""

from __future__ import annotations

import re
from pathlib import Path

from playground.events import Result
from playground.runs.opening import open_stored_run
from playground.runs.summaries import describe_result, describe_scores, describe_stored_run
from playground.sampling import SamplingParams
from playground.scores import Score
from playground.storage.store import Store
from tests.core.runs.test_single_run import SETUP, save


def test_the_stored_run_line_names_the_run_its_model_and_how_it_went(tmp_path: Path) -> None:
    db = tmp_path / "history.db"
    with Store(db) as store:
        ok_id = save(store, SETUP, 4242)
        failed_id = save(store, SETUP, 5, status="failed", error="the server went away")
    ok = describe_stored_run(open_stored_run(db, ok_id))
    with Store(db) as store:
        number = store.comparison(store.run(ok_id).comparison_id or 0).number
    # Named as History lists it, with a time as people say it.
    assert re.match(rf"Run {number}, made today \d\d:\d\d · ", ok), ok
    # The model goes by its display name, never the header's own name.
    assert "model some-model.Q4_0" in ok and "Ep2" not in ok
    assert "4 tokens · prompt 17 tokens · 50.0 tokens/s" in ok
    assert "finished: end of text or a stop sequence" in ok and ok.endswith("seed 4242")
    failed = describe_stored_run(open_stored_run(db, failed_id))
    assert "failed: the server went away" in failed and "tokens/s" not in failed


def test_scores_read_in_one_line_with_every_number_in_the_tooltip() -> None:
    summary, details = describe_scores([
        Score("rouge1_f", 0.5, "s"), Score("rouge1_p", 0.25, "s"), Score("rouge1_r", 1.0, "s"),
        Score("bleu", None, "s", "no reference"),
    ])
    assert summary == "rouge1 0.500 · bleu n/a"
    assert details.splitlines() == ["rouge1_f: 0.500", "rouge1_p: 0.250", "rouge1_r: 1.000",
                                    "bleu: n/a (no reference)"]


def test_a_result_line_says_why_it_ended_and_its_seed() -> None:
    result = Result(text="x", finish_reason="length", prompt_tokens=None, completion_tokens=1,
                    ttft_s=None, tokens_per_second=None, total_s=0.1, rendered_prompt="p",
                    params=SamplingParams(), model={})
    line = describe_result(result, 9)
    assert line.startswith("1 token · prompt ")
    assert "finished: max tokens reached" in line and line.endswith("seed 9")
    assert "tokens/s" not in line and "first token" not in line
