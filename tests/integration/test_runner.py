"""Comparisons on the real model: ordering, scoring, failures, cancel."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest

from playground.comparison import ComparisonSpec, Variant, inputs_from_rows
from playground.engine.options import LoadOptions
from playground.prompts.library import Library, load_builtin_library
from playground.runs.runner import (
    BackendPool,
    CancelToken,
    ComparisonFinished,
    ComparisonStarted,
    Progress,
    RunDone,
    make_scorer,
    plan_runs,
    run_comparison,
)
from playground.sampling import SamplingParams


@pytest.fixture(scope="module")
def library() -> Library:
    return load_builtin_library()


@pytest.fixture(scope="module")
def pool() -> Iterator[BackendPool]:
    p = BackendPool(LoadOptions(n_ctx=2048))
    yield p
    p.close()


def variant(lib: Library, template_id: str, name: str | None = None, **values: Any) -> Variant:
    t = lib.template(template_id)
    assert t is not None
    params = SamplingParams.from_dict({**t.meta.params, "max_tokens": 6})
    examples = lib.example_set(t.meta.task)
    if examples is not None:
        values.setdefault("examples", [dict(e) for e in examples.examples])
    return Variant(name or template_id, template_id, t.source, params, "", values=values,
                   library_sources=lib.sources())


def spec(lib: Library, *variants: Variant, inputs: int = 3, samples: int = 2) -> ComparisonSpec:
    dataset = lib.dataset("sentiment")
    assert dataset is not None
    return ComparisonSpec("test", variants, inputs_from_rows(dataset.rows[:inputs]),
                          samples=samples)


def test_prefix_order_puts_shared_prompts_side_by_side(library: Library) -> None:
    s = spec(library, variant(library, "sentiment-few-shot"),
             variant(library, "sentiment-zero-shot"), inputs=4, samples=2)
    plain = plan_runs(s, prefix_order=False)
    ordered = plan_runs(s, prefix_order=True)
    assert sorted(p.key for p in plain) == sorted(p.key for p in ordered)
    # A plain loop goes round by round; the ordered plan keeps the samples of a cell together.
    assert [p.sample for p in plain[:8]] == [0] * 8
    assert [p.prompt_text for p in ordered] == sorted(p.prompt_text for p in ordered)
    for a, b in zip(ordered[::2], ordered[1::2], strict=True):
        assert a.prompt_text == b.prompt_text

    def shared(plan: list[Any]) -> int:
        total = 0
        for a, b in itertools.pairwise(plan):
            n = 0
            for x, y in zip(a.prompt_text, b.prompt_text, strict=False):
                if x != y:
                    break
                n += 1
            total += n
        return total

    assert shared(ordered) > shared(plain)


@pytest.mark.model
def test_a_comparison_runs_every_cell_scores_it_and_reports_progress(
    library: Library, pool: BackendPool
) -> None:
    s = spec(library, variant(library, "sentiment-few-shot"),
             variant(library, "sentiment-zero-shot"))
    events = list(run_comparison(s, pool, scorer=make_scorer(s.metrics)))
    started = events[0]
    assert isinstance(started, ComparisonStarted)
    assert started.total == 12
    done = [e for e in events if isinstance(e, RunDone)]
    assert len(done) == 12
    assert {(d.planned.variant.name, d.planned.input.id, d.planned.sample) for d in done} == {
        (v.name, i.id, k) for v in s.variants for i in s.inputs for k in range(2)
    }
    for d in done:
        assert d.status == "ok"
        assert d.result is not None
        assert d.result.params.seed == s.seed(d.planned.sample)
        metrics = {score.metric for score in d.scores}
        assert {"rouge1_f", "rougeL_f", "bleu", "chrf", "ref_ppl"} <= metrics
        ppl = next(score for score in d.scores if score.metric == "ref_ppl")
        assert ppl.value is not None and ppl.value > 1
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.done for p in progress] == list(range(1, 13))
    assert progress[-1].eta_s == 0
    finished = events[-1]
    assert isinstance(finished, ComparisonFinished)
    assert finished.status == "done"
    assert finished.done == 12


@pytest.mark.model
def test_same_seed_same_output_whatever_the_order(library: Library) -> None:
    # Bit-exact in any order is the promise without prefix reuse (`compare --no-prefix-reuse`):
    # a reused prefix was computed in other batches, which moves the last bits on some CPUs.
    s = spec(library, variant(library, "sentiment-zero-shot"), inputs=2, samples=2)
    exact = BackendPool(LoadOptions(n_ctx=2048, reuse_prefix=False))
    try:
        a = {e.planned.key: e.result.text for e in run_comparison(s, exact, prefix_order=True,
                                                                   perplexity=False)
             if isinstance(e, RunDone) and e.result}
        b = {e.planned.key: e.result.text for e in run_comparison(s, exact, prefix_order=False,
                                                                   perplexity=False)
             if isinstance(e, RunDone) and e.result}
    finally:
        exact.close()
    assert len(a) == len(s.cells())
    assert a == b


@pytest.mark.model
def test_a_failing_variant_is_recorded_and_the_batch_goes_on(
    library: Library, pool: BackendPool
) -> None:
    broken = variant(library, "sentiment-few-shot", name="broken", n_examples="many")
    s = spec(library, broken, variant(library, "sentiment-zero-shot"), samples=1)
    done = [e for e in run_comparison(s, pool, perplexity=False) if isinstance(e, RunDone)]
    assert len(done) == 6
    failed = [d for d in done if d.planned.variant.name == "broken"]
    assert all(d.status == "failed" for d in failed)
    assert all("'n_examples' takes a number" in (d.error or "") for d in failed)
    assert all(d.status == "ok" for d in done if d.planned.variant.name != "broken")


@pytest.mark.model
def test_cancel_stops_the_batch_after_the_run_in_flight(
    library: Library, pool: BackendPool
) -> None:
    s = spec(library, variant(library, "sentiment-zero-shot"), inputs=5, samples=2)
    token = CancelToken()
    events = []
    for event in run_comparison(s, pool, cancel=token, perplexity=False):
        events.append(event)
        if isinstance(event, RunDone):
            token.cancel()
    done = [e for e in events if isinstance(e, RunDone)]
    assert len(done) == 1
    finished = events[-1]
    assert isinstance(finished, ComparisonFinished)
    assert finished.status == "cancelled"


def test_a_missing_model_fails_its_runs_with_the_reason(library: Library) -> None:
    v = variant(library, "sentiment-zero-shot")
    missing = Variant("missing", v.template_id, v.template_source, v.params, "no-such-model.gguf",
                      values=v.values, library_sources=v.library_sources)
    pool = BackendPool()
    try:
        done = [e for e in run_comparison(spec(library, missing, samples=1), pool)
                if isinstance(e, RunDone)]
    finally:
        pool.close()
    assert len(done) == 3
    assert all(d.status == "failed" for d in done)
    assert "no model file or known model named 'no-such-model.gguf'" in (done[0].error or "")


@pytest.mark.model
def test_the_task_decides_the_extra_metric(library: Library, pool: BackendPool) -> None:
    from playground.runs.build import metrics_for

    variants = (variant(library, "sentiment-zero-shot"),)
    metrics = metrics_for(variants)
    assert "accuracy" in metrics
    assert "rougeL" in metrics
    s = ComparisonSpec("task", variants, spec(library, *variants).inputs, samples=1,
                       metrics=metrics)
    done = [e for e in run_comparison(s, pool, scorer=make_scorer(s.metrics), perplexity=False)
            if isinstance(e, RunDone)]
    for d in done:
        accuracy = next(score for score in d.scores if score.metric == "accuracy")
        assert d.result is not None
        # The rule, worked out here on its own: the answer's first whole word that is a label
        # (words are runs of letters and digits, case-blind) must be the reference label.
        words = re.findall(r"[^\W_]+", d.result.text.lower())
        said = next((w for w in words if w in ("positive", "negative", "neutral")), None)
        expected = 1.0 if said == d.planned.input.references[0].lower() else 0.0
        assert accuracy.value == expected, (d.result.text, d.planned.input.references)


@pytest.mark.model
def test_confidence_comes_from_the_worker_log_probabilities(
    library: Library, pool: BackendPool
) -> None:
    v = variant(library, "sentiment-zero-shot")
    s = ComparisonSpec("conf", (v,), spec(library, v).inputs[:2], samples=1,
                       metrics=("rougeL", "confidence"))
    done = [e for e in run_comparison(s, pool, scorer=make_scorer(s.metrics), perplexity=False)
            if isinstance(e, RunDone)]
    for d in done:
        assert d.result is not None and d.result.logprobs is not None
        values = {score.metric: score.value for score in d.scores}
        logprobs = [lp.logprob for lp in d.result.logprobs]
        if not logprobs:  # the model answered nothing at all: no confidence to report
            assert values["mean_logprob"] is None and values["min_logprob"] is None
            continue
        assert values["mean_logprob"] == pytest.approx(sum(logprobs) / len(logprobs))
        assert values["min_logprob"] == pytest.approx(min(logprobs))
