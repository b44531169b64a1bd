"""A comparison decoded one run at a time against the same comparison batched (``--parallel``).

3 variants × 10 inputs × 4 samples on one model, sequential (``parallel=1``) and at each N:
wall time, total generated tokens per second, and the ratio to sequential. The measured rates
are kept (:mod:`playground.engine.throughput`) so the default N follows this machine.

Run alone: ``python -m bench.batched [MODEL]`` (``BENCH_THREADS``, default 1: a shared machine
hurts multi-threaded decode far more than single-threaded; ``BENCH_PARALLEL``: "4,8").
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from playground.comparison import ComparisonSpec, Variant, inputs_from_rows
from playground.engine.models import resolve_model
from playground.engine.options import LoadOptions
from playground.engine.throughput import remember_throughput
from playground.runs.runner import BackendPool, RunDone, run_comparison
from playground.sampling import SamplingParams

TEMPLATES = (
    ("plain", "{{ text }}"),
    ("summary", "Summarize in one sentence: {{ text }}\nSummary:"),
    ("question", "Read this: {{ text }}\nQuestion: what is it about?\nAnswer:"),
)
TEXTS = (
    "The meeting moved to Friday because the budget report is late.",
    "The parcel arrived broken, and the seller has not answered for a week.",
    "A student asked why the sky is blue; the teacher drew the spectrum.",
    "Prices rose in March, but the team kept its quality targets.",
    "The translation missed the joke in the second paragraph.",
    "Rain stopped the match after forty minutes of play.",
    "The new library opens at nine and closes at six on weekdays.",
    "Our service desk answered every call within two minutes last month.",
    "The recipe needs two eggs, flour, milk and a pinch of salt.",
    "A small robot learned to sort red and blue blocks by itself.",
)


def spec(max_tokens: int = 24) -> ComparisonSpec:
    params = SamplingParams(temperature=0.8, max_tokens=max_tokens)
    variants = tuple(Variant(name, name, source, params, "") for name, source in TEMPLATES)
    rows = [{"text": text} for text in TEXTS]
    return ComparisonSpec("batched bench", variants, inputs_from_rows(rows), samples=4)


def run_once(model: Path, parallel: int, threads: int) -> tuple[float, int]:
    """Wall time of the whole comparison (the model already loaded) and tokens generated."""
    pool = BackendPool(LoadOptions(n_ctx=512, n_threads=threads, parallel=parallel))
    try:
        backend = pool.get(str(model))
        start = getattr(backend, "start", None)
        if start is not None:
            start()
        started = time.perf_counter()
        tokens = 0
        for event in run_comparison(spec(), pool, perplexity=False):
            if isinstance(event, RunDone) and event.result is not None:
                assert event.status == "ok", event.error
                tokens += event.result.completion_tokens
        return time.perf_counter() - started, tokens
    finally:
        pool.close()


def batched_comparison(model: Path | None = None) -> list[tuple[str, str]]:
    model = model or resolve_model(None)
    threads = int(os.environ.get("BENCH_THREADS", "1"))
    parallels = [int(n) for n in os.environ.get("BENCH_PARALLEL", "4,8").split(",")]
    rows: list[tuple[str, str]] = []
    base_s, base_tokens = run_once(model, 1, threads)
    base_rate = base_tokens / base_s
    rates = {1: base_rate}
    rows.append(("sequential (--parallel 1)",
                 f"{base_s:.1f} s, {base_tokens} tokens, {base_rate:.1f} tok/s"))
    for n in parallels:
        wall, tokens = run_once(model, n, threads)
        rate = tokens / wall
        rates[n] = rate
        rows.append((f"--parallel {n}", f"{wall:.1f} s, {tokens} tokens, {rate:.1f} tok/s, "
                                        f"{rate / base_rate:.2f}× sequential tok/s, "
                                        f"{base_s / wall:.2f}× faster wall time"))
    remember_throughput(model, rates)
    rows.append(("setup", f"{model.name}, 3 variants × 10 inputs × 4 samples, max_tokens 24, "
                          f"{threads} thread(s), n_ctx 512 per sequence"))
    return rows


if __name__ == "__main__":
    for label, value in batched_comparison(Path(sys.argv[1]) if len(sys.argv) > 1 else None):
        print(f"{label}: {value}")
