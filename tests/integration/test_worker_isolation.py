"""What happens when llama.cpp dies, refuses a file, or meets a hostile chat template."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from playground.engine import memory
from playground.engine.backends import LocalBackend
from playground.engine.gguf import read_gguf
from playground.engine.options import LoadOptions
from playground.errors import (
    InsufficientMemoryError,
    ModelFileError,
    ModelLoadError,
    TemplateError,
    WorkerCrashed,
)
from playground.events import ChatMessage, Failed, GenerationRequest, Token
from playground.sampling import SamplingParams
from tests.gguf_factory import STRING, GGUFBuilder, valid_builder
from tests.integration.conftest import collect

GREEDY = SamplingParams(temperature=0, max_tokens=30)
STORY = "Once upon a time, in a small village by the sea,"
#: A prompt any model continues for a long time: a crash "after 3 tokens" needs 3 tokens.
COUNTING = "1, 2, 3, 4, 5,"
SMALL = LoadOptions(n_ctx=512)


def test_native_abort_mid_stream_is_reported_and_the_worker_restarts(
    default_model_path: Path,
) -> None:
    with LocalBackend(default_model_path, SMALL) as b:
        request = GenerationRequest(prompt=COUNTING, params=GREEDY, crash_after_tokens=3)
        events = list(b.generate(request))
        tokens = [e for e in events if isinstance(e, Token)]
        failed = events[-1]
        assert isinstance(failed, Failed)
        assert isinstance(failed.error, WorkerCrashed)
        assert failed.error.exitcode == -6  # SIGABRT, seen by this (surviving) process
        assert "SIGABRT" in str(failed.error)
        assert failed.result is not None
        assert failed.result.finish_reason == "error"
        assert failed.result.text == "".join(t.text for t in tokens)
        assert b.state == "crashed"

        # A crashed backend says so until it is restarted.
        with pytest.raises(WorkerCrashed, match="restart"):
            list(b.generate(GenerationRequest(prompt="Hello", params=GREEDY)))

        b.restart()
        assert b.state == "ready"
        _, result = collect(b, GenerationRequest(prompt=STORY, params=GREEDY))
        assert result.finish_reason in ("length", "stop")
        assert result.text


def test_auto_restart_brings_a_crashed_worker_back_for_the_next_run(
    default_model_path: Path,
) -> None:
    with LocalBackend(default_model_path, SMALL, auto_restart=True) as b:
        crash = GenerationRequest(prompt=COUNTING, params=GREEDY, crash_after_tokens=1)
        assert isinstance(list(b.generate(crash))[-1], Failed)
        _, result = collect(b, GenerationRequest(prompt="The sky is", params=GREEDY))
        assert result.finish_reason in ("length", "stop")


def test_killed_worker_is_a_crash_with_the_signal_named(default_model_path: Path) -> None:
    with LocalBackend(default_model_path, SMALL) as b:
        long_run = SamplingParams(temperature=0, max_tokens=400)
        stream = b.generate(GenerationRequest(prompt=COUNTING, params=long_run))
        next(stream)
        assert b.pid is not None
        os.kill(b.pid, 9)
        failed = list(stream)[-1]
        assert isinstance(failed, Failed)
        assert isinstance(failed.error, WorkerCrashed)
        assert "SIGKILL" in str(failed.error)
        assert "out-of-memory" in str(failed.error)


def test_a_bad_file_is_refused_before_any_worker_starts(tmp_path: Path) -> None:
    page = tmp_path / "model.gguf"
    page.write_text("<!DOCTYPE html><html><body>Not found</body></html>")
    with pytest.raises(ModelFileError, match="HTML"):
        LocalBackend(page)


@pytest.mark.model  # llama.cpp itself tries the load
def test_a_valid_header_llama_cpp_cannot_load_gives_model_load_error(tmp_path: Path) -> None:
    builder = valid_builder()
    arch = GGUFBuilder()
    arch.kv("general.architecture", STRING, "nosuch")
    builder.kvs[0] = arch.kvs[0]
    path = tmp_path / "unknown-arch.gguf"
    path.write_bytes(builder.build())
    assert read_gguf(path).architecture == "nosuch"
    with pytest.raises(ModelLoadError, match=r"unknown-arch\.gguf") as info:
        LocalBackend(path, SMALL).start()
    assert "unknown model architecture: 'nosuch'" in str(info.value)


def test_loading_is_refused_when_memory_would_not_suffice(
    default_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "available_memory", lambda: 150 * 2**20)
    with pytest.raises(InsufficientMemoryError) as info:
        LocalBackend(default_model_path, LoadOptions(n_ctx=8192))
    message = str(info.value)
    assert "MiB" in message
    assert "context" in message


def _with_chat_template(src: Path, dst: Path, template: str) -> Path:
    """Copy the real model with its chat template replaced by one of the same byte length."""
    data = src.read_bytes()
    original = read_gguf(src).chat_template
    assert original is not None
    old = original.encode()
    new = template.encode()
    assert len(new) <= len(old)
    new = new + b" " * (len(old) - len(new))
    assert data.count(old) == 1
    dst.write_bytes(data.replace(old, new))
    return dst


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{% for m in messages %}{{ m.content }", "syntax error"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}{% for m in messages %}{% endfor %}",
         "not allowed"),
        ("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
         "longer than"),
        ("{{ 9 ** 999999999 }}", "not allowed"),
    ],
    ids=["syntax", "sandbox-escape", "endless-loop", "power-bomb"],
)
def test_a_broken_or_unsafe_chat_template_still_loads_for_raw_completion(
    default_model_path: Path, tmp_path: Path, template: str, reason: str
) -> None:
    path = _with_chat_template(default_model_path, tmp_path / "hostile.gguf", template)
    with LocalBackend(path, SMALL) as b:
        assert b.loaded is not None
        assert not b.loaded.chat_available
        assert any(reason in w and "raw completion" in w for w in b.loaded.warnings)
        _, raw = collect(b, GenerationRequest(prompt="The sky is", params=GREEDY))
        assert raw.finish_reason in ("length", "stop")
        events, _ = collect(
            b, GenerationRequest(messages=(ChatMessage("user", "Hi"),), params=GREEDY)
        )
        failed = events[-1]
        assert isinstance(failed, Failed)
        assert isinstance(failed.error, TemplateError)
        assert "raw prompt" in str(failed.error)


def test_actual_context_size_and_offload_support_are_reported(default_model_path: Path) -> None:
    with LocalBackend(default_model_path, LoadOptions(n_ctx=0, n_threads=1)) as b:
        assert b.loaded is not None
        assert b.loaded.n_ctx == b.loaded.n_ctx_train == 8192
        assert b.loaded.n_threads == 1
        import llama_cpp

        assert b.loaded.gpu_offload_supported == bool(llama_cpp.llama_supports_gpu_offload())


def test_gpu_layers_setting_loads_on_a_cpu_build(default_model_path: Path) -> None:
    with LocalBackend(default_model_path, LoadOptions(n_ctx=512, n_gpu_layers=0)) as b:
        _, result = collect(b, GenerationRequest(prompt="Hello", params=GREEDY))
        assert result.model["n_gpu_layers"] == 0


def test_model_outside_the_package_folder_loads_by_path(
    default_model_path: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "my model.gguf"
    shutil.copyfile(default_model_path, copy)
    with LocalBackend(copy, SMALL) as b:
        _, result = collect(b, GenerationRequest(prompt="Hello", params=GREEDY))
        assert result.model["path"] == str(copy)


def test_a_context_beyond_the_trained_length_loads_with_a_warning(
    default_model_path: Path,
) -> None:
    with LocalBackend(default_model_path, LoadOptions(n_ctx=9216)) as b:
        assert b.loaded is not None
        assert b.loaded.n_ctx == 9216
        assert any("trained" in w and "8,192" in w for w in b.loaded.warnings)


def test_gpu_offload_support_is_asked_in_a_child_process() -> None:
    import sys

    from playground.cli import gpu_offload_supported
    from playground.engine.gpu import probe_gpu_offload

    had_llama = "llama_cpp" in sys.modules
    answer = probe_gpu_offload()
    assert answer is not None
    assert ("llama_cpp" in sys.modules) == had_llama  # the caller did not load llama.cpp
    assert answer is gpu_offload_supported()
