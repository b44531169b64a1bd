"""The reproducibility record of a run: what decided its text besides the prompt and the seed.

A seed alone does not fix what a model says. The engine version, the CPU path llama.cpp took
(AVX2, AVX-512, NEON...), the thread count, the batch sizes, flash attention and the KV cache
types all change the last bits of the logits, and a different sampler chain or model file
changes everything. Every run stores a flat JSON record of these facts, so that a replay can say
which of them differ now, and a report can say when its runs were not made alike.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import platform
import re
import subprocess
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import platformdirs

from playground.engine.models import APP_NAME
from playground.events import GenerationRequest

#: Record fields in the order people read them, with their plain names.
FIELD_LABELS: dict[str, str] = {
    "backend": "backend",
    "endpoint": "endpoint",
    "model_id": "server model",
    "server": "server",
    "llama_cpp_python": "llama-cpp-python",
    "cpu_path": "CPU path",
    "system_info": "llama.cpp build features",
    "cpu": "CPU",
    "os": "OS",
    "n_threads": "threads",
    "n_threads_batch": "prompt threads",
    "n_batch": "batch size",
    "n_ubatch": "micro-batch size",
    "flash_attn": "flash attention",
    "type_k": "KV cache type (K)",
    "type_v": "KV cache type (V)",
    "n_ctx": "context size",
    "n_gpu_layers": "GPU layers",
    "model_file": "model file",
    "model_sha256": "model file SHA-256",
    "chat_template_sha256": "chat template SHA-256",
    "sampler_chain": "sampler chain",
    "seed": "seed",
    "prefix_reuse": "prefix reuse",
    "batching": "batching",
}

#: Fields whose difference changes the numbers a model computes for the same tokens (or where
#: they are computed at all), so results made under different values may differ in the last
#: bits even with the same seed.
NUMERIC_FIELDS = (
    "backend",
    "endpoint",
    "llama_cpp_python",
    "cpu_path",
    "n_threads",
    "n_batch",
    "n_ubatch",
    "flash_attn",
    "type_k",
    "type_v",
    "n_gpu_layers",
    "model_sha256",
    "batching",
)

#: What a value reads as when the run that should carry it predates records.
NOT_RECORDED = "not recorded"

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
    which a replay on a server needs again as messages."""
    if request.messages is None:
        return {"kind": "text"}
    return {
        "kind": "chat",
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
    }


# -- model file hashes --------------------------------------------------------------------------


def hash_cache_path() -> Path:
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "file-hashes.json"


_cache_lock = threading.Lock()
_hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playground-sha256")
_pending: dict[tuple[str, int, int], Future[str]] = {}


def _file_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def _read_cache() -> dict[str, Any]:
    try:
        data = json.loads(hash_cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


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
        target = hash_cache_path()
        with contextlib.suppress(OSError):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".hashes-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=1, sort_keys=True)
            os.replace(tmp, target)


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


# -- reading records ----------------------------------------------------------------------------


def _plain(value: Any) -> str:
    if value is None:
        return NOT_RECORDED
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        if value and all(isinstance(v, Mapping) for v in value):
            return " → ".join(_step(v) for v in value)
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items())
    if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value):
        return value[:12]
    return str(value)


def _step(step: Mapping[str, Any]) -> str:
    args = ", ".join(f"{k} {v}" for k, v in step.items() if k != "name")
    return f"{step.get('name')}({args})" if args else str(step.get("name"))


def describe(field_name: str, value: Any) -> str:
    """One record value as a person reads it: on/off, a short hash, a chain with arrows."""
    return _plain(value)


def differences(
    then: Mapping[str, Any] | None, now: Mapping[str, Any] | None
) -> list[tuple[str, str, str]]:
    """Recorded fields whose value differs: ``(label, then, now)``, in reading order.

    A field missing on one side counts only when the other side has it: an old run with no
    record differs in everything that is known now, and says "not recorded" for "then".
    """
    then = then or {}
    now = now or {}
    found = []
    for key, label in FIELD_LABELS.items():
        if key not in then and key not in now:
            continue
        a, b = then.get(key), now.get(key)
        if key == "system_info" and then.get("cpu_path") != now.get("cpu_path"):
            continue  # the CPU path already names the difference that matters
        if a != b:
            found.append((label, describe(key, a), describe(key, b)))
    return found


def difference_lines(then: Mapping[str, Any] | None, now: Mapping[str, Any] | None) -> list[str]:
    return [f"{label}: {a} then, {b} now" for label, a, b in differences(then, now)]


def mixed_settings(records: Iterable[Mapping[str, Any] | None]) -> list[tuple[str, Counter[str]]]:
    """Fields that change the numerics and take more than one value across ``records``:
    ``(label, how many runs had each value)``. Runs with no record are left out."""
    known = [r for r in records if r]
    mixed = []
    for key in NUMERIC_FIELDS:
        counts = Counter(describe(key, r.get(key)) for r in known if key in r)
        if len(counts) > 1:
            mixed.append((FIELD_LABELS[key], counts))
    return mixed


def mixed_settings_note(records: Iterable[Mapping[str, Any] | None]) -> str | None:
    """One plain sentence when a comparison's runs were not made alike, or None."""
    mixed = mixed_settings(records)
    if not mixed:
        return None
    parts = []
    for label, counts in mixed:
        values = ", ".join(f"{value} in {n} run{'s' if n != 1 else ''}"
                           for value, n in sorted(counts.items()))
        parts.append(f"{label} ({values})")
    return (
        "These runs were not all made the same way: "
        + "; ".join(parts)
        + ". Differences between variants may partly come from how they were run."
    )


def summary(records: Sequence[Mapping[str, Any] | None]) -> list[tuple[str, str]]:
    """``(label, value)`` for every recorded field across runs: one value when all agree,
    else each value with its count. Runs without a record are counted as such."""
    rows: list[tuple[str, str]] = []
    missing = sum(1 for r in records if not r)
    known = [r for r in records if r]
    for key, label in FIELD_LABELS.items():
        if key == "seed":
            continue  # one per run: the run tables list them
        counts = Counter(describe(key, r.get(key)) for r in known if key in r)
        if not counts:
            continue
        if len(counts) == 1:
            rows.append((label, next(iter(counts))))
        else:
            rows.append((label, "; ".join(f"{v} ({n} runs)" for v, n in sorted(counts.items()))))
    if missing:
        rows.append(("runs without a record", f"{missing} (made before records were kept)"))
    return rows

