"""How a model is loaded, apart from the worker process that loads it: the command line, the
window and the runner build these options without importing the worker's machinery."""

from __future__ import annotations

import os
from dataclasses import dataclass

from playground.errors import PlaygroundError
from playground.prompts.chat_formats import chat_format

#: The most sequences one context decodes at once.
MAX_PARALLEL = 64


@dataclass(frozen=True)
class LoadOptions:
    """How a model is loaded. ``n_ctx = 0`` means the context length the model was trained for;
    ``n_gpu_layers = -1`` offloads every layer (where the build supports offload)."""

    n_ctx: int = 4096
    n_threads: int | None = None
    n_gpu_layers: int = 0
    n_batch: int = 512
    reuse_prefix: bool = True
    #: llama.cpp's own default ("auto") turns it on where it helps; llama-cpp-python turns it off.
    flash_attn: bool = True
    #: A built-in chat format's id (:mod:`playground.prompts.chat_formats`); None: the model's own.
    chat_format: str | None = None
    #: Sequences one context decodes at once (see :mod:`playground.engine.batch`): 1 is the plain
    #: single-sequence context, N > 1 holds N KV sequences of ``n_ctx`` tokens each, and 0 asks
    #: the backend to choose N from the model's size and free memory.
    parallel: int = 1

    def __post_init__(self) -> None:
        if self.n_ctx < 0 or self.n_ctx > 1 << 20:
            raise PlaygroundError(f"context size must be between 0 and {1 << 20}, got {self.n_ctx}")
        if self.n_threads is not None and not 1 <= self.n_threads <= 512:
            raise PlaygroundError(f"threads must be between 1 and 512, got {self.n_threads}")
        if self.n_gpu_layers < -1:
            raise PlaygroundError(
                f"GPU layers must be -1 (all), 0 (none) or a layer count, got {self.n_gpu_layers}"
            )
        if not 1 <= self.n_batch <= 1 << 16:
            raise PlaygroundError(f"batch size must be between 1 and 65536, got {self.n_batch}")
        if self.chat_format is not None:
            chat_format(self.chat_format)  # an unknown name is refused here, before any load
        if not 0 <= self.parallel <= MAX_PARALLEL:
            raise PlaygroundError(
                f"parallel sequences must be between 1 and {MAX_PARALLEL} (0: chosen for the "
                f"model), got {self.parallel}"
            )


def default_threads() -> int:
    """Physical cores: llama.cpp gains nothing from hyper-threads and loses to contention."""
    import psutil

    return max(1, psutil.cpu_count(logical=False) or os.cpu_count() or 1)
