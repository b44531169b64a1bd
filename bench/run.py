"""`make bench`: every benchmark, one table each, ratios measured in this one run."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import comparison, generation, grammar, history, remote, window
from bench.startup import startup
from bench.yardstick import run as native_yardstick
from playground.engine.models import resolve_model


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    vwidth = max(len(v) for _, v in rows)
    print(f"\n### {title}\n")
    print(f"| {'measure'.ljust(width)} | {'value'.ljust(vwidth)} |")
    print(f"|{'-' * (width + 2)}|{'-' * (vwidth + 2)}|")
    for key, value in rows:
        print(f"| {key.ljust(width)} | {value.ljust(vwidth)} |")


def one_line(exc: BaseException, limit: int = 300) -> str:
    """A failure as one readable line: its type and the first line of its message, cut short
    (a message may quote a whole result object)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _yardsticks(model: Path) -> list[tuple[str, Callable[[], list[tuple[str, str]]]]]:
    """The app against native llama.cpp for the bundled model and, when ``BENCH_MODEL`` names a
    GGUF file, that one too (``BENCH_PARALLEL``: the N of the batched comparison, default 8)."""
    parallel = int(os.environ.get("BENCH_PARALLEL", "8"))
    models = [model]
    if os.environ.get("BENCH_MODEL"):
        models.append(Path(os.environ["BENCH_MODEL"]).expanduser())
    return [(f"Native llama.cpp yardstick: {m.name}",
             lambda m=m: native_yardstick(m, parallel)) for m in models]  # type: ignore[misc]


def main() -> int:
    model = resolve_model(None)
    benchmarks: list[tuple[str, Callable[[], list[tuple[str, str]]]]] = [
        ("Generation: full app path vs llama.cpp low-level loop", lambda: generation.run(model)),
        *_yardsticks(model),
        ("Comparison: prefix-aware run ordering", comparison.prefix_order),
        ("Scoring throughput", comparison.scoring),
        ("History search", history.history_search),
        ("Remote vs local generation", lambda: remote.remote_vs_local(model)),
        ("Grammar cost: constrained vs free decoding", lambda: grammar.grammar_cost(model)),
        ("The window while the model works", window.responsiveness),
        ("CLI start-up: commands that load no model", startup),
    ]
    failed = 0
    for title, benchmark in benchmarks:
        try:
            rows = benchmark()
        except Exception as exc:  # one benchmark failing says why and the others still run
            failed += 1
            print(f"\n### {title}\n\nfailed: {one_line(exc)}", flush=True)
            continue
        print_table(title, rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
