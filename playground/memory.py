"""Estimate how much memory loading a model will take, before llama.cpp tries and fails.

llama.cpp does not fail gracefully when memory runs out: the process is killed by the OS or
aborts natively. Checking a rough estimate against free RAM first lets the app refuse with an
explanation and a context size that would work instead.

The numbers are approximations of llama.cpp's own allocations:

* weights: the size of the file's tensor data region (llama.cpp maps it as is);
* KV cache: ``2 (K and V) * n_layers * n_ctx * n_kv_heads * head_dim * bytes_per_element``;
* compute: the scratch buffer for one micro-batch of ``COMPUTE_UBATCH`` tokens, dominated by
  the f32 logits (``n_vocab * n_ubatch * 4``) and the f32 attention scores
  (``n_ctx * n_ubatch * n_heads * 4``, flash attention disabled), plus a fixed
  ``COMPUTE_BASE_BYTES`` for graph metadata and small activations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import psutil

from playground.errors import InsufficientMemoryError
from playground.gguf import ModelInfo

__all__ = [
    "COMPUTE_BASE_BYTES",
    "COMPUTE_UBATCH",
    "CONTEXT_STEP",
    "MemoryEstimate",
    "available_memory",
    "check_fits",
    "estimate_memory",
    "format_bytes",
    "largest_fitting_context",
]

COMPUTE_BASE_BYTES: Final = 32 * 1024 * 1024
COMPUTE_UBATCH: Final = 512
CONTEXT_STEP: Final = 256
# Used when the file does not record a vocabulary: a common size for Llama-family models.
_FALLBACK_VOCAB: Final = 32_000
# Upper bound for the context search when the model does not state its trained context.
_FALLBACK_MAX_CONTEXT: Final = 1 << 20


def format_bytes(n: float) -> str:
    """Sizes as people read them in error messages: MiB below a GiB, GiB above."""
    if n >= 1024**3:
        return f"{n / 1024**3:.2f} GiB"
    if n >= 1024**2:
        return f"{n / 1024**2:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{int(n)} bytes"


@dataclass(frozen=True)
class MemoryEstimate:
    """Predicted memory use of one loaded model, split between CPU RAM and GPU memory."""

    weights_bytes: int
    kv_cache_bytes: int
    compute_bytes: int
    total_bytes: int
    gpu_bytes: int
    cpu_bytes: int
    n_ctx: int = 0
    n_gpu_layers: int = 0

    def describe(self) -> str:
        """One line for a status bar or log: the breakdown explains where memory goes."""
        parts = (
            f"weights {format_bytes(self.weights_bytes)}",
            f"KV cache {format_bytes(self.kv_cache_bytes)}"
            + (f" ({self.n_ctx:,} tokens)" if self.n_ctx else ""),
            f"compute {format_bytes(self.compute_bytes)}",
        )
        text = f"about {format_bytes(self.total_bytes)} ({', '.join(parts)})"
        if self.gpu_bytes:
            text += (
                f": {format_bytes(self.gpu_bytes)} on GPU, {format_bytes(self.cpu_bytes)} in RAM"
            )
        return text


def _kv_width(info: ModelInfo) -> int:
    """K (or V) values stored per token per layer; the full embedding when heads are unknown."""
    kv_heads = info.head_count_kv or info.head_count
    if kv_heads and info.head_dim:
        return kv_heads * info.head_dim
    return info.embedding_length or 0


def _gpu_fractions(info: ModelInfo, n_gpu_layers: int) -> tuple[float, float]:
    """Share of (weights, KV cache) that offloading ``n_gpu_layers`` layers moves to the GPU.

    The output layer counts as one more layer for the weights and goes only with "all layers",
    as in llama.cpp; layers are assumed to be of equal size.
    """
    if n_gpu_layers == 0:
        return 0.0, 0.0
    layers = info.block_count
    if n_gpu_layers < 0 or not layers or n_gpu_layers >= layers:
        return 1.0, 1.0
    return n_gpu_layers / (layers + 1), n_gpu_layers / layers


def estimate_memory(
    info: ModelInfo, n_ctx: int, n_gpu_layers: int = 0, kv_type_bytes: float = 2.0
) -> MemoryEstimate:
    """Approximate the memory a model needs at context ``n_ctx``.

    ``kv_type_bytes`` is the size of one cached element (2.0 for f16, about 1.06 for q8_0).
    Compute scratch goes to the GPU only when every layer is offloaded: with a partial offload
    the CPU still runs whole micro-batches through its layers.
    """
    if n_ctx < 0:
        raise ValueError(f"n_ctx must be >= 0, got {n_ctx}")
    layers = info.block_count or 0
    weights = info.tensor_data_bytes
    kv = int(2 * layers * n_ctx * _kv_width(info) * kv_type_bytes)
    heads = info.head_count or max(1, (info.embedding_length or 0) // 128)
    vocab = info.vocab_size or _FALLBACK_VOCAB
    compute = COMPUTE_BASE_BYTES + 4 * COMPUTE_UBATCH * (vocab + n_ctx * heads)
    total = weights + kv + compute

    w_frac, kv_frac = _gpu_fractions(info, n_gpu_layers)
    gpu = int(weights * w_frac) + int(kv * kv_frac) + (compute if w_frac == 1.0 else 0)
    return MemoryEstimate(
        weights_bytes=weights,
        kv_cache_bytes=kv,
        compute_bytes=compute,
        total_bytes=total,
        gpu_bytes=gpu,
        cpu_bytes=total - gpu,
        n_ctx=n_ctx,
        n_gpu_layers=n_gpu_layers,
    )


def available_memory() -> int:
    """RAM that can be used without swapping, which is what decides whether a load succeeds."""
    return int(psutil.virtual_memory().available)


def largest_fitting_context(info: ModelInfo, n_gpu_layers: int, available: int) -> int | None:
    """The largest context, a multiple of ``CONTEXT_STEP``, whose CPU share fits in ``available``.

    Capped at the model's trained context, since a larger one would not help; ``None`` when not
    even a ``CONTEXT_STEP``-token context fits.
    """

    def fits(steps: int) -> bool:
        return estimate_memory(info, steps * CONTEXT_STEP, n_gpu_layers).cpu_bytes <= available

    if not fits(1):
        return None
    max_ctx = info.context_length or _FALLBACK_MAX_CONTEXT
    lo, hi = 1, max(1, max_ctx // CONTEXT_STEP)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo * CONTEXT_STEP


def check_fits(
    info: ModelInfo, n_ctx: int, n_gpu_layers: int = 0, available: int | None = None
) -> MemoryEstimate:
    """Refuse a load that would exhaust RAM, saying what would work instead.

    ``available`` defaults to the machine's currently available memory.
    """
    avail = available_memory() if available is None else available
    estimate = estimate_memory(info, n_ctx, n_gpu_layers)
    if estimate.cpu_bytes <= avail:
        return estimate

    name = info.display_name
    w_frac, _ = _gpu_fractions(info, n_gpu_layers)
    cpu_weights = estimate.weights_bytes - int(estimate.weights_bytes * w_frac)
    if cpu_weights > avail:
        raise InsufficientMemoryError(
            f"{name}: even the model weights ({format_bytes(cpu_weights)} in RAM) do not fit in "
            f"the {format_bytes(avail)} of available memory. Close other programs, pick a "
            "smaller quantization of the model, or offload layers to a GPU."
        )
    needed = (
        f"{name} with a context of {n_ctx:,} tokens needs about "
        f"{format_bytes(estimate.cpu_bytes)} of RAM ({estimate.describe()}), but only "
        f"{format_bytes(avail)} is available."
    )
    suggestion = largest_fitting_context(info, n_gpu_layers, avail)
    if suggestion is None:
        raise InsufficientMemoryError(
            f"{needed} Even a {CONTEXT_STEP}-token context would not fit; close other programs "
            "or pick a smaller model."
        )
    raise InsufficientMemoryError(
        f"{needed} Try a context of {suggestion:,} tokens or less (n_ctx={suggestion})."
    )
