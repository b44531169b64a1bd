"""The reproducibility record of a run: what decided its text besides the prompt and the seed.

A seed alone does not fix what a model says. The engine version, the CPU path llama.cpp took
(AVX2, AVX-512, NEON...), the thread count, the batch sizes, flash attention and the KV cache
types all change the last bits of the logits, and a different sampler chain or model file
changes everything. Every run stores a flat JSON record of these facts, so that a replay can say
which of them differ now, and a report can say when its runs were not made alike.
"""


import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from playground.wording import plural

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
    "chat_format": "chat format",
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
            rows.append((label, "; ".join(f"{v} ({plural(n, 'run')})"
                                          for v, n in sorted(counts.items()))))
    if missing:
        rows.append(("runs without a record", f"{missing} (made before records were kept)"))
    return rows

