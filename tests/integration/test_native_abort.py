"""A model file that makes llama.cpp itself abort (a failed GGML_ASSERT), not a Python error."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from playground.engine.backends import LocalBackend
from playground.engine.options import LoadOptions
from playground.errors import ModelLoadError
from playground.events import Finished, GenerationRequest
from playground.sampling import SamplingParams
from tests.gguf_factory import with_duplicate_token

ASSERTION = "GGML_ASSERT(id_to_token.size() == token_to_id.size()) failed"


@pytest.fixture(scope="module")
def aborting_model(default_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return with_duplicate_token(
        default_model_path, tmp_path_factory.mktemp("abort") / "repeated-token.gguf"
    )


def test_llama_cpp_really_aborts_on_the_file(aborting_model: Path) -> None:
    # Loaded as llama-cpp-python's own users load it: no exception to catch, the process dies.
    proc = subprocess.run(
        [sys.executable, "-c",
         "import sys, llama_cpp; llama_cpp.Llama(model_path=sys.argv[1], verbose=True)",
         str(aborting_model)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "GGML_NO_BACKTRACE": "1"},
    )
    assert proc.returncode == -signal.SIGABRT
    assert ASSERTION in proc.stderr


@pytest.mark.model
def test_the_abort_is_reported_with_llama_cpps_own_line_and_the_next_load_works(
    aborting_model: Path, default_model_path: Path
) -> None:
    with pytest.raises(ModelLoadError) as failed:
        LocalBackend(aborting_model, LoadOptions(n_ctx=512)).start()
    message = str(failed.value)
    assert message.startswith("repeated-token.gguf: the model worker died while loading: ")
    assert "SIGABRT (llama.cpp aborted)" in message
    # The build path is cut to the file name; the line number is the pinned llama.cpp's.
    assert re.search(rf" — llama\.cpp said: llama-vocab\.cpp:\d+: {re.escape(ASSERTION)}$", message)

    with LocalBackend(default_model_path, LoadOptions(n_ctx=512)) as backend:
        request = GenerationRequest(prompt="Hello", params=SamplingParams(max_tokens=2, seed=1))
        assert isinstance(list(backend.generate(request))[-1], Finished)
