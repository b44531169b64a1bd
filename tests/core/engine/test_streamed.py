"""The worker's messages about one request, read back as events and a Result: the one reader
the single stream and every request of a batch share."""

from __future__ import annotations

import time
from typing import Any

from playground.engine.streamed import RequestStream, worker_error
from playground.errors import ContextOverflowError, GenerationError, WorkerCrashed
from playground.events import Failed, Finished, GenerationRequest, Started, Token, TokenLogprob
from playground.sampling import SamplingParams

MODEL = {"name": "tiny"}


def _record(request: GenerationRequest, run: dict[str, Any] | None) -> dict[str, Any]:
    return {"prompt": request.prompt, "run": run}


def _stream(logprobs: int | None = None, queued: bool = False, sent: float = 0.0) -> RequestStream:
    request = GenerationRequest(prompt="Hi", params=SamplingParams(max_tokens=8, seed=3),
                                logprobs=logprobs)
    return RequestStream(request, 7, sent or time.perf_counter(), lambda: dict(MODEL), _record,
                         queued=queued)


def test_a_run_read_from_its_messages() -> None:
    stream = _stream(logprobs=1)
    lp = TokenLogprob(" a", -0.1, ((" a", -0.1),))
    events = [
        *stream.events(("started", 7, "<s>Hi", 3, 6, True)),
        *stream.events(("tokens", 7, [(" a", lp), (" b", None)])),
        *stream.events(("done", 7, " a b", "length", 3, 2, 0.5, {"seed": 3}, [11, 12])),
    ]
    assert events[0] == Started("<s>Hi", 3, 6, True)
    assert events[1:3] == [Token(" a", lp), Token(" b", None)]
    assert isinstance(events[3], Finished) and stream.ended
    result = events[3].result
    assert (result.text, result.finish_reason, result.completion_tokens) == (" a b", "length", 2)
    assert result.tokens_per_second == 2.0  # one step in half a second, timed by the worker
    assert result.logprobs == (lp,) and result.token_ids == (11, 12)
    assert result.max_tokens_clipped and result.warnings
    assert result.model == MODEL and result.record == {"prompt": "Hi", "run": {"seed": 3}}
    assert result.ttft_s is not None and 0 <= result.ttft_s <= result.total_s


def test_the_worker_s_text_wins_and_one_token_has_no_speed() -> None:
    stream = _stream()
    list(stream.events(("tokens", 7, [("x", None)])))
    (done,) = stream.events(("done", 7, "xy", "stop", 3, 1, 0.2, None, None))
    assert isinstance(done, Finished)
    assert done.result.text == "xy" and done.result.tokens_per_second is None
    assert done.result.logprobs is None and done.result.token_ids is None


def test_a_queued_request_s_clock_starts_when_the_worker_takes_it() -> None:
    sent = time.perf_counter() - 60  # a minute in the queue
    waited, direct = _stream(queued=True, sent=sent), _stream(sent=sent)
    for stream in (waited, direct):
        list(stream.events(("started", 7, "Hi", 3, 8, False)))
        list(stream.events(("tokens", 7, [("x", None)])))
    ended = [s.result("stop") for s in (waited, direct)]
    assert ended[0].ttft_s is not None and ended[0].ttft_s < 30
    assert ended[1].ttft_s is not None and ended[1].ttft_s >= 60


def test_failures_and_ends_keep_what_was_streamed() -> None:
    stream = _stream()
    list(stream.events(("tokens", 7, [("par", None), ("tial", None)])))
    (failed,) = stream.events(("failed", 7, "ContextOverflowError", "too long"))
    assert isinstance(failed, Failed) and isinstance(failed.error, ContextOverflowError)
    result = failed.result
    assert result is not None and stream.ended
    assert (result.text, result.completion_tokens, result.error) == ("partial", 2, "too long")
    crash = WorkerCrashed("the model worker stopped unexpectedly", -11)
    ended = _stream().end(crash)
    assert isinstance(ended, Failed) and ended.error is crash
    cancelled = _stream().end(None)
    assert isinstance(cancelled, Finished) and cancelled.result.finish_reason == "cancelled"


def test_an_error_the_app_does_not_know_is_a_generation_error() -> None:
    assert isinstance(worker_error("ContextOverflowError", "m"), ContextOverflowError)
    for kind in ("KeyError", "NoSuchError", "Path"):
        error = worker_error(kind, "message")
        assert type(error) is GenerationError and str(error) == "message"
