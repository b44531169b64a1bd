"""A process that loaded a model exits cleanly, whatever order Python frees things in at exit.

llama.cpp logs through our callback while it frees a context; the callback must still exist
then. Run in a child interpreter that ends the ordinary way (the app's worker ends with
``os._exit``, which frees nothing, so only an ordinary exit shows this)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CODE = """
import sys
from playground.engine.options import LoadOptions
from playground.engine.worker import _Engine
engine = _Engine(sys.argv[1], LoadOptions(n_ctx=512, n_threads=1))
engine.llm.eval(engine.tokenize("Hello there"))
print("evaluated")
"""


def test_an_interpreter_that_loaded_a_model_exits_without_a_native_crash(
    default_model_path: Path,
) -> None:
    for _ in range(2):  # the crash this guards against came at every exit, not now and then
        done = subprocess.run([sys.executable, "-c", CODE, str(default_model_path)],
                              capture_output=True, text=True, timeout=120, check=False)
        assert "evaluated" in done.stdout, done.stderr[-2000:]
        assert done.returncode == 0, done.stderr[-2000:]
