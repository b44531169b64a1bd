"""The memory estimate against what llama.cpp itself says it allocates for the bundled model.

llama.cpp logs the size of every buffer it allocates at load: the mapped weights, the KV cache,
the compute buffer reserved for the worst-case graph and the logits output buffer. Those are
the numbers the estimate predicts (RSS would mix in the Python interpreter and page-cache
accounting), so the test loads the model in a child process with llama.cpp's log on and reads
them back.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from playground.engine.gguf import read_gguf
from playground.engine.memory import estimate_memory

MiB = 1024 * 1024
TOLERANCE = 0.20

_LOAD = """
import sys
import llama_cpp
path, n_ctx, n_batch, flash = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_batch=n_batch, flash_attn=flash, n_threads=1,
                verbose=True)
"""

_BUFFER = re.compile(
    r"(?P<what>model|KV|compute|output) buffer size = +(?P<mib>[0-9.]+) MiB"
)


def llama_cpp_buffers(model: Path, n_ctx: int, n_batch: int, flash_attn: bool) -> dict[str, float]:
    """Bytes llama.cpp reports for each kind of buffer, summed over devices."""
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD, str(model), str(n_ctx), str(n_batch),
         "1" if flash_attn else "0"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    sizes: dict[str, float] = {}
    for match in _BUFFER.finditer(proc.stderr):
        sizes[match["what"]] = sizes.get(match["what"], 0.0) + float(match["mib"]) * MiB
    assert set(sizes) == {"model", "KV", "compute", "output"}, proc.stderr[-2000:]
    return sizes


@pytest.mark.parametrize("flash_attn", [True, False], ids=["flash-attn", "no-flash-attn"])
@pytest.mark.parametrize("n_ctx", [512, 2048, 8192])
def test_the_estimate_is_within_20_percent_of_llama_cpp_buffers(
    default_model_path: Path, n_ctx: int, flash_attn: bool
) -> None:
    reported = llama_cpp_buffers(default_model_path, n_ctx, 512, flash_attn)
    estimate = estimate_memory(read_gguf(default_model_path), n_ctx, flash_attn=flash_attn)
    total = sum(reported.values())
    assert estimate.total_bytes == pytest.approx(total, rel=TOLERANCE)
    # Each part on its own too: a good total must not come from errors that cancel out.
    assert estimate.weights_bytes == pytest.approx(reported["model"], rel=TOLERANCE)
    assert estimate.kv_cache_bytes == pytest.approx(reported["KV"], rel=TOLERANCE)
    compute = reported["compute"] + reported["output"]
    assert estimate.compute_bytes == pytest.approx(compute, rel=TOLERANCE)


def test_a_smaller_batch_shrinks_the_estimated_compute_buffer_as_it_shrinks_llama_cpps(
    default_model_path: Path,
) -> None:
    reported = llama_cpp_buffers(default_model_path, 8192, 64, False)
    estimate = estimate_memory(read_gguf(default_model_path), 8192, n_batch=64, flash_attn=False)
    compute = reported["compute"] + reported["output"]
    assert estimate.compute_bytes == pytest.approx(compute, rel=TOLERANCE)
    assert estimate.total_bytes == pytest.approx(sum(reported.values()), rel=TOLERANCE)
