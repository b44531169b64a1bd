"""The time-left estimate, on constructed timings: no clock, no model."""

from __future__ import annotations

import pytest

from playground.runs.eta import (
    MIN_RUNS,
    MIN_SECONDS,
    EtaEstimate,
    FinishedWork,
    PendingWork,
    describe_eta,
    overlap,
    ready,
    remaining_seconds,
    smoothed,
)


def run(seconds: float, prompt_tokens: int | None, generated: int,
        prompt_chars: int | None = None) -> FinishedWork:
    chars = prompt_chars if prompt_chars is not None else 4 * (prompt_tokens or 0)
    return FinishedWork(seconds, chars, prompt_tokens, generated)


def test_remaining_work_is_priced_at_the_pace_per_token_not_per_run() -> None:
    # Two cheap runs: 100 prompt tokens (4 characters each) and 20 generated, 1.2 s each:
    # 0.01 s per token of work.
    finished = [run(1.2, 100, 20), run(1.2, 100, 20)]
    # Ten runs left whose prompts are ten times as long (1,000 tokens = 4,000 characters).
    pending = [PendingWork(10, 40_000, 256)]
    eta = remaining_seconds(finished, pending)
    assert eta == pytest.approx(0.01 * 10 * (1000 + 20))
    # A mean per run would have said 10 × 1.2 s: the long prompts make it ~8.5 times longer.
    assert eta is not None and eta > 8 * 10 * 1.2


def test_expected_output_is_the_mean_so_far_capped_by_max_tokens() -> None:
    finished = [run(1.0, 0, 100, prompt_chars=0), run(3.0, 0, 300, prompt_chars=0)]
    # 0.01 s a token; mean output 200 tokens, but these runs stop at 50.
    capped = remaining_seconds(finished, [PendingWork(4, 0, 50)])
    free = remaining_seconds(finished, [PendingWork(4, 0, 1000)])
    assert capped == pytest.approx(4 * 50 * 0.01)
    assert free == pytest.approx(4 * 200 * 0.01)


def test_prompt_characters_become_tokens_at_the_rate_the_finished_runs_showed() -> None:
    # 3 characters a token here, not the default 4.
    finished = [run(2.0, 100, 0, prompt_chars=300)]
    eta = remaining_seconds(finished, [PendingWork(1, 600, 10)])
    assert eta == pytest.approx(0.02 * 200)


def test_unknown_prompt_token_counts_use_the_default_rate() -> None:
    finished = [run(1.0, None, 0, prompt_chars=400)]  # 100 tokens at 4 characters a token
    assert remaining_seconds(finished, [PendingWork(1, 800, 1)]) == pytest.approx(2.0)


def test_concurrent_runs_divide_the_time() -> None:
    finished = [run(1.0, 100, 0)]
    pending = [PendingWork(4, 400 * 4, 8)]
    one = remaining_seconds(finished, pending)
    assert one is not None
    assert remaining_seconds(finished, pending, concurrency=4) == pytest.approx(one / 4)


def test_nothing_left_is_zero_and_nothing_measured_is_unknown() -> None:
    assert remaining_seconds([], [PendingWork(0, 0, 8)]) == 0.0
    assert remaining_seconds([], [PendingWork(2, 100, 8)]) is None
    assert remaining_seconds([run(1.0, 0, 0, prompt_chars=0)], [PendingWork(2, 100, 8)]) is None


def test_no_figure_until_a_few_runs_or_enough_time() -> None:
    assert not ready(MIN_RUNS - 1, MIN_SECONDS - 1)
    assert ready(MIN_RUNS, 0.5)
    assert ready(1, MIN_SECONDS)
    assert not ready(0, 10 * MIN_SECONDS)


def test_smoothing_counts_down_and_moves_part_way() -> None:
    assert smoothed(None, 0.0, 50.0, 3.0) == 50.0
    # 100 s estimated at t=10; at t=20 the same pace says 90: nothing moves.
    assert smoothed(100.0, 10.0, 90.0, 20.0) == pytest.approx(90.0)
    # A new figure of 190 moves the shown one only part of the way from 90.
    moved = smoothed(100.0, 10.0, 190.0, 20.0)
    assert 90.0 < moved < 190.0


def test_runs_that_overlapped_are_counted_as_running_at_once() -> None:
    """Four sequences decoded together: every run took 4 s of a 4 s wall clock, so the runs
    left go four at a time; runs one after another overlap not at all."""
    together = [run(4.0, 100, 20) for _ in range(4)]
    assert overlap(together, 4.0) == pytest.approx(4.0)
    assert overlap([run(1.0, 100, 20)] * 3, 3.2) == 1.0  # overhead between runs is no overlap
    assert overlap([], 0.0) == 1.0
    pending = [PendingWork(8, 8 * 400, 64)]
    batched, single = EtaEstimate(), EtaEstimate()
    at_once = batched.update(together, pending, 4.0)
    one_by_one = single.update([run(1.0, 100, 20) for _ in range(4)], pending, 4.0)
    assert at_once is not None and one_by_one is not None
    # The same pending work at a four times slower pace per run, four at a time: the same time.
    assert at_once == pytest.approx(one_by_one)


def test_the_estimate_waits_then_rises_steadily_as_cheap_runs_give_way_to_dear_ones() -> None:
    """A dataset run whose first runs hit the cache: the shown estimate starts after a few runs
    and never jumps by more than the smoothing allows."""
    estimate = EtaEstimate()
    finished: list[FinishedWork] = []
    clock = 0.0
    shown: list[float | None] = []
    timings = [0.5, 0.5, 0.5, 2.0, 2.0, 2.0, 2.0, 2.0]
    for n, seconds in enumerate(timings, 1):
        clock += seconds
        finished.append(run(seconds, 200, 20))
        left = len(timings) + 12 - n
        shown.append(estimate.update(finished, [PendingWork(left, left * 800, 64)], clock))
    assert shown[:MIN_RUNS - 1] == [None] * (MIN_RUNS - 1)
    figures = [s for s in shown if s is not None]
    assert all(f > 0 for f in figures)
    raws = [remaining_seconds(finished[:n], [PendingWork(20 - n, (20 - n) * 800, 64)])
            for n in range(MIN_RUNS, len(timings) + 1)]
    for before, after, target in zip(figures, figures[1:], raws[1:], strict=False):
        assert target is not None
        assert min(before, target) - 2.0 <= after <= max(before, target)
    assert estimate.update(finished, [PendingWork(0, 0, 64)], clock) == 0.0


def test_the_estimate_in_words() -> None:
    assert describe_eta(None, 5) == "estimating time left…"
    assert describe_eta(0.0, 0) == ""
    assert describe_eta(42.4, 3) == "about 42 s left"
    assert describe_eta(0.2, 1) == "about 1 s left"
    assert describe_eta(150.0, 3) == "about 3 min left"
    assert describe_eta(3 * 3600.0, 300) == "about 3.0 h left"
