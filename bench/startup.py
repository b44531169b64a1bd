"""How fast commands that load no model start: wall time of a fresh ``python -m playground``
against a bare interpreter, and ``python -X importtime``'s sum with the largest imports."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 5
#: A user's second start finds the bytecode its first one wrote; an environment that forbids
#: writing it (PYTHONDONTWRITEBYTECODE) would time compiling the project's modules instead.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def _wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=_ENV)
    return time.perf_counter() - started


def _imports(argv: list[str]) -> tuple[float, list[tuple[str, float]]]:
    """Seconds spent importing, and the three largest top-level imports by cumulative time."""
    err = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], check=True, env=_ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    total = 0
    top: list[tuple[str, float]] = []
    for m in _LINE.finditer(err):
        total += int(m.group(1))
        if len(m.group(3)) == 1:  # imported by the program itself, not by another module
            top.append((m.group(4), int(m.group(2)) / 1e6))
    top.sort(key=lambda t: -t[1])
    return total / 1e6, [t for t in top if not t[0].startswith(("site", "encodings"))][:3]


def startup() -> list[tuple[str, str]]:
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        commands = {
            "--help": ["--help"],
            "templates list": ["templates", "list"],
            "history": ["history", "--db", db],
            "score": ["score", "--hyp", "the cat sat", "--ref", "a cat sat"],
        }
        _wall([py, "-m", "playground", "history", "--db", db])  # creates the database once
        bare = statistics.median(_wall([py, "-c", "pass"]) for _ in range(ROUNDS))
        rows = [("bare interpreter (python -c pass, median)", f"{bare * 1000:.0f} ms")]
        for name, args in commands.items():
            argv = [py, "-m", "playground", *args]
            _wall(argv)  # the first start after an install or an edit writes the bytecode
            wall = statistics.median(_wall(argv) for _ in range(ROUNDS))
            imported, top = _imports(argv)
            largest = ", ".join(f"{n} {s * 1000:.0f}" for n, s in top)
            rows += [
                (f"playground {name}: wall (median of {ROUNDS}; target < 300 ms)",
                 f"{wall * 1000:.0f} ms"),
                (f"playground {name}: importing (ms; largest)",
                 f"{imported * 1000:.0f} ({largest})"),
            ]
    return rows
