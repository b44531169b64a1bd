"""Estimate how much memory loading a model will take, before llama.cpp tries and fails.

llama.cpp does not fail gracefully when memory runs out: the process is killed by the OS or
aborts natively. Checking a rough estimate against free RAM first lets the app refuse with an
explanation and a context size that would work instead.

The numbers follow llama.cpp's own allocations (``llama-context.cpp``, ``sched_reserve``):

* weights: the size of the file's tensor data region (llama.cpp maps it as is);
* KV cache: ``2 (K and V) * n_layers * n_kv * n_kv_heads * head_dim * bytes_per_element``, where
  ``n_kv`` is the context rounded up to a multiple of ``KV_PAD`` as llama.cpp rounds it;
* compute: llama.cpp reserves one buffer for the worst-case graph of one micro-batch of
  ``n_tokens = min(n_ctx, n_batch, n_ubatch)`` tokens, every one of them an output. The graph
  allocator frees each activation after its last use, so the buffer is the larger of two
  peaks, not their sum:

  - the output layer: the f32 logits of every token (``n_vocab * n_tokens * 4``) beside the
    final hidden state and its norm (``2 * n_embd * n_tokens * 4``);
  - attention, live while the attention mask (an input, ``n_kv * n_tokens``, f16 with flash
    attention and f32 without) is: without flash attention the f32 scores of every head
    (``n_kv * n_tokens * n_heads * 4``); with it the scores are never materialised. Beside them,
    one layer's activations (residual stream, queries, attention output and the feed-forward
    width: ``(3 * n_embd + n_ff) * n_tokens * 4``), which also covers what the allocator
    leaves between them.

  Plus the output buffer that receives one token's logits (``n_vocab * 4``).

  So the compute part does not grow with the context when flash attention is on (until the
  f16 mask outgrows the logits, past ~100k tokens for a 50k vocabulary), and grows by
  ``n_heads + 1`` f32 values per token of context and micro-batch when it is off.

A context that decodes ``parallel`` sequences at once (:mod:`playground.engine.batch`) holds
``parallel × n_ctx`` cells in one KV buffer, so the KV cache and the attention mask are counted
for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import psutil

from playground.engine.gguf import ModelInfo
from playground.errors import InsufficientMemoryError

__all__ = [
    "COMPUTE_UBATCH",
    "CONTEXT_STEP",
    "KV_PAD",
    "MemoryEstimate",
    "available_memory",
    "check_fits",
    "choose_parallel",
    "compute_buffer_bytes",
    "estimate_memory",
    "format_bytes",
    "largest_fitting_context",
    "padded_context",
]

#: llama-cpp-python's micro-batch (``n_ubatch``) unless told otherwise.
COMPUTE_UBATCH: Final = 512
#: llama.cpp rounds the context (and so the KV cache and attention mask) up to this.
KV_PAD: Final = 256
CONTEXT_STEP: Final = 256
# Used when the file does not record a vocabulary: a common size for Llama-family models.
_FALLBACK_VOCAB: Final = 32_000
# Feed-forward width relative to the embedding when the file does not record it.
_FALLBACK_FF_RATIO: Final = 4
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
    parallel: int = 1

    def describe(self) -> str:
        """One line for a status bar or log: the breakdown explains where memory goes."""
        sequences = f"{self.parallel} × " if self.parallel > 1 else ""
        parts = (
            f"weights {format_bytes(self.weights_bytes)}",
            f"KV cache {format_bytes(self.kv_cache_bytes)}"
            + (f" ({sequences}{self.n_ctx:,} tokens)" if self.n_ctx else ""),
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


def _feed_forward_length(info: ModelInfo) -> int:
    """The widest feed-forward layer; some architectures give one width per layer."""
    value = info.metadata.get(f"{info.architecture}.feed_forward_length")
    if isinstance(value, list):
        value = max((v for v in value if isinstance(v, int)), default=None)
    if isinstance(value, int) and value > 0:
        return value
    return _FALLBACK_FF_RATIO * (info.embedding_length or 0)


def padded_context(n_ctx: int) -> int:
    """The context llama.cpp actually allocates for a requested ``n_ctx``."""
    return -(-n_ctx // KV_PAD) * KV_PAD


def compute_buffer_bytes(
    info: ModelInfo,
    n_ctx: int,
    *,
    n_batch: int = 512,
    n_ubatch: int = COMPUTE_UBATCH,
    flash_attn: bool = True,
) -> int:
    """llama.cpp's compute buffer for one micro-batch plus its logits output buffer.

    See the module docstring for where each term comes from.
    """
    tokens = max(0, min(n_ctx, n_batch, n_ubatch))
    n_kv = padded_context(n_ctx)
    embd = info.embedding_length or 0
    vocab = info.vocab_size or _FALLBACK_VOCAB
    heads = info.head_count or max(1, embd // 128)
    output_peak = 4 * tokens * (vocab + 2 * embd)
    mask = tokens * n_kv * (2 if flash_attn else 4)
    scores = 0 if flash_attn else 4 * tokens * n_kv * heads
    layer = 4 * tokens * (3 * embd + _feed_forward_length(info))
    return max(output_peak, mask + scores + layer) + 4 * vocab


def estimate_memory(
    info: ModelInfo,
    n_ctx: int,
    n_gpu_layers: int = 0,
    kv_type_bytes: float = 2.0,
    *,
    n_batch: int = 512,
    n_ubatch: int = COMPUTE_UBATCH,
    flash_attn: bool = True,
    parallel: int = 1,
) -> MemoryEstimate:
    """Approximate the memory a model needs at context ``n_ctx`` (per sequence, for
    ``parallel`` sequences).

    ``kv_type_bytes`` is the size of one cached element (2.0 for f16, about 1.06 for q8_0).
    ``n_batch``, ``n_ubatch`` and ``flash_attn`` are the load settings that shape llama.cpp's
    compute buffer. Compute scratch goes to the GPU only when every layer is offloaded: with a
    partial offload the CPU still runs whole micro-batches through its layers.
    """
    if n_ctx < 0:
        raise ValueError(f"n_ctx must be >= 0, got {n_ctx}")
    layers = info.block_count or 0
    weights = info.tensor_data_bytes
    cells = n_ctx * max(1, parallel)
    kv = int(2 * layers * padded_context(cells) * _kv_width(info) * kv_type_bytes)
    compute = compute_buffer_bytes(
        info, cells, n_batch=n_batch, n_ubatch=n_ubatch, flash_attn=flash_attn
    )
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
        parallel=max(1, parallel),
    )


def available_memory() -> int:
    """RAM that can be used without swapping, which is what decides whether a load succeeds."""
    return int(psutil.virtual_memory().available)


def largest_fitting_context(
    info: ModelInfo,
    n_gpu_layers: int,
    available: int,
    *,
    n_batch: int = 512,
    n_ubatch: int = COMPUTE_UBATCH,
    flash_attn: bool = True,
) -> int | None:
    """The largest context, a multiple of ``CONTEXT_STEP``, whose CPU share fits in ``available``.

    Capped at the model's trained context, since a larger one would not help; ``None`` when not
    even a ``CONTEXT_STEP``-token context fits.
    """

    def fits(steps: int) -> bool:
        estimate = estimate_memory(info, steps * CONTEXT_STEP, n_gpu_layers, n_batch=n_batch,
                                   n_ubatch=n_ubatch, flash_attn=flash_attn)
        return estimate.cpu_bytes <= available

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
    info: ModelInfo,
    n_ctx: int,
    n_gpu_layers: int = 0,
    available: int | None = None,
    *,
    n_batch: int = 512,
    n_ubatch: int = COMPUTE_UBATCH,
    flash_attn: bool = True,
    parallel: int = 1,
) -> MemoryEstimate:
    """Refuse a load that would exhaust RAM, saying what would work instead.

    ``available`` defaults to the machine's currently available memory.
    """
    avail = available_memory() if available is None else available
    estimate = estimate_memory(info, n_ctx, n_gpu_layers, n_batch=n_batch, n_ubatch=n_ubatch,
                               flash_attn=flash_attn, parallel=parallel)
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
    if parallel > 1:
        single = estimate_memory(info, n_ctx, n_gpu_layers, n_batch=n_batch, n_ubatch=n_ubatch,
                                 flash_attn=flash_attn)
        if single.cpu_bytes <= avail:
            raise InsufficientMemoryError(
                f"{name} decoding {parallel} sequences of {n_ctx:,} tokens at once needs about "
                f"{format_bytes(estimate.cpu_bytes)} of RAM ({estimate.describe()}), but only "
                f"{format_bytes(avail)} is available. Run fewer sequences at once (--parallel) "
                "or use a smaller context."
            )
    needed = (
        f"{name} with a context of {n_ctx:,} tokens needs about "
        f"{format_bytes(estimate.cpu_bytes)} of RAM ({estimate.describe()}), but only "
        f"{format_bytes(avail)} is available."
    )
    suggestion = largest_fitting_context(info, n_gpu_layers, avail, n_batch=n_batch,
                                         n_ubatch=n_ubatch, flash_attn=flash_attn)
    if suggestion is None:
        raise InsufficientMemoryError(
            f"{needed} Even a {CONTEXT_STEP}-token context would not fit; close other programs "
            "or pick a smaller model."
        )
    raise InsufficientMemoryError(
        f"{needed} Try a context of {suggestion:,} tokens or less (n_ctx={suggestion})."
    )


#: The most sequences chosen without being asked: llama-batched-bench's gain on a CPU flattens
#: by 8 sequences, while every step (and so each run's own latency) grows with N.
AUTO_PARALLEL_CAP: Final = 8
#: A measured N must beat the next smaller one by this much to be worth its memory and latency.
_WORTH: Final = 1.05


def choose_parallel(
    info: ModelInfo,
    n_ctx: int,
    n_gpu_layers: int = 0,
    available: int | None = None,
    *,
    n_batch: int = 512,
    flash_attn: bool = True,
    measured: Mapping[int, float] | None = None,
    cap: int = AUTO_PARALLEL_CAP,
) -> int:
    """How many sequences to decode at once when nobody said.

    1. Memory and model size: every candidate N in 2, 4, 8 (up to ``cap``) is estimated with
       the KV cache of N sequences of ``n_ctx`` tokens beside the weights, and must fit in half
       the available memory (the rest of the machine keeps the other half). A large model
       leaves room for fewer sequences; a small one for all of them.
    2. Measured throughput, where a benchmark stored some for this model file on this machine
       (``measured``: aggregate tokens/s by N, see :mod:`playground.engine.throughput`): the
       smallest fitting N within 5 % of the best measured rate, so a model that gains nothing
       from batching (or loses) runs sequentially.
    3. Without measurements: the largest fitting N. Batched decoding reads the weights once a
       step for every sequence, so aggregate speed rises with N on every model measured
       (native llama.cpp, 2 threads: 1.28× at 8 for a 135M model, 1.48× for a 270M one), and
       more for larger, more memory-bound models.
    """
    avail = available_memory() if available is None else available
    fitting = [1]
    n = 2
    while n <= cap:
        estimate = estimate_memory(info, n_ctx, n_gpu_layers, n_batch=n_batch,
                                   flash_attn=flash_attn, parallel=n)
        if estimate.cpu_bytes > avail // 2:
            break
        fitting.append(n)
        n *= 2
    rates = {k: v for k, v in (measured or {}).items() if k in fitting and v > 0}
    if len(rates) >= 2:
        best = max(rates.values())
        return min(k for k, v in rates.items() if v * _WORTH >= best)
    return fitting[-1]
