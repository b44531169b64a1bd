"""A real llama-cpp-python OpenAI-compatible server on loopback, for the remote tests.

It loads the model with the worker's own load settings (LoadOptions' defaults, which
`make test-variants` changes): the server's own defaults (flash attention off, half the cores
for decoding) would make it compute other numbers than the local model.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.engine.options import LoadOptions, default_threads

SERVER_START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_load_args() -> list[str]:
    options = LoadOptions()
    threads = str(options.n_threads or default_threads())
    return ["--n_threads", threads, "--n_threads_batch", threads,
            "--n_batch", str(options.n_batch), "--flash_attn", str(options.flash_attn).lower()]


@contextlib.contextmanager
def llama_server(model: Path, *, n_ctx: int = 2048, api_key: str | None = None) -> Iterator[str]:
    """Start the server, wait until it lists its model, yield its base URL, stop it."""
    check = subprocess.run([sys.executable, "-c", "import llama_cpp.server"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        pytest.fail(
            "llama_cpp.server cannot be imported; install the llama-cpp-python[server] extra "
            f"to run the remote tests:\n{check.stderr.strip()[-500:]}"
        )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host",
            "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx), *server_load_args()]
    if api_key:
        args += ["--api_key", api_key]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-2000:]
                    pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{tail}")
                request = urllib.request.Request(f"{url}/v1/models", headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"llama_cpp.server did not answer within {SERVER_START_TIMEOUT_S} s"
                    )
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
