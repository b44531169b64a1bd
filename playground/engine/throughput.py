"""Aggregate decode speed measured at each parallelism, per model file, on this machine.

Whether decoding several sequences at once pays depends on the model and the machine (memory
bandwidth, cores, a GPU), which no formula knows well; ``make bench`` measures it and keeps the
numbers here, and :func:`playground.engine.memory.choose_parallel` prefers them to its rule.
A JSON file in the per-user cache, keyed by the model file's path and size.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from playground import paths
from playground.files import read_json_dict, write_json


def throughput_path() -> Path:
    return paths.cache_dir() / "throughput.json"


def _key(model_path: str | os.PathLike[str]) -> str:
    file = Path(model_path)
    try:
        size = file.stat().st_size
    except OSError:
        size = 0
    return f"{file.resolve()}|{size}"


def _read() -> dict[str, Any]:
    return read_json_dict(throughput_path())


def measured_throughput(model_path: str | os.PathLike[str]) -> dict[int, float]:
    """Tokens per second by number of sequences, as last measured for this file; may be empty."""
    entry = _read().get(_key(model_path))
    if not isinstance(entry, dict):
        return {}
    rates: dict[int, float] = {}
    for n, rate in entry.items():
        with contextlib.suppress(TypeError, ValueError):
            rates[int(n)] = float(rate)
    return rates


def remember_throughput(model_path: str | os.PathLike[str], rates: dict[int, float]) -> None:
    """Keep measured rates (tokens/s by number of sequences) for this model file."""
    data = _read()
    entry = data.setdefault(_key(model_path), {})
    entry.update({str(n): float(r) for n, r in rates.items()})
    with contextlib.suppress(OSError):
        write_json(throughput_path(), data, sort_keys=True)
