"""Facts about this machine and the files a run used, for the reproducibility record
(:mod:`playground.provenance` reads records; this module makes the engine's half of them).

The CPU path llama.cpp took is read from its own system info string; the model file's SHA-256
is computed once on a background thread and cached by path, size and modification time, so
neither loading nor generating waits for a multi-gigabyte hash.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import platform
import re
import subprocess
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from playground import paths
from playground.events import GenerationRequest
from playground.files import read_json_dict, write_json

_SIMD_ORDER = (
    ("AVX512", "AVX-512"),
    ("AVX_VNNI", "AVX-VNNI"),
    ("AVX2", "AVX2"),
    ("AVX", "AVX"),
    ("SSE3", "SSE3"),
    ("SVE", "SVE"),
    ("NEON", "NEON"),
)
_GPU_BACKENDS = ("CUDA", "METAL", "VULKAN", "HIP", "SYCL", "MUSA", "OPENCL", "CANN", "KOMPUTE")
#: CPU flags that decide which kernels llama.cpp can use; the rest of /proc/cpuinfo is noise.
_RELEVANT_FLAGS = re.compile(
    r"^(sse3|ssse3|avx|avx2|fma|f16c|avx512\w*|avx_vnni|amx\w*|neon|asimd\w*|sve\w*|sme(?!p$)\w*|"
    r"dotprod|i8mm|bf16|fp16|fphp|asimdhp)$"
)


# -- the machine ------------------------------------------------------------------------------


def cpu_model() -> str:
    """The CPU's marketing name, from the OS; platform.processor() is often just 'x86_64'."""
    system = platform.system()
    try:
        if system == "Linux":
            text = Path("/proc/cpuinfo").read_text(errors="replace")
            for key in ("model name", "Hardware", "Processor", "cpu model"):
                match = re.search(rf"^{key}\s*:\s*(.+)$", text, re.MULTILINE)
                if match:
                    return match.group(1).strip()
        elif system == "Darwin":
            out = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True, text=True, timeout=5, check=False,
            )
            if out.stdout.strip():
                return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_features() -> list[str]:
    """The SIMD features this CPU reports that matter to llama.cpp's kernels, sorted."""
    flags: set[str] = set()
    try:
        if platform.system() == "Linux":
            text = Path("/proc/cpuinfo").read_text(errors="replace")
            for match in re.finditer(r"^(?:flags|Features)\s*:\s*(.+)$", text, re.MULTILINE):
                flags.update(match.group(1).split())
        elif platform.system() == "Darwin":
            out = subprocess.run(
                ["sysctl", "-a"], capture_output=True, text=True, timeout=5, check=False
            )
            for line in out.stdout.splitlines():
                key, _, value = line.partition(":")
                if key.startswith("hw.optional.") and value.strip() == "1":
                    flags.add(key.rsplit(".", 1)[-1].lower())
    except (OSError, subprocess.SubprocessError):
        pass
    return sorted(f for f in flags if _RELEVANT_FLAGS.match(f.lower()))


def cpu_path(system_info: str | None) -> str | None:
    """The kernel family llama.cpp's build uses, read from its system info string, e.g.
    ``"AVX2"`` or ``"CUDA + AVX-512"``: the short answer to "which code computed this"."""
    if not system_info:
        return None
    enabled = {m.group(1).upper() for m in re.finditer(r"([A-Za-z0-9_]+)\s*=\s*1\b", system_info)}
    simd = "generic"
    for key, name in _SIMD_ORDER:
        if any(flag == key or flag.startswith(key + "_") for flag in enabled):
            simd = name
            break
    gpus = [g for g in _GPU_BACKENDS if re.search(rf"\b{g}\b", system_info.upper())]
    return " + ".join([*gpus, simd])


@functools.cache
def machine_facts() -> dict[str, Any]:
    """What every record says about the machine it ran on (read once per process)."""
    return {
        "cpu": cpu_model(),
        "cpu_features": cpu_features(),
        "os": platform.platform(terse=True),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }


def request_record(request: GenerationRequest) -> dict[str, Any]:
    """How the prompt was sent: raw text (the run keeps it as its prompt) or chat messages,
    which a replay on a server needs again as messages; and the output constraint whole, so
    a replay constrains the same way."""
    sent: dict[str, Any] = {"kind": "text"}
    if request.messages is not None:
        sent = {
            "kind": "chat",
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
    if request.constraint is not None:
        sent["output"] = request.constraint.to_dict()
    return sent


# -- model file hashes --------------------------------------------------------------------------


def hash_cache_path() -> Path:
    return paths.hash_cache_path()


_cache_lock = threading.Lock()
_hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playground-sha256")
_pending: dict[tuple[str, int, int], Future[str]] = {}


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def _read_cache() -> dict[str, Any]:
    return read_json_dict(hash_cache_path())


def cached_sha256(path: str | os.PathLike[str]) -> str | None:
    """The file's SHA-256 if it was computed before for this exact path, size and mtime."""
    try:
        key = _file_key(Path(path))
    except OSError:
        return None
    with _cache_lock:
        entry = _read_cache().get(key[0])
    if isinstance(entry, dict) and entry.get("size") == key[1] and entry.get("mtime_ns") == key[2]:
        digest = entry.get("sha256")
        return digest if isinstance(digest, str) else None
    return None


def _remember(key: tuple[str, int, int], digest: str) -> None:
    with _cache_lock:
        data = _read_cache()
        data[key[0]] = {"size": key[1], "mtime_ns": key[2], "sha256": digest}
        with contextlib.suppress(OSError):
            write_json(hash_cache_path(), data, sort_keys=True)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file, computed once per path, size and modification time.

    Models are gigabytes; hashing one takes seconds, so the answer is cached in the per-user
    cache folder and a changed file (new size or mtime) is hashed again.
    """
    cached = cached_sha256(path)
    if cached is not None:
        return cached
    file = Path(path)
    key = _file_key(file)
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    result = digest.hexdigest()
    _remember(key, result)
    return result


def sha256_in_background(path: str | os.PathLike[str]) -> Future[str]:
    """The file's SHA-256 as a future, hashed on one shared background thread (never the
    caller's), so loading a model and generating never wait for it."""
    try:
        key = _file_key(Path(path))
    except OSError as exc:
        failed: Future[str] = Future()
        failed.set_exception(exc)
        return failed
    with _cache_lock:
        future = _pending.get(key)
        if future is None:
            future = _hasher.submit(file_sha256, path)
            _pending[key] = future
    return future


def text_sha256(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()
