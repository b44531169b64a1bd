"""The `playground` command run as a user runs it: a real process on the real model."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from playground.prompts.templates import builtin_templates

PLAYGROUND = [sys.executable, "-m", "playground"]
#: A prompt any model continues for a long time, for runs that must use their whole budget or
#: still be going when interrupted. What it says is never asserted.
COUNTING = "1, 2, 3, 4, 5,"


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PLAYGROUND, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.model
def test_generate_streams_text_and_a_status_line() -> None:
    proc = run("generate", "-t", "0", "-n", "12", "--seed", "5", COUNTING)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    status = re.search(r"\[(length|stop)\] \d+ prompt \+ (\d+) generated tokens?", proc.stderr)
    assert status is not None, proc.stderr
    reason, generated = status.group(1), int(status.group(2))
    assert 0 < generated <= 12
    assert (reason == "length") == (generated == 12)  # whenever this model stops
    assert "seed 5" in proc.stderr


@pytest.mark.model
def test_generate_json_is_one_result_document_and_reproducible() -> None:
    args = ("generate", "--json", "--chat", "--system", "Be brief.", "--seed", "9",
            "-t", "0.8", "-n", "20", "--logprobs", "2", "Name a fruit.")
    first = json.loads(run(*args).stdout)
    second = json.loads(run(*args).stdout)
    assert first["text"] == second["text"]
    assert first["params"]["seed"] == 9
    assert first["params"]["temperature"] == 0.8
    assert "<|im_start|>system\nBe brief.<|im_end|>" in first["rendered_prompt"]
    assert len(first["logprobs"]) == first["completion_tokens"]
    assert all(len(lp["top"]) == 2 for lp in first["logprobs"])


@pytest.mark.model
def test_generate_reads_the_prompt_from_stdin() -> None:
    proc = subprocess.run(
        [*PLAYGROUND, "generate", "--json", "-t", "0", "-n", "3", "-"],
        input="The sky is", capture_output=True, text=True, timeout=120, check=False,
    )
    assert json.loads(proc.stdout)["rendered_prompt"] == "The sky is"


def test_bad_settings_and_files_get_a_message_not_a_traceback(tmp_path: object) -> None:
    proc = run("generate", "--temperature", "-1", "x")
    assert proc.returncode == 2
    assert "temperature must be between 0 and 5" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad = os.path.join(str(tmp_path), "bad.gguf")
    with open(bad, "wb") as fh:
        fh.write(b"GGUF" + b"\x63\x00\x00\x00" + b"\x00" * 16)
    proc = run("generate", "--model", bad, "x")
    assert proc.returncode == 2
    assert "version 99" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.model
def test_interrupt_cancels_and_reports_the_partial_run() -> None:
    proc = subprocess.Popen(
        [*PLAYGROUND, "generate", "-t", "0", "-n", "2000", "--n-ctx", "4096", COUNTING],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.read(1)  # wait until text is streaming
    # A terminal's Ctrl-C reaches the whole process group, the model worker included.
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the command did not stop after Ctrl-C")
    assert proc.returncode == 130
    assert "[cancelled]" in err
    assert "Traceback" not in err


def test_models_lists_the_bundled_model() -> None:
    proc = run("models", "--json")
    data = json.loads(proc.stdout)
    bundled = [m for m in data["models"] if m["source"] == "bundled"]
    assert bundled
    assert bundled[0]["architecture"] == "llama"
    assert data["gpu_offload_supported"] in (True, False)


@pytest.mark.model
def test_demo_runs_a_streamed_generation_on_the_default_model() -> None:
    proc = run("demo")
    assert proc.returncode == 0, proc.stderr
    assert "ready in" in proc.stderr
    status = re.search(r"\[(length|stop)\] \d+ prompt \+ (\d+) generated tokens?", proc.stderr)
    assert status is not None, proc.stderr
    assert proc.stdout.strip() or int(status.group(2)) == 0


@pytest.mark.model
def test_self_test_checks_templates_model_and_generation(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The count is of the built-in templates: no library this machine's user installed.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    proc = run("--self-test")
    assert proc.returncode == 0, proc.stderr
    shipped = len([t for t in builtin_templates() if not t.id.startswith("_")])  # no partials
    assert proc.stdout.startswith(f"self-test ok: {shipped} templates, SmolLM2-135M-Instruct ")
    generated = re.search(r"generated (\d+) tokens?", proc.stdout)
    assert generated is not None and int(generated.group(1)) <= 4  # its budget: 4 tokens
