"""A model whose file has no chat template: chat is refused with the setting that fixes it, and
with a built-in format chosen it chats in that format and its runs record the format. The model
is the bundled one with ``tokenizer.chat_template`` removed from its header."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.engine.backends import LocalBackend
from playground.engine.options import LoadOptions
from playground.errors import TemplateError
from playground.events import ChatMessage, Failed, Finished, GenerationRequest
from playground.prompts.chat_formats import CHAT_FORMATS, NO_FORMAT
from playground.sampling import SamplingParams
from tests.gguf_factory import without_key

CHAT = GenerationRequest(
    messages=(ChatMessage("system", "Answer in one word."), ChatMessage("user", "Name a fruit.")),
    params=SamplingParams(temperature=0, max_tokens=12, seed=3),
)


@pytest.fixture(scope="module")
def templateless(default_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("base-model")
    return without_key(default_model_path, folder / "smollm2-no-template.gguf")


@pytest.mark.model
def test_chat_is_refused_then_runs_in_the_chosen_format(templateless: Path) -> None:
    with LocalBackend(templateless, LoadOptions(n_ctx=512)) as backend:
        assert backend.loaded is not None and not backend.loaded.chat_available
        refused = list(backend.generate(CHAT))[-1]
        assert isinstance(refused, Failed) and isinstance(refused.error, TemplateError)
        assert "no usable chat template" in str(refused.error)
        assert "Chat format" in str(refused.error) and "--chat-format" in str(refused.error)
        # Raw completion is untouched, and its record says chat had no format.
        raw = list(backend.generate(GenerationRequest(
            prompt="The sky is", params=SamplingParams(temperature=0, max_tokens=3))))[-1]
        assert isinstance(raw, Finished)
        assert (raw.result.record or {})["chat_format"] == NO_FORMAT

    with LocalBackend(templateless, LoadOptions(n_ctx=512, chat_format="chatml")) as backend:
        assert backend.loaded is not None and backend.loaded.chat_available
        final = list(backend.generate(CHAT))[-1]
    assert isinstance(final, Finished), final
    result = final.result
    assert result.rendered_prompt == (
        "<|im_start|>system\nAnswer in one word.<|im_end|>\n"
        "<|im_start|>user\nName a fruit.<|im_end|>\n<|im_start|>assistant\n"
    )
    # Whatever the model says, a turn marker never reaches the answer: the format's stops.
    assert not any(stop in result.text for stop in CHAT_FORMATS["chatml"].stop)
    record = result.record or {}
    assert record["chat_format"] == "chatml"
    assert record["chat_template_sha256"] == hashlib.sha256(
        CHAT_FORMATS["chatml"].template.encode()).hexdigest()


# -- the command line ---------------------------------------------------------------------------


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "playground", *args], capture_output=True,
                          text=True, timeout=300, check=False, env=env)


@pytest.mark.model
def test_cli_generate_names_the_flag_then_uses_the_format(templateless: Path) -> None:
    refused = run("generate", "--model", str(templateless), "--chat", "-n", "4", "Hello")
    assert refused.returncode != 0
    assert "--chat-format" in refused.stderr and "Traceback" not in refused.stderr

    done = run("generate", "--json", "--model", str(templateless), "--chat-format", "chatml",
               "-t", "0", "-n", "6", "--n-ctx", "512", "Hello")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["rendered_prompt"] == "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n"
    assert result["record"]["chat_format"] == "chatml"


def test_cli_refuses_an_unknown_format() -> None:
    proc = run("generate", "--chat-format", "vicuna", "Hello")
    assert proc.returncode == 2
    assert "invalid choice: 'vicuna'" in proc.stderr and "chatml" in proc.stderr


@pytest.mark.model
def test_cli_compare_runs_a_chat_template_in_the_chosen_format(templateless: Path) -> None:
    args = ("compare", "-T", "sentiment-system-user", "-d", "sentiment", "--rows", "1",
            "--param", "max_tokens=3", "--no-perplexity", "--no-save", "--format", "jsonl",
            "--model", str(templateless))
    refused = run(*args)
    assert "--chat-format" in refused.stderr
    done = run(*args, "--chat-format", "gemma")
    assert done.returncode == 0, done.stderr
    runs = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    runs = [r for r in runs if "record" in r]
    assert runs and all(r["status"] == "ok" for r in runs)
    assert all(r["record"]["chat_format"] == "gemma" for r in runs)
    assert all(r["prompt"].rstrip().endswith("<start_of_turn>model") for r in runs)


def test_cli_models_lists_a_base_model_as_raw_completion(templateless: Path) -> None:
    env = {**os.environ, "PLAYGROUND_MODELS": str(templateless.parent)}
    proc = run("models", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = {row["path"]: row for row in json.loads(proc.stdout)["models"]}
    assert rows[str(templateless)]["chat"] == "raw completion"
    assert rows[str(templateless)]["chat_template"] is False
    others = [row for path, row in rows.items() if path != str(templateless) and not row["error"]]
    assert others and all(row["chat"] == "model's own" for row in others)
