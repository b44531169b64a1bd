"""Memory estimates and the refusal to load a model that would not fit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from playground.engine.gguf import ModelInfo, read_gguf
from playground.engine.memory import (
    CONTEXT_STEP,
    MemoryEstimate,
    available_memory,
    check_fits,
    compute_buffer_bytes,
    estimate_memory,
    format_bytes,
    largest_fitting_context,
    padded_context,
)
from playground.errors import InsufficientMemoryError, ModelLoadError

MiB = 1024 * 1024
GiB = 1024 * MiB


def make_info(**overrides: object) -> ModelInfo:
    fields: dict[str, object] = {
        "path": "/models/tiny.gguf",
        "file_size": 100 * MiB,
        "version": 3,
        "architecture": "llama",
        "name": "Tiny",
        "parameter_count": 135_000_000,
        "block_count": 30,
        "context_length": 8192,
        "embedding_length": 576,
        "head_count": 9,
        "head_count_kv": 3,
        "head_dim": 64,
        "vocab_size": 49152,
        "tensor_data_bytes": 90 * MiB,
        "metadata": {"llama.feed_forward_length": 1536},
    }
    fields.update(overrides)
    return ModelInfo(**fields)  # type: ignore[arg-type]


# llama.cpp's logits output buffer: one token's f32 logits.
OUTPUT_BUFFER = 4 * 49152
# The output layer's peak for a 512-token micro-batch: f32 logits of every token, beside the final
# hidden state and its norm (2 x 576 f32 per token).
LOGITS_PEAK_512 = 4 * 512 * (49152 + 2 * 576)


def test_kv_cache_formula() -> None:
    est = estimate_memory(make_info(), n_ctx=2048)
    assert est.kv_cache_bytes == 2 * 30 * 2048 * 3 * 64 * 2
    assert est.weights_bytes == 90 * MiB
    assert est.compute_bytes == LOGITS_PEAK_512 + OUTPUT_BUFFER
    assert est.total_bytes == est.weights_bytes + est.kv_cache_bytes + est.compute_bytes
    assert est.cpu_bytes == est.total_bytes
    assert est.gpu_bytes == 0


@pytest.mark.parametrize("n_ctx", [512, 2048, 8192, 32768])
def test_with_flash_attention_the_compute_buffer_is_the_output_layer_at_any_context(
    n_ctx: int,
) -> None:
    assert compute_buffer_bytes(make_info(), n_ctx) == LOGITS_PEAK_512 + OUTPUT_BUFFER


def test_without_flash_attention_the_attention_scores_take_over_at_long_contexts() -> None:
    info = make_info()
    short = compute_buffer_bytes(info, 2048, flash_attn=False)
    assert short == LOGITS_PEAK_512 + OUTPUT_BUFFER  # scores 9 x 2048 x 512 x 4 = 36 MiB < logits
    long = compute_buffer_bytes(info, 8192, flash_attn=False)
    scores_and_mask = 4 * 512 * 8192 * (9 + 1)  # f32 scores of 9 heads and the f32 mask
    layer = 4 * 512 * (3 * 576 + 1536)
    assert long == scores_and_mask + layer + OUTPUT_BUFFER
    # Flash attention keeps an f16 mask only; it outgrows the logits past ~100k tokens.
    huge = compute_buffer_bytes(info, 131072)
    assert huge == 2 * 512 * 131072 + layer + OUTPUT_BUFFER


def test_the_micro_batch_is_the_smallest_of_context_batch_and_ubatch() -> None:
    info = make_info()
    assert compute_buffer_bytes(info, 8192, n_batch=64) == (
        4 * 64 * (49152 + 2 * 576) + OUTPUT_BUFFER
    )
    assert compute_buffer_bytes(info, 8192, n_ubatch=128) == (
        4 * 128 * (49152 + 2 * 576) + OUTPUT_BUFFER
    )
    # A 300-token context: a 300-token micro-batch, but a mask and KV cache of 512 positions.
    assert compute_buffer_bytes(info, 300) == 4 * 300 * (49152 + 2 * 576) + OUTPUT_BUFFER
    assert padded_context(300) == 512
    assert estimate_memory(info, 300).kv_cache_bytes == estimate_memory(info, 512).kv_cache_bytes


def test_the_feed_forward_width_falls_back_to_four_embeddings() -> None:
    recorded = compute_buffer_bytes(make_info(), 8192, flash_attn=False)
    unknown = compute_buffer_bytes(make_info(metadata={}), 8192, flash_attn=False)
    assert unknown - recorded == 4 * 512 * (4 * 576 - 1536)


def test_kv_cache_scales_with_element_size_and_context() -> None:
    info = make_info()
    f16 = estimate_memory(info, n_ctx=4096).kv_cache_bytes
    assert estimate_memory(info, n_ctx=4096, kv_type_bytes=1.0).kv_cache_bytes == f16 // 2
    assert estimate_memory(info, n_ctx=2048).kv_cache_bytes == f16 // 2


def test_kv_cache_falls_back_to_embedding_length() -> None:
    info = make_info(head_count=None, head_count_kv=None, head_dim=None)
    assert estimate_memory(info, n_ctx=1024).kv_cache_bytes == 2 * 30 * 1024 * 576 * 2


def test_kv_cache_uses_head_count_when_kv_heads_missing() -> None:
    info = make_info(head_count_kv=None)
    assert estimate_memory(info, n_ctx=1024).kv_cache_bytes == 2 * 30 * 1024 * 9 * 64 * 2


def test_unknown_layers_give_no_kv_estimate() -> None:
    est = estimate_memory(make_info(block_count=None), n_ctx=1024)
    assert est.kv_cache_bytes == 0
    assert est.total_bytes == est.weights_bytes + est.compute_bytes


def test_partial_gpu_offload_splits_proportionally() -> None:
    info = make_info()
    est = estimate_memory(info, n_ctx=2048, n_gpu_layers=15)
    weights_gpu = int(90 * MiB * 15 / 31)  # 30 layers + the output layer
    kv_gpu = est.kv_cache_bytes // 2
    assert est.gpu_bytes == weights_gpu + kv_gpu
    assert est.cpu_bytes == est.total_bytes - est.gpu_bytes
    assert est.cpu_bytes > est.compute_bytes  # scratch stays on the CPU with a partial offload


@pytest.mark.parametrize("layers", [-1, 30, 31, 1000])
def test_full_gpu_offload_leaves_nothing_on_cpu(layers: int) -> None:
    est = estimate_memory(make_info(), n_ctx=2048, n_gpu_layers=layers)
    assert est.gpu_bytes == est.total_bytes
    assert est.cpu_bytes == 0


def test_describe_is_human_readable() -> None:
    text = estimate_memory(make_info(), n_ctx=2048, n_gpu_layers=15).describe()
    assert "MiB" in text
    assert "KV cache" in text
    assert "2,048 tokens" in text
    assert "on GPU" in text


def test_format_bytes() -> None:
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(300 * MiB) == "300.0 MiB"
    assert format_bytes(3 * GiB + GiB // 2) == "3.50 GiB"


def test_check_fits_returns_the_estimate() -> None:
    est = check_fits(make_info(), n_ctx=2048, available=8 * GiB)
    assert isinstance(est, MemoryEstimate)
    assert est == estimate_memory(make_info(), n_ctx=2048)


def test_check_fits_suggests_a_smaller_context() -> None:
    info = make_info()
    available = estimate_memory(info, n_ctx=2900).cpu_bytes
    with pytest.raises(InsufficientMemoryError) as excinfo:
        check_fits(info, n_ctx=8192, available=available)
    message = str(excinfo.value)
    assert message.startswith("Tiny with a context of 8,192 tokens needs about ")
    assert format_bytes(estimate_memory(info, n_ctx=8192).cpu_bytes) in message
    assert f"only {format_bytes(available)} is available" in message
    match = re.search(r"n_ctx=(\d+)", message)
    assert match is not None
    suggested = int(match.group(1))
    # 2900 tokens are allocated as 3072 (llama.cpp pads the context to 256), which fits as well.
    assert suggested == 3072
    assert suggested == largest_fitting_context(info, 0, available)
    assert isinstance(excinfo.value, ModelLoadError)


def test_largest_fitting_context_is_exact() -> None:
    info = make_info()
    available = estimate_memory(info, n_ctx=5000).cpu_bytes
    best = largest_fitting_context(info, 0, available)
    assert best is not None
    assert best % CONTEXT_STEP == 0
    assert estimate_memory(info, best).cpu_bytes <= available
    assert estimate_memory(info, best + CONTEXT_STEP).cpu_bytes > available


def test_largest_fitting_context_is_capped_at_trained_context() -> None:
    assert largest_fitting_context(make_info(), 0, 1 << 50) == 8192
    assert largest_fitting_context(make_info(context_length=None), 0, 1 << 50) == 1 << 20


def test_offloading_allows_a_larger_context() -> None:
    info = make_info()
    available = estimate_memory(info, n_ctx=2048).cpu_bytes
    cpu_only = largest_fitting_context(info, 0, available)
    offloaded = largest_fitting_context(info, 20, available)
    assert cpu_only is not None
    assert offloaded is not None
    assert offloaded > cpu_only


def test_weights_do_not_fit() -> None:
    with pytest.raises(InsufficientMemoryError, match="even the model weights") as excinfo:
        check_fits(make_info(), n_ctx=2048, available=50 * MiB)
    message = str(excinfo.value)
    assert "90.0 MiB" in message
    assert "50.0 MiB" in message


def test_weights_fit_but_no_context_does() -> None:
    info = make_info()
    available = 90 * MiB + OUTPUT_BUFFER  # weights and the logits buffer, nothing for any context
    assert largest_fitting_context(info, 0, available) is None
    with pytest.raises(InsufficientMemoryError, match="Even a 256-token context would not fit"):
        check_fits(info, n_ctx=2048, available=available)


def test_available_memory() -> None:
    assert available_memory() > 0


def test_real_model_estimate(default_model_path: Path) -> None:
    info = read_gguf(default_model_path)
    est = estimate_memory(info, n_ctx=2048)
    assert est.kv_cache_bytes == 2 * 30 * 2048 * 3 * 64 * 2
    assert est.weights_bytes == info.tensor_data_bytes
    assert 100 * MiB < est.total_bytes < 1 * GiB


def test_the_estimate_counts_the_kv_cache_of_every_parallel_sequence() -> None:
    from playground.engine.memory import choose_parallel

    info = make_info()
    one = estimate_memory(info, 2048)
    four = estimate_memory(info, 2048, parallel=4)
    assert four.kv_cache_bytes == 4 * one.kv_cache_bytes
    assert four.weights_bytes == one.weights_bytes
    assert four.total_bytes > one.total_bytes
    assert four.parallel == 4 and "4 × 2,048 tokens" in four.describe()
    assert estimate_memory(info, 2048, parallel=1) == one

    # Chosen: the largest N whose estimate fits in half the available memory...
    room = 2 * estimate_memory(info, 2048, parallel=4).cpu_bytes
    assert choose_parallel(info, 2048, available=room) == 4
    assert choose_parallel(info, 2048, available=100 * GiB) == 8
    assert choose_parallel(info, 2048, available=2 * one.cpu_bytes) == 1
    # ...unless measured throughput says a smaller N does as well (within 5 %).
    fast_at_2 = {1: 70.0, 2: 90.0, 4: 92.0, 8: 93.0}
    assert choose_parallel(info, 2048, available=100 * GiB, measured=fast_at_2) == 2
    assert choose_parallel(info, 2048, available=100 * GiB, measured={1: 70.0, 8: 60.0}) == 1


def test_a_parallel_load_that_does_not_fit_says_to_run_fewer_sequences() -> None:
    info = make_info()
    single = estimate_memory(info, 4096)
    with pytest.raises(InsufficientMemoryError,
                       match=r"8 sequences .* at once .*fewer sequences at once \(--parallel\)"):
        check_fits(info, 4096, parallel=8, available=single.cpu_bytes + 1)
