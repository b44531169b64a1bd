"""The remote backend against a real llama-cpp-python OpenAI server and a misbehaving one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

from playground.engine.endpoints import Endpoint
from playground.engine.remote import RemoteBackend, RemoteError
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
from tests.integration.conftest import collect, streamed_text
from tests.integration.llama_server import free_port, llama_server
from tests.integration.misbehaving_server import MisbehavingServer

GREEDY = SamplingParams(temperature=0, seed=42, max_tokens=40)
STORY = "Once upon a time, in a small village by the sea,"
#: A prompt any model continues for a long time: the cancel tests need a stream still running.
COUNTING = "1, 2, 3, 4, 5,"
@pytest.fixture(scope="module")
def server_url(default_model_path: Path) -> Iterator[str]:
    """A real OpenAI-compatible server on the bundled model, shared by the module."""
    with llama_server(default_model_path) as url:
        yield url


@pytest.fixture(scope="module")
def remote(server_url: str) -> Iterator[RemoteBackend]:
    with RemoteBackend(Endpoint("local-server", server_url, "smollm2")) as backend:
        yield backend


@pytest.fixture(scope="module")
def fake() -> Iterator[MisbehavingServer]:
    with MisbehavingServer() as server:
        yield server


run = collect
streamed = streamed_text


def failure(backend: RemoteBackend, request: GenerationRequest) -> str:
    events, result = run(backend, request)
    last = events[-1]
    assert isinstance(last, Failed), last
    assert isinstance(last.error, RemoteError)
    assert result.finish_reason == "error"
    assert result.error == str(last.error)
    return str(last.error)


# -- the real server ----------------------------------------------------------------------------


def warm(remote: RemoteBackend, prompt: str) -> None:
    """Put ``prompt`` in the server's cache. The server reuses the longest cached prefix of a
    prompt: a first call evaluates the prompt in one batch, a repeat re-evaluates only its last
    token, and the two paths differ in the last bits of the logits, enough to change a greedy
    choice on some CPUs. After a warm-up every compared call takes the repeat path."""
    run(remote, GenerationRequest(prompt=prompt, params=SamplingParams(temperature=0,
                                                                       max_tokens=1)))


def test_streams_tokens_and_greedy_is_deterministic(remote: RemoteBackend) -> None:
    warm(remote, STORY)
    events, first = run(remote, GenerationRequest(prompt=STORY, params=GREEDY))
    _, second = run(remote, GenerationRequest(prompt=STORY, params=GREEDY))
    assert isinstance(events[0], Started)
    assert events[0].rendered_prompt == STORY
    assert isinstance(events[-1], Finished)
    assert first.text
    assert streamed(events) == first.text
    assert first.text == second.text
    assert first.finish_reason in ("stop", "length")
    assert 0 < first.completion_tokens <= GREEDY.max_tokens
    assert (first.finish_reason == "length") == (first.completion_tokens == GREEDY.max_tokens)
    assert first.ttft_s is not None and first.ttft_s > 0
    assert first.tokens_per_second is not None and first.tokens_per_second > 0
    assert first.params.seed == 42
    assert first.model == {
        "name": "smollm2",
        "backend": "remote",
        "endpoint": "local-server",
        "base_url": remote.endpoint.base_url,
    }
    assert first.warnings == ()


def test_chat_request(remote: RemoteBackend) -> None:
    messages = (
        ChatMessage("system", "You are a helpful assistant."),
        ChatMessage("user", "Name a colour."),
    )
    events, result = run(remote, GenerationRequest(messages=messages, params=GREEDY))
    assert isinstance(events[-1], Finished)
    assert result.text.strip()
    assert streamed(events) == result.text
    assert json.loads(result.rendered_prompt)[1] == {"role": "user", "content": "Name a colour."}


def test_stop_sequence_is_respected(remote: RemoteBackend) -> None:
    warm(remote, STORY)
    _, full = run(remote, GenerationRequest(prompt=STORY, params=GREEDY))
    # The stop sequence is a word of whatever this machine's greedy answer is.
    words = full.text.split()
    assert words, full.text
    stop = words[len(words) // 2]
    expected = full.text[: full.text.index(stop)]
    params = SamplingParams(temperature=0, seed=42, max_tokens=40, stop=(stop,))
    _, cut = run(remote, GenerationRequest(prompt=STORY, params=params))
    assert cut.finish_reason == "stop"
    assert cut.text == expected
    assert stop not in cut.text


def test_max_tokens_ends_with_length(remote: RemoteBackend) -> None:
    params = SamplingParams(temperature=0, seed=1, max_tokens=5)
    _, result = run(remote, GenerationRequest(prompt=COUNTING, params=params))
    assert result.finish_reason in ("length", "stop")
    assert 0 < result.completion_tokens <= 5
    # "length" exactly when the budget ran out, whenever this model happens to stop.
    assert (result.finish_reason == "length") == (result.completion_tokens == 5)


def test_cancel_mid_stream_then_next_request_works(remote: RemoteBackend) -> None:
    params = SamplingParams(temperature=0.8, seed=3, max_tokens=1000)
    events: list[Event] = []
    for event in remote.generate(GenerationRequest(prompt=COUNTING, params=params)):
        events.append(event)
        if sum(isinstance(e, Token) for e in events) == 3:
            threading.Thread(target=remote.cancel).start()
    last = events[-1]
    assert isinstance(last, Finished), last
    assert last.result.finish_reason == "cancelled"
    assert last.result.completion_tokens < 1000
    _, after = run(remote, GenerationRequest(prompt=STORY, params=GREEDY))
    assert after.finish_reason in ("stop", "length")
    assert after.text


def test_models_lists_the_loaded_model(remote: RemoteBackend) -> None:
    models = remote.models()
    assert models
    assert all(isinstance(m, str) and m for m in models)


def test_extension_params_are_reported(remote: RemoteBackend) -> None:
    params = SamplingParams(temperature=0, seed=1, max_tokens=3, top_k=5, min_p=0.1)
    _, result = run(remote, GenerationRequest(prompt=STORY, params=params))
    assert result.finish_reason in ("stop", "length")
    assert result.warnings == ("min_p and top_k are extensions; this server may ignore them",)


# -- a server that follows the spec fully (usage, logprobs) -------------------------------------


def test_usage_and_logprobs_from_the_server(fake: MisbehavingServer) -> None:
    backend = RemoteBackend(Endpoint("fake", fake.url("ok"), "fake-model"))
    events, result = run(backend, GenerationRequest(prompt="Hi", logprobs=2))
    assert streamed(events) == result.text == "Hi there!"
    assert (result.prompt_tokens, result.completion_tokens) == (7, 3)
    assert result.logprobs is not None and len(result.logprobs) == 3
    assert result.logprobs[0].logprob == -0.5
    assert result.logprobs[0].top == (("Hi", -0.5), ("x", -1.5))
    body = fake.requests[-1]["body"]
    assert body["stream"] is True and body["logprobs"] == 2
    assert body["stream_options"] == {"include_usage": True}

    chat = GenerationRequest(messages=(ChatMessage("user", "hi"),), logprobs=1)
    events, result = run(backend, chat)
    assert result.text == "Hi there!" and result.completion_tokens == 3
    assert result.logprobs is not None and result.logprobs[2].token == "!"
    tokens = [e for e in events if isinstance(e, Token)]
    assert tokens[1].logprob is not None and tokens[1].logprob.top[1] == ("x", -2.0)
    body = fake.requests[-1]["body"]
    assert body["logprobs"] is True and body["top_logprobs"] == 1
    assert fake.requests[-1]["path"].endswith("/v1/chat/completions")


def test_api_key_is_read_from_the_environment(
    fake: MisbehavingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = RemoteBackend(Endpoint("fake", fake.url("ok"), "m", api_key_env="PG_TEST_KEY"))
    monkeypatch.delenv("PG_TEST_KEY", raising=False)
    assert "PG_TEST_KEY is not set" in failure(backend, GenerationRequest(prompt="x"))
    monkeypatch.setenv("PG_TEST_KEY", "sekrit")
    _, result = run(backend, GenerationRequest(prompt="x"))
    assert result.finish_reason == "stop"
    assert fake.requests[-1]["headers"]["Authorization"] == "Bearer sekrit"
    assert "sekrit" not in repr(backend.endpoint)


def test_a_server_without_usage_leaves_the_prompt_count_unknown(
    fake: MisbehavingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playground.comparison import ComparisonSpec, Input, Variant
    from playground.engine.endpoints import save_endpoint
    from playground.storage.store import Store

    backend = RemoteBackend(Endpoint("fake", fake.url("nousage"), "fake-model"))
    _, result = run(backend, GenerationRequest(prompt="Hi"))
    assert result.text == "Hi there!" and result.finish_reason == "stop"
    assert result.prompt_tokens is None  # unknown, not a made-up 0
    assert result.to_dict()["prompt_tokens"] is None

    with Store(tmp_path / "runs.db") as store:
        variant = Variant("v", "t", "Hi", SamplingParams(), "remote:fake")
        cid = store.save_comparison(ComparisonSpec("c", (variant,), (Input("i", {}),)))
        run_id = store.save_run(comparison_id=cid, variant_id=store.variant_ids(cid)["v"],
                                input_id=store.input_ids(cid)["i"], sample=0, seed=1,
                                run_key="k", result=result, status="ok", error=None)
        assert store.run(run_id).prompt_tokens is None

    endpoints = tmp_path / "endpoints.json"
    monkeypatch.setenv("PLAYGROUND_ENDPOINTS", str(endpoints))
    save_endpoint(Endpoint("quiet", fake.url("nousage"), "fake-model"))
    env = {**os.environ, "PLAYGROUND_ENDPOINTS": str(endpoints),
           "PLAYGROUND_DB": str(tmp_path / "cli.db")}
    proc = subprocess.run([sys.executable, "-m", "playground", "generate", "--model",
                           "remote:quiet", "Hi"], capture_output=True, text=True, env=env,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "Hi there!\n"
    assert "[stop] ? prompt + " in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "playground", "generate", "--model",
                           "remote:quiet", "--json", "Hi"], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["prompt_tokens"] is None


# -- failures -----------------------------------------------------------------------------------


def test_http_500_quotes_the_server_message(fake: MisbehavingServer) -> None:
    backend = RemoteBackend(Endpoint("fake", fake.url("error500"), "m"))
    message = failure(backend, GenerationRequest(prompt="x"))
    assert "HTTP 500" in message and "model exploded" in message


def test_http_404(fake: MisbehavingServer) -> None:
    backend = RemoteBackend(Endpoint("fake", fake.url("notfound"), "m"))
    message = failure(backend, GenerationRequest(prompt="x"))
    assert "HTTP 404" in message and "/notfound/v1/completions" in message
    with pytest.raises(RemoteError, match="HTTP 404"):
        backend.models()


def test_malformed_sse(fake: MisbehavingServer) -> None:
    backend = RemoteBackend(Endpoint("fake", fake.url("malformed"), "m"))
    events, result = run(backend, GenerationRequest(messages=(ChatMessage("user", "x"),)))
    last = events[-1]
    assert isinstance(last, Failed)
    assert "malformed stream event" in str(last.error)
    assert "{this is not json" in str(last.error)
    assert result.text == "Hello"


def test_disconnect_mid_stream(fake: MisbehavingServer) -> None:
    backend = RemoteBackend(Endpoint("fake", fake.url("disconnect"), "m"))
    message = failure(backend, GenerationRequest(prompt="x"))
    assert "closed the connection in the middle of the answer" in message


def test_timeout(fake: MisbehavingServer) -> None:
    backend = RemoteBackend(Endpoint("fake", fake.url("hang"), "m"), timeout_s=1.0)
    started = time.monotonic()
    message = failure(backend, GenerationRequest(prompt="x"))
    assert time.monotonic() - started < 5
    assert "did not answer within 1 s" in message


def test_connection_refused() -> None:
    port = free_port()
    backend = RemoteBackend(Endpoint("nowhere", f"http://127.0.0.1:{port}", "m"))
    message = failure(backend, GenerationRequest(prompt="x"))
    assert message == f"could not connect to http://127.0.0.1:{port} — is the server running?"
    with pytest.raises(RemoteError, match="could not connect"):
        backend.models()


def test_bad_base_url_is_rejected() -> None:
    with pytest.raises(RemoteError, match="must look like"):
        RemoteBackend(Endpoint("bad", "127.0.0.1:8080", "m"))


def test_cancel_before_the_first_byte(fake: MisbehavingServer) -> None:
    backend = RemoteBackend(Endpoint("fake", fake.url("hang"), "m"), timeout_s=30.0)
    timer = threading.Timer(0.3, backend.cancel)
    timer.start()
    started = time.monotonic()
    events, result = run(backend, GenerationRequest(prompt="x"))
    timer.join()
    assert isinstance(events[-1], Finished)
    assert result.finish_reason == "cancelled"
    assert time.monotonic() - started < 5


# -- saved endpoints, the CLI, and comparisons mixing local and remote variants ---------------


@pytest.fixture
def saved_endpoint(
    server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    path = tmp_path / "endpoints.json"
    monkeypatch.setenv("PLAYGROUND_ENDPOINTS", str(path))
    env = {**os.environ, "PLAYGROUND_ENDPOINTS": str(path),
           "PLAYGROUND_DB": str(tmp_path / "db.sqlite")}
    proc = subprocess.run(
        [sys.executable, "-m", "playground", "endpoints", "add", "local-server", server_url,
         "--model", "smollm"], capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return env


def test_saved_endpoints_never_hold_keys(saved_endpoint: dict[str, str]) -> None:
    from playground.engine.endpoints import EndpointError, load_endpoints, save_endpoint

    saved = json.loads(Path(saved_endpoint["PLAYGROUND_ENDPOINTS"]).read_text())
    assert saved["endpoints"][0]["name"] == "local-server"
    assert set(saved["endpoints"][0]) == {"name", "base_url", "model", "api_key_env",
                                          "api_key_keyring"}
    with pytest.raises(EndpointError, match="never the key itself"):
        save_endpoint(Endpoint("x", "http://127.0.0.1:1/v1", "m", "sk-123-not-a-name"))
    assert "x" not in load_endpoints()


def test_generate_and_compare_against_a_saved_endpoint(saved_endpoint: dict[str, str]) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True,
                              text=True, env=saved_endpoint, timeout=300, check=False)

    listed = cli("endpoints", "list")
    assert "remote:local-server" in listed.stdout
    generated = cli("generate", "--model", "remote:local-server", "-t", "0", "-n", "8",
                    "--json", "Once upon a time")
    assert generated.returncode == 0, generated.stderr
    result = json.loads(generated.stdout)
    assert result["model"]["backend"] == "remote"
    assert result["completion_tokens"] > 0
    spec = Path(saved_endpoint["PLAYGROUND_DB"]).with_name("spec.yaml")
    spec.write_text(
        "name: local vs remote\ndataset: sentiment\nrows: 2\nparams: {max_tokens: 4}\n"
        "variants:\n"
        "  - {template: sentiment-zero-shot, name: local}\n"
        "  - {template: sentiment-zero-shot, name: remote, model: 'remote:local-server'}\n",
        encoding="utf-8",
    )
    compared = cli("compare", "--spec", str(spec), "--format", "jsonl")
    assert compared.returncode == 0, compared.stderr
    records = [json.loads(line) for line in compared.stdout.splitlines()]
    assert {r["variant"] for r in records} == {"local", "remote"}
    assert all(r["status"] == "ok" for r in records)
    unknown = cli("generate", "--model", "remote:nope", "x")
    assert unknown.returncode == 2
    assert "no saved endpoint named 'nope'" in unknown.stderr


@pytest.mark.parametrize("concurrency", [1, 3])
def test_remote_runs_go_out_n_at_a_time_and_land_in_the_store(
    concurrency: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playground.comparison import ComparisonSpec, Input, Variant
    from playground.engine.endpoints import save_endpoint
    from playground.runs.runner import BackendPool, ComparisonStarted, RunDone, run_comparison
    from playground.storage.store import Store

    monkeypatch.setenv("PLAYGROUND_ENDPOINTS", str(tmp_path / "endpoints.json"))
    with MisbehavingServer() as server:
        save_endpoint(Endpoint("slow", server.url("slow"), "fake-model"))
        variant = Variant("remote", "t", "Say hi to {{ name }}.", SamplingParams(max_tokens=4),
                          "remote:slow")
        inputs = tuple(Input(f"in-{i}", {"name": f"n{i}"}, ("Hi there!",)) for i in range(6))
        spec = ComparisonSpec("remote batch", (variant,), inputs)
        pool = BackendPool()
        with Store(tmp_path / "db.sqlite") as store:
            events = list(run_comparison(spec, pool, store=store, concurrency=concurrency))
            done = [e for e in events if isinstance(e, RunDone)]
            started = events[0]
            assert isinstance(started, ComparisonStarted)
            assert started.comparison_id is not None
            saved = store.runs(started.comparison_id)
        pool.close()
        assert len(done) == 6
        assert all(d.status == "ok" and d.result and d.result.text == "Hi there!" for d in done)
        assert len(saved) == 6
        assert server.max_in_flight == concurrency


class _MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend in memory: the keyring library's own extension point, as an OS
    keyring would plug in (none runs on a headless test machine)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def test_api_key_from_the_os_keyring(
    fake: MisbehavingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playground.engine.endpoints import load_endpoints, save_endpoint, store_key_in_keyring

    monkeypatch.setenv("PLAYGROUND_ENDPOINTS", str(tmp_path / "endpoints.json"))
    endpoint = Endpoint("vault", fake.url("ok"), "m", api_key_keyring=True)
    previous = keyring.get_keyring()
    memory = _MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        store_key_in_keyring("vault", "from-keyring")
        save_endpoint(endpoint)
        assert "from-keyring" not in (tmp_path / "endpoints.json").read_text()
        assert load_endpoints()["vault"].api_key_keyring
        _, result = run(RemoteBackend(endpoint), GenerationRequest(prompt="x"))
        assert result.finish_reason == "stop"
        assert fake.requests[-1]["headers"]["Authorization"] == "Bearer from-keyring"
        memory.secrets.clear()
        assert "holds no API key" in failure(RemoteBackend(endpoint), GenerationRequest(prompt="x"))
    finally:
        keyring.set_keyring(previous)


def test_without_an_os_keyring_the_message_says_what_to_do(
    fake: MisbehavingServer,
) -> None:
    from keyring.backends.fail import Keyring as NoKeyring

    from playground.engine.endpoints import EndpointError, store_key_in_keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        with pytest.raises(EndpointError, match="use --api-key-env"):
            store_key_in_keyring("vault", "x")
        endpoint = Endpoint("vault", fake.url("ok"), "m", api_key_keyring=True)
        message = failure(RemoteBackend(endpoint), GenerationRequest(prompt="x"))
        assert "use --api-key-env" in message
    finally:
        keyring.set_keyring(previous)
