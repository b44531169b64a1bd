"""Remote vs local decode speed on the default model: llama-cpp-python's OpenAI-compatible
server on 127.0.0.1 against the app's own worker process, same model, same threads, both timed
at the client from the streamed events."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playground.engine.backends import LocalBackend
from playground.engine.endpoints import Endpoint
from playground.engine.options import LoadOptions, default_threads
from playground.engine.remote import RemoteBackend
from playground.events import Finished, GenerationRequest, Token
from playground.sampling import SamplingParams

PROMPT = "Write a long story about a lighthouse keeper who finds a message in a bottle.\n\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tps(backend: LocalBackend | RemoteBackend, max_tokens: int) -> float:
    """Decode speed as the client sees it, the same clock for both: tokens after the first
    over the time from the first streamed piece to the end of the run. (A local result's own
    figure is timed inside the worker, which would flatter local against remote.)"""
    params = SamplingParams(temperature=0, max_tokens=max_tokens, seed=1)
    first: float | None = None
    for event in backend.generate(GenerationRequest(prompt=PROMPT, params=params)):
        if isinstance(event, Token) and first is None:
            first = time.perf_counter()
        elif isinstance(event, Finished):
            ended = time.perf_counter()
            n = event.result.completion_tokens
            if first is None or n < 2:
                raise RuntimeError(f"{n} token(s) generated, too few to time")
            return (n - 1) / (ended - first)
    raise RuntimeError(f"the run did not finish on {backend}")


def remote_vs_local(
    model_path: Path, max_tokens: int = 200, rounds: int = 5
) -> list[tuple[str, str]]:
    threads = default_threads()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--host",
         "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", str(threads),
         "--flash_attn", "true"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/models", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the llama-cpp-python server did not start") from None
                time.sleep(0.2)
        remote = RemoteBackend(Endpoint("bench", base, "bench"))
        local = LocalBackend(model_path, LoadOptions(n_ctx=2048, n_threads=threads))
        local.start()
        try:
            _tps(remote, 8)  # warm-up
            _tps(local, 8)
            remote_tps, local_tps = [], []
            for _ in range(rounds):
                remote_tps.append(_tps(remote, max_tokens))
                local_tps.append(_tps(local, max_tokens))
        finally:
            remote.close()
            local.close()
    finally:
        server.terminate()
        server.wait(10)
    r, lo = statistics.median(remote_tps), statistics.median(local_tps)
    return [
        ("threads", str(threads)),
        ("decode tok/s at the client, local worker (median)", f"{lo:.1f}"),
        ("decode tok/s at the client, llama-cpp-python server over HTTP/SSE (median)",
         f"{r:.1f}"),
        ("ratio remote / local", f"{r / lo:.3f}"),
    ]
