""""GPU layers: auto" with constructed model headers and VRAM budgets (no GPU needed), and what
this machine's llama.cpp says of its GPUs."""

from __future__ import annotations

import pytest

from playground.engine.gpu import GpuMemory, auto_gpu_layers, probe_gpu_memory
from playground.engine.memory import estimate_memory, format_bytes
from tests.core.engine.test_memory import GiB, MiB, make_info

#: A 7B-like header: 32 layers, 4 GiB of weights, grouped-query attention.
SEVEN_B = make_info(block_count=32, tensor_data_bytes=4 * GiB, embedding_length=4096,
                    head_count=32, head_count_kv=8, head_dim=128, vocab_size=32000,
                    context_length=32768, metadata={"llama.feed_forward_length": 14336})


def gpu_need(layers: int, n_ctx: int = 4096) -> int:
    return estimate_memory(SEVEN_B, n_ctx, layers).gpu_bytes


def test_everything_fits_in_a_large_budget_and_the_sentence_says_so() -> None:
    choice = auto_gpu_layers(SEVEN_B, 4096, offload_supported=True, vram_budget=8 * GiB)
    assert choice.layers == -1  # every layer and the output layer
    assert choice.explanation.startswith(f"32 of 32 layers fit in {format_bytes(8 * GiB)} of VRAM")
    assert choice.estimate is not None and choice.estimate.gpu_bytes <= 8 * GiB


@pytest.mark.parametrize("layers", [1, 7, 16, 31])
def test_the_largest_count_within_the_budget_is_chosen(layers: int) -> None:
    # A budget exactly what `layers` layers need: that many fit, one more does not.
    budget = gpu_need(layers)
    assert gpu_need(layers + 1) > budget
    choice = auto_gpu_layers(SEVEN_B, 4096, offload_supported=True, vram_budget=budget)
    assert choice.layers == layers
    assert choice.explanation.startswith(f"{layers} of 32 layers fit")
    assert f"the other {32 - layers} run on the CPU" in choice.explanation
    under = auto_gpu_layers(SEVEN_B, 4096, offload_supported=True, vram_budget=budget - 1)
    assert under.layers == layers - 1


def test_a_longer_context_leaves_room_for_fewer_layers() -> None:
    budget = gpu_need(20)
    short = auto_gpu_layers(SEVEN_B, 4096, offload_supported=True, vram_budget=budget)
    long = auto_gpu_layers(SEVEN_B, 32768, offload_supported=True, vram_budget=budget)
    assert long.layers < short.layers == 20
    assert "context of 32,768" in long.explanation


def test_not_even_one_layer_says_how_much_one_needs() -> None:
    choice = auto_gpu_layers(SEVEN_B, 4096, offload_supported=True, vram_budget=64 * MiB)
    assert choice.layers == 0
    assert choice.explanation.startswith("0 of 32 layers: even one layer needs about "
                                         f"{format_bytes(gpu_need(1))}")


@pytest.mark.parametrize(("supported", "budget", "words"), [
    (False, 24 * GiB, "this llama.cpp build has no GPU offload: 0"),
    (None, 24 * GiB, "not known yet"),
    (True, None, "reports no GPU memory and none was given"),
    (True, 0, "reports no GPU memory and none was given"),
])
def test_zero_layers_with_the_reason(supported: bool | None, budget: int | None,
                                     words: str) -> None:
    choice = auto_gpu_layers(SEVEN_B, 4096, offload_supported=supported, vram_budget=budget)
    assert choice.layers == 0 and words in choice.explanation


def test_a_header_without_a_layer_count_gets_none() -> None:
    choice = auto_gpu_layers(make_info(block_count=None), 4096, offload_supported=True,
                             vram_budget=8 * GiB)
    assert choice.layers == 0 and "does not say how many layers" in choice.explanation


def test_llama_cpp_reports_this_machines_gpus_and_auto_follows_it() -> None:
    memory = probe_gpu_memory()
    assert isinstance(memory, GpuMemory)
    for device in memory.devices:
        assert 0 <= device.free_bytes <= device.total_bytes and device.name
    choice = auto_gpu_layers(SEVEN_B, 4096, offload_supported=memory.offload_supported,
                             vram_budget=memory.free_bytes)
    if not memory.offload_supported:  # a CPU-only build, as on most test machines
        assert choice.layers == 0 and "no GPU offload" in choice.explanation
    else:
        assert choice.estimate is None or choice.estimate.gpu_bytes <= memory.free_bytes
