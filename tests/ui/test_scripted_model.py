"""The scripted model the widget tests use (tests/fakes.py) keeps the real backend's protocol:
checked side by side with the real model, and through the window's model hub."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from playground.engine.backends import LocalBackend
from playground.engine.models import default_model_path
from playground.engine.options import LoadOptions
from playground.errors import GenerationError, WorkerCrashed
from playground.events import (
    ChatMessage,
    Event,
    Failed,
    Finished,
    GenerationRequest,
    Started,
    Token,
)
from playground.sampling import SamplingParams
from tests.fakes import FakeEngine, Script
from ui.context import AppContext


@pytest.fixture
def model_file() -> Path:
    """The bundled model's file: the scripted model reads its header, never its weights."""
    path = default_model_path()
    assert path is not None
    return path


PROMPT = "Maya: Did you book the train for Saturday?\nLeo: Booked, coach C.\nSummary:"


def check_stream(events: list[Event], request: GenerationRequest) -> None:
    """What every backend's stream holds, whatever the model says."""
    assert isinstance(events[0], Started)
    assert all(isinstance(e, Token) for e in events[1:-1])
    end = events[-1]
    assert isinstance(end, Finished)
    result = end.result
    tokens = [e for e in events if isinstance(e, Token)]
    assert result.text == "".join(t.text for t in tokens)
    assert 0 < result.completion_tokens <= request.params.max_tokens
    assert (result.finish_reason == "length") == (
        result.completion_tokens == request.params.max_tokens)
    assert result.prompt_tokens == events[0].prompt_tokens > 0
    assert result.ttft_s is not None and result.total_s >= result.ttft_s
    assert result.params.seed is not None
    assert result.record is not None and result.record["backend"] == "local"
    assert result.token_ids is not None and len(result.token_ids) == result.completion_tokens
    assert result.logprobs is not None and len(result.logprobs) == result.completion_tokens
    for lp in result.logprobs:
        assert lp.logprob <= 0
        assert 0 < len(lp.top) <= (request.logprobs or 0)
        assert [p for _, p in lp.top] == sorted((p for _, p in lp.top), reverse=True)


@pytest.mark.model
def test_the_scripted_model_streams_what_the_real_one_streams(default_model_path: Path) -> None:
    request = GenerationRequest(prompt=PROMPT, logprobs=3,
                                params=SamplingParams(temperature=0, max_tokens=6, seed=1))
    chat = GenerationRequest(messages=(ChatMessage("user", "Hello there"),))
    fake = FakeEngine().open(default_model_path, LoadOptions(n_ctx=512))
    with LocalBackend(default_model_path, LoadOptions(n_ctx=512)) as real:
        for backend in (real, fake):
            check_stream(list(backend.generate(request)), request)
        # The same chat template from the file's header: the same prompt.
        assert fake.preview(chat).prompt == real.preview(chat).prompt
        assert fake.loaded is not None and real.loaded is not None
        assert fake.loaded.n_ctx == real.loaded.n_ctx
        assert fake.loaded.info == real.loaded.info


def test_answers_are_deterministic_and_follow_the_seed_when_sampling(
    model_file: Path
) -> None:
    backend = FakeEngine().open(model_file, LoadOptions(n_ctx=512))

    def answer(temperature: float, seed: int) -> str:
        params = SamplingParams(temperature=temperature, max_tokens=12, seed=seed)
        events = list(backend.generate(GenerationRequest(prompt=PROMPT, params=params)))
        assert isinstance(events[-1], Finished)
        return events[-1].result.text

    assert answer(0, 1) == answer(0, 2)
    assert answer(1.0, 5) == answer(1.0, 5)
    assert answer(1.0, 5) != answer(1.0, 6)


def test_a_stop_sequence_ends_the_answer_before_it(model_file: Path) -> None:
    engine = FakeEngine(Script(text="Leo booked it.\n\nMaya: thanks", token_delay_s=0))
    backend = engine.open(model_file, LoadOptions(n_ctx=512))
    request = GenerationRequest(prompt=PROMPT, params=SamplingParams(stop=("\n\n",)))
    events = list(backend.generate(request))
    end = events[-1]
    assert isinstance(end, Finished)
    assert (end.result.text, end.result.finish_reason) == ("Leo booked it.", "stop")


def test_cancel_from_another_thread_ends_the_run_at_the_next_token(
    model_file: Path
) -> None:
    engine = FakeEngine(Script(length=None, token_delay_s=0.01))
    backend = engine.open(model_file, LoadOptions(n_ctx=512))
    events: list[Event] = []
    request = GenerationRequest(prompt=PROMPT, params=SamplingParams(max_tokens=5000))
    reader = threading.Thread(target=lambda: events.extend(backend.generate(request)))
    reader.start()
    while not any(isinstance(e, Token) for e in events):
        reader.join(0.01)
    backend.cancel()
    reader.join(5)
    assert not reader.is_alive()
    end = events[-1]
    assert isinstance(end, Finished) and end.result.finish_reason == "cancelled"
    assert 0 < end.result.completion_tokens < 5000


def test_failures_on_demand(model_file: Path) -> None:
    engine = FakeEngine(Script(fail_after=2, token_delay_s=0))
    backend = engine.open(model_file, LoadOptions(n_ctx=512))
    request = GenerationRequest(prompt=PROMPT)
    failed = list(backend.generate(request))[-1]
    assert isinstance(failed, Failed) and isinstance(failed.error, GenerationError)
    assert failed.result.completion_tokens == 2 and failed.result.finish_reason == "error"

    engine.script(Script(crash_after=3, token_delay_s=0))
    crashed = list(backend.generate(request))[-1]
    assert isinstance(crashed, Failed) and isinstance(crashed.error, WorkerCrashed)
    assert backend.state == "crashed" and backend.last_crash is crashed.error
    engine.script(Script(token_delay_s=0))
    assert isinstance(list(backend.generate(request))[-1], Finished)  # started again
    assert backend.loads == 2


def test_the_hub_reports_a_refused_load_and_a_crash_of_the_scripted_model(
    qtbot: QtBot, context: AppContext, fake_engine: FakeEngine
) -> None:
    hub = context.hub
    fake_engine.script(Script(load_error="unknown model architecture: 'mamba9'"))
    with qtbot.waitSignal(hub.failed, timeout=10000) as failed:
        hub.load(hub.current)
    assert failed.args[0] == hub.current
    assert "unknown model architecture: 'mamba9'" in failed.args[1]
    qtbot.waitUntil(lambda: hub.state(hub.current) == "unloaded")

    fake_engine.script(Script(crash_on_load=True))
    with qtbot.waitSignal(hub.failed, timeout=10000) as failed:
        hub.load(hub.current)
    assert "died while loading" in failed.args[1]
    qtbot.waitUntil(lambda: hub.state(hub.current) == "crashed")

    fake_engine.script(Script())
    with qtbot.waitSignal(hub.loaded, timeout=10000) as loaded:
        hub.load(hub.current, restart=True)
    assert loaded.args[1].info.architecture == "llama"
    assert hub.state(hub.current) == "ready"
    assert hub.loaded_model(hub.current) is loaded.args[1]
