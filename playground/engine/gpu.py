""""GPU layers: auto": how many layers to offload, from the memory estimate and the VRAM there is.

llama-cpp-python leaves the choice to the person (``n_gpu_layers``), and a wrong one either
wastes the GPU or fails the load when VRAM runs out. The rule here picks the largest number of
layers whose estimated VRAM (each layer's share of the weights, its share of the KV cache for
the context, and the compute buffer and output layer when everything goes) fits the budget,
and says so in words, including why the answer is 0.

The VRAM figure comes from llama.cpp itself where the build can tell it: ggml's device
registry (``ggml_backend_dev_memory``) reports each GPU's free and total memory. llama-cpp-python
0.3.36 does not wrap those functions, so they are called through ctypes on the ggml library it
ships, in a short-lived child process (importing llama.cpp in the app's own process would tie
its native state to the window). A CPU-only build lists only its CPU device: no VRAM, auto
gives 0 and says why. A person can also give the budget themselves.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Final

from playground.engine.gguf import ModelInfo
from playground.engine.memory import MemoryEstimate, estimate_memory, format_bytes

#: ggml's device types (``enum ggml_backend_dev_type``) that hold VRAM: a GPU and an
#: integrated GPU. CPU (0) and accelerators (3, e.g. BLAS) do not take offloaded layers.
GPU_DEVICE_TYPES: Final = (1, 2)


@dataclass(frozen=True)
class GpuDevice:
    name: str
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True)
class GpuMemory:
    """What this llama.cpp build says of offload and of each GPU's memory."""

    offload_supported: bool
    devices: tuple[GpuDevice, ...] = ()

    @property
    def free_bytes(self) -> int:
        return sum(d.free_bytes for d in self.devices)


@dataclass(frozen=True)
class GpuLayersChoice:
    """The number ``LoadOptions.n_gpu_layers`` gets (-1: every layer, the output layer too)
    and the sentence that explains it."""

    layers: int
    explanation: str
    estimate: MemoryEstimate | None = None


def auto_gpu_layers(
    info: ModelInfo,
    n_ctx: int,
    *,
    offload_supported: bool | None,
    vram_budget: int | None,
    n_batch: int = 512,
    flash_attn: bool = True,
) -> GpuLayersChoice:
    """The largest layer count whose estimated VRAM at ``n_ctx`` is within ``vram_budget``."""
    if offload_supported is False:
        return GpuLayersChoice(0, "this llama.cpp build has no GPU offload: 0 layers, every "
                                  "layer runs on the CPU")
    if offload_supported is None:
        return GpuLayersChoice(0, "not known yet whether this llama.cpp build can offload to a "
                                  "GPU: 0 layers for now")
    if not vram_budget or vram_budget <= 0:
        return GpuLayersChoice(0, "llama.cpp reports no GPU memory and none was given: 0 "
                                  "layers; give the VRAM to use")
    total = info.block_count or 0
    if total <= 0:
        return GpuLayersChoice(0, "the model's header does not say how many layers it has: 0 "
                                  "layers")

    def needs(layers: int) -> MemoryEstimate:
        return estimate_memory(info, n_ctx, layers, n_batch=n_batch, flash_attn=flash_attn)

    budget = format_bytes(vram_budget)
    # VRAM needed grows with the layer count, so the largest count that fits is found by halving.
    lo, hi = 0, total
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if needs(mid).gpu_bytes <= vram_budget:
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        one = needs(1)
        return GpuLayersChoice(
            0, f"0 of {total} layers: even one layer needs about {format_bytes(one.gpu_bytes)} "
               f"of VRAM, more than the {budget} there is", needs(0))
    estimate = needs(lo)
    needed = f"about {format_bytes(estimate.gpu_bytes)} needed at a context of {n_ctx:,}"
    if lo == total:
        return GpuLayersChoice(
            -1, f"{total} of {total} layers fit in {budget} of VRAM ({needed})", estimate)
    return GpuLayersChoice(
        lo, f"{lo} of {total} layers fit in {budget} of VRAM ({needed}); the other "
            f"{total - lo} run on the CPU", estimate)


# -- asking llama.cpp ------------------------------------------------------------------------------


def _ggml_gpu_devices() -> tuple[GpuDevice, ...]:
    """Each GPU in ggml's device registry with its free and total memory (runs in the child)."""
    import ctypes

    from llama_cpp._ggml import libggml as lib

    lib.ggml_backend_dev_count.restype = ctypes.c_size_t
    lib.ggml_backend_dev_count.argtypes = []
    lib.ggml_backend_dev_get.restype = ctypes.c_void_p
    lib.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_dev_type.restype = ctypes.c_int
    lib.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_name.restype = ctypes.c_char_p
    lib.ggml_backend_dev_name.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_memory.restype = None
    lib.ggml_backend_dev_memory.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t),
                                            ctypes.POINTER(ctypes.c_size_t)]
    devices = []
    for index in range(int(lib.ggml_backend_dev_count())):
        device = lib.ggml_backend_dev_get(index)
        if not device or lib.ggml_backend_dev_type(device) not in GPU_DEVICE_TYPES:
            continue
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        lib.ggml_backend_dev_memory(device, ctypes.byref(free), ctypes.byref(total))
        name = (lib.ggml_backend_dev_name(device) or b"GPU").decode(errors="replace")
        devices.append(GpuDevice(name, int(free.value), int(total.value)))
    return tuple(devices)


def _report_gpu_memory(conn: Connection) -> None:
    import llama_cpp

    supported = bool(llama_cpp.llama_supports_gpu_offload())
    try:
        devices = _ggml_gpu_devices()
    except (AttributeError, OSError, ImportError):  # a build without the registry functions
        devices = ()
    conn.send(GpuMemory(supported, devices))
    conn.close()


def probe_gpu_offload(timeout_s: float = 60.0) -> bool | None:
    """Whether this llama.cpp build can offload layers to a GPU, asked in a short-lived child
    process: a window can know it before any model loads without loading llama.cpp itself.
    None when the child gave no answer."""
    memory = probe_gpu_memory(timeout_s)
    return None if memory is None else memory.offload_supported


def probe_gpu_memory(timeout_s: float = 60.0) -> GpuMemory | None:
    """What llama.cpp says of GPU offload and VRAM, asked in a short-lived child process;
    None when the child gave no answer."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_report_gpu_memory, args=(child,), name="playground-gpu-memory",
                          daemon=True)
    process.start()
    child.close()
    try:
        answer = parent.recv() if parent.poll(timeout_s) else None
        return answer if isinstance(answer, GpuMemory) else None
    except (EOFError, OSError):
        return None
    finally:
        parent.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
