"""What the CLI prints cannot drive the terminal: a hostile endpoint's error body and model
names arrive escaped, model output is escaped on a terminal and byte-exact through a pipe.
The CLI runs as a subprocess, as a person runs it, against the fake server."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.engine.endpoints import Endpoint, save_endpoint
from tests.integration.misbehaving_server import CONTROL_TEXT, MisbehavingServer

#: Any control character but newline and tab: nothing of the kind may reach a terminal.
CONTROLS = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")


@pytest.fixture(scope="module")
def fake() -> Iterator[MisbehavingServer]:
    with MisbehavingServer() as server:
        yield server


@pytest.fixture
def env(fake: MisbehavingServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
        ) -> dict[str, str]:
    path = tmp_path / "endpoints.json"
    monkeypatch.setenv("PLAYGROUND_ENDPOINTS", str(path))
    for mode in ("hostile", "controls"):
        save_endpoint(Endpoint(mode, fake.url(mode), "fake-model"))
    return {**os.environ, "PLAYGROUND_ENDPOINTS": str(path),
            "PLAYGROUND_DB": str(tmp_path / "db.sqlite"), "PYTHONIOENCODING": "utf-8"}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True,
                          env=env, stdin=subprocess.DEVNULL, timeout=120, check=False)


def test_a_hostile_error_body_and_model_name_arrive_escaped(env: dict[str, str]) -> None:
    failed = cli(env, "generate", "--model", "remote:hostile", "Hello")
    assert failed.returncode != 0
    assert b"HTTP 500" in failed.stderr
    assert b"boom\\x1b]0;pwned\\x07\\x1b[2J" in failed.stderr
    assert not CONTROLS.search(failed.stderr), failed.stderr

    listed = cli(env, "endpoints", "check", "hostile")
    assert listed.returncode == 0, listed.stderr
    # The server's model names are a message: escaped even when piped.
    assert listed.stdout == b"evil\\x1b]0;pwned\\x07\\x1b[2J\n"


def test_piped_model_output_is_byte_exact(env: dict[str, str]) -> None:
    piped = cli(env, "generate", "--model", "remote:controls", "Hello")
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == CONTROL_TEXT.encode("utf-8") + b"\n"
    assert not CONTROLS.search(piped.stderr)


def test_model_output_on_a_terminal_is_escaped(env: dict[str, str]) -> None:
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "playground", "generate", "--model", "remote:controls",
             "Hello"], stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)
    finally:
        os.close(slave)
    shown = b""
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed its end of the terminal
                break
            if not data:
                break
            shown += data
        _, stderr = proc.communicate(timeout=60)
    finally:
        os.close(master)
    assert proc.returncode == 0, stderr
    # The terminal driver turns each newline into CR LF on its own; that CR is not ours.
    shown = shown.replace(b"\r\n", b"\n")
    assert shown == b"plain \\x1b[31mred\\x1b[0m\\x0dover\\x9b2J\\x07\tand\nnext\n"
    assert not CONTROLS.search(shown)
