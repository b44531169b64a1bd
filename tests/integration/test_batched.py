"""Several requests decoded together on the real model: each is whole, streams, stops, gives
log-probabilities, can be cancelled alone, and dies cleanly with its worker.

A run decoded in a batch may differ in the last bits from the same run alone (the kernels see
another number of rows; attention sees other sequences' cells, masked), so nothing here compares
a batched text with a sequential one. Repeating the *same* batch is the same computation, which
is how a stop sequence is taken from the model's own answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.engine.backends import LocalBackend
from playground.engine.batch_stream import BatchStream
from playground.engine.options import LoadOptions
from playground.errors import WorkerCrashed
from playground.events import Event, Failed, Finished, GenerationRequest, Result, Started, Token
from playground.sampling import SamplingParams
from tests.integration.conftest import collect

pytestmark = pytest.mark.model

COUNTING = "1, 2, 3, 4, 5,"
PROMPTS = (COUNTING, COUNTING, "The capital of France is",
           "Once upon a time, in a small village by the sea,", "Q: What is two plus two?\nA:")


@pytest.fixture(scope="module")
def batched(default_model_path: Path) -> Iterator[LocalBackend]:
    with LocalBackend(default_model_path, LoadOptions(n_ctx=512, parallel=2)) as b:
        yield b


def run_all(stream: BatchStream) -> tuple[dict[int, list[Event]], dict[int, Result]]:
    events: dict[int, list[Event]] = defaultdict(list)
    results: dict[int, Result] = {}
    for index, event in stream:
        assert index not in results, "no event after a request's end"
        events[index].append(event)
        if isinstance(event, (Finished, Failed)):
            assert event.result is not None
            results[index] = event.result
    return events, results


def streamed(events: list[Event]) -> str:
    return "".join(e.text for e in events if isinstance(e, Token))


def request(prompt: str, **params: object) -> GenerationRequest:
    logprobs = params.pop("logprobs", None)
    settings = {"temperature": 0.8, "max_tokens": 12, "seed": 11, **params}
    return GenerationRequest(prompt=prompt, params=SamplingParams.from_dict(settings),
                             logprobs=logprobs)  # type: ignore[arg-type]


def test_more_requests_than_sequences_each_get_a_whole_result(batched: LocalBackend) -> None:
    requests = [request(p, max_tokens=6 + 3 * i, seed=i) for i, p in enumerate(PROMPTS)]
    events, results = run_all(batched.generate_many(requests))

    assert sorted(results) == list(range(len(requests)))  # five requests through two slots
    for i, req in enumerate(requests):
        result = results[i]
        assert isinstance(events[i][0], Started)
        assert isinstance(events[i][-1], Finished), result.error
        assert result.finish_reason in ("stop", "length")
        # "length" exactly when the budget ran out
        assert (result.finish_reason == "length") == (result.completion_tokens
                                                      == req.params.max_tokens)
        assert result.text == streamed(events[i])
        assert result.token_ids is not None and len(result.token_ids) == result.completion_tokens
        pieces = batched.token_pieces(list(result.token_ids))
        if not any("\ufffd" in p for p in pieces):  # no character split between tokens
            assert "".join(pieces) == result.text
        assert result.rendered_prompt == req.prompt
        assert result.params.seed == i
        assert result.record is not None
        assert result.record["batching"] == "batched, 2 sequences"
        assert result.record["seed"] == i
    # The second request repeats the first one's prompt: it copies that prompt's cache.
    assert results[1].record is not None
    assert results[1].record["reused_prompt_tokens"] == results[1].prompt_tokens - 1


def test_the_batched_chain_is_the_single_paths_chain(batched: LocalBackend) -> None:
    """Same steps, order and settings as the single path; only the batching differs. (Texts are
    not compared: a batched run may differ in the last bits, see the module docstring.)"""
    for temperature in (0.0, 0.7):
        req = request(COUNTING, temperature=temperature, max_tokens=4, repeat_penalty=1.1)
        _, alone = collect(batched, req)
        _, results = run_all(batched.generate_many([req, req]))
        assert alone.record is not None and alone.record["batching"] == "single"
        for result in results.values():
            assert result.record is not None
            assert result.record["sampler_chain"] == alone.record["sampler_chain"]
            assert result.prompt_tokens == alone.prompt_tokens
            assert result.rendered_prompt == alone.rendered_prompt


def test_cancelling_one_request_leaves_the_others_running(default_model_path: Path) -> None:
    budget = 40
    requests = [request(COUNTING, temperature=0, max_tokens=budget) for _ in range(3)]
    with LocalBackend(default_model_path, LoadOptions(n_ctx=512, parallel=3)) as b:
        stream = b.generate_many(requests)
        events: dict[int, list[Event]] = defaultdict(list)
        results: dict[int, Result] = {}
        for index, event in stream:
            events[index].append(event)
            if index == 1 and isinstance(event, Token) and 1 not in results:
                stream.cancel(1)
            if isinstance(event, (Finished, Failed)):
                assert event.result is not None
                results[index] = event.result
        assert results[1].finish_reason == "cancelled"
        assert results[1].completion_tokens < budget
        assert results[1].text == streamed(events[1])
        for i in (0, 2):
            assert results[i].finish_reason in ("stop", "length"), results[i].error
            assert (results[i].finish_reason == "length") == (results[i].completion_tokens
                                                              == budget)
            assert results[i].text == streamed(events[i])
        # The worker is still there for the next request.
        _, after = collect(b, request("Hello", max_tokens=3))
        assert after.finish_reason in ("stop", "length")


def test_stop_sequences_and_log_probabilities_in_a_batch(batched: LocalBackend) -> None:
    greedy = {"temperature": 0, "max_tokens": 24}
    plain = [request(COUNTING, **greedy), request(PROMPTS[3], **greedy, logprobs=3)]
    _, first = run_all(batched.generate_many(plain))
    text = first[0].text
    assert len(text.strip()) >= 6, "the counting prompt keeps the model going"
    stop = text[len(text) // 2:][:3]
    # The same batch again is the same computation, up to where the stop ends the first run.
    again = [request(COUNTING, **greedy, stop=[stop]), plain[1]]
    events, second = run_all(batched.generate_many(again))
    assert second[0].finish_reason == "stop"
    assert second[0].text == text[:text.index(stop)]
    assert stop not in streamed(events[0])

    with_logprobs = first[1]
    assert with_logprobs.logprobs is not None
    assert len(with_logprobs.logprobs) == with_logprobs.completion_tokens
    assert "".join(lp.token for lp in with_logprobs.logprobs) == with_logprobs.text
    for lp in with_logprobs.logprobs:
        assert lp.logprob <= 0
        assert len(lp.top) == 3
        assert [v for _, v in lp.top] == sorted((v for _, v in lp.top), reverse=True)
        # Greedy takes the most likely token: its own log-probability is the best one.
        assert lp.logprob == pytest.approx(lp.top[0][1], abs=1e-4)
    assert first[0].logprobs is None


def test_a_crash_fails_every_request_in_flight(default_model_path: Path) -> None:
    requests = [request(COUNTING, temperature=0, max_tokens=30) for _ in range(3)]
    requests[1] = GenerationRequest(prompt=COUNTING, params=requests[1].params,
                                    crash_after_tokens=3)
    with LocalBackend(default_model_path, LoadOptions(n_ctx=512, parallel=2)) as b:
        events, results = run_all(b.generate_many(requests))
        assert sorted(results) == [0, 1, 2]  # the queued third one too
        for i in range(3):
            last = events[i][-1]
            assert isinstance(last, Failed)
            assert isinstance(last.error, WorkerCrashed)
            assert "SIGABRT" in str(last.error)
            assert results[i].finish_reason == "error"
            assert results[i].text == streamed(events[i])
        assert b.state == "crashed"
        b.restart()
        _, after = collect(b, request("Hello", max_tokens=3))
        assert after.finish_reason in ("stop", "length")


def test_a_comparison_with_parallel_2_stores_every_run_as_batched(tmp_path: Path) -> None:
    from playground.comparison import ComparisonSpec, Variant, inputs_from_rows
    from playground.runs.runner import BackendPool, ComparisonFinished, RunDone, run_comparison
    from playground.storage.store import Store

    params = SamplingParams(temperature=0.7, max_tokens=5)
    variants = tuple(Variant(name, name, source, params, "") for name, source in
                     (("plain", "{{ text }}"), ("asked", "Continue: {{ text }}")))
    rows = [{"id": str(i), "text": text} for i, text in enumerate(PROMPTS[:3])]
    spec = ComparisonSpec("batched", variants, inputs_from_rows(rows), samples=2)
    pool = BackendPool(LoadOptions(n_ctx=512, parallel=2))
    streamed_runs: set[str] = set()
    try:
        with Store(tmp_path / "db.sqlite") as store:
            events = list(run_comparison(spec, pool, store=store, perplexity=False,
                                         on_token=lambda run, _token: streamed_runs.add(run.key)))
            done = [e for e in events if isinstance(e, RunDone)]
            finished = events[-1]
            assert isinstance(finished, ComparisonFinished) and finished.status == "done"
            assert len(done) == 12 and all(d.status == "ok" for d in done)
            assert finished.comparison_id is not None
            stored = store.runs(finished.comparison_id)
            assert len(stored) == 12
            assert {r.record["batching"] for r in stored if r.record} == {"batched, 2 sequences"}
            assert all(r.record for r in stored)
            assert streamed_runs == {d.planned.key for d in done if d.result and d.result.text}
            for d in done:
                assert d.result is not None and d.result.params.seed == spec.seed(d.planned.sample)
    finally:
        pool.close()


def test_each_sequence_keeps_its_own_grammar(batched: LocalBackend) -> None:
    from playground.output_constraint import OutputConstraint

    yes_no = OutputConstraint("grammar", 'root ::= "yes" | "no"')
    colour = OutputConstraint("grammar", 'root ::= "red" | "green" | "blue"')
    bad = OutputConstraint("grammar", "root ::= missing-rule")
    requests = [
        GenerationRequest(prompt="Is water wet? Answer:", constraint=yes_no,
                          params=SamplingParams(temperature=1.0, seed=1, max_tokens=8)),
        GenerationRequest(prompt="Name a colour:", constraint=colour,
                          params=SamplingParams(temperature=1.0, seed=2, max_tokens=8)),
        GenerationRequest(prompt="Hi", constraint=bad, params=SamplingParams(seed=3)),
        GenerationRequest(prompt="Is water wet? Answer:",
                          params=SamplingParams(temperature=1.0, seed=4, max_tokens=4)),
    ]
    events, results = run_all(batched.generate_many(requests))
    assert results[0].text in ("yes", "no") and results[0].finish_reason == "stop"
    assert results[1].text in ("red", "green", "blue") and results[1].finish_reason == "stop"
    for i in (0, 1):
        record = results[i].record or {}
        assert "grammar" in [step["name"] for step in record["sampler_chain"]]
        assert record["output_constraint"]["sha256"] == requests[i].constraint.digest()  # type: ignore[union-attr]
    assert isinstance(events[2][-1], Failed)
    assert "could not parse the grammar" in str(events[2][-1].error)
    free = results[3].record or {}
    assert "grammar" not in [step["name"] for step in free["sampler_chain"]]
    assert results[3].finish_reason in ("stop", "length")
