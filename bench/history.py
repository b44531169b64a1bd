"""History search over a large store: full-text search through the Store API."""

from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from playground.storage.store import Store

VOCAB = (  # noqa: SIM905 - one readable string of words
    "summary meeting budget review product quality price delivery customer service battery "
    "screen translation French German question context answer explain concept lesson student "
    "positive negative neutral person organisation location date report friday team launch "
    "delay refund broken excellent terrible average recommend return warranty shipping"
).split()


def _text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def history_search(runs: int = 100_000) -> list[tuple[str, str]]:
    """Fill a store with ``runs`` runs in bulk (one transaction, the store's own schema and FTS
    triggers), then time searches through :meth:`Store.search` as the app makes them."""
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.db"
        Store(path).close()  # creates the schema through the migrations
        conn = sqlite3.connect(path)
        started = time.perf_counter()
        with conn:
            conn.executemany(
                "INSERT INTO runs (sample, seed, run_key, status, rendered_prompt, output, "
                "created_at) VALUES (0, ?, ?, 'ok', ?, ?, ?)",
                (
                    (i, f"k{i}", _text(rng, 60), _text(rng, 30),
                     f"2026-01-01T00:{i // 6000 % 60:02d}:{i // 100 % 60:02d}")
                    for i in range(runs)
                ),
            )
        fill = time.perf_counter() - started
        conn.close()
        queries = ["refund", "battery screen", "friday team launch", "warranty", "zebra",
                   "positive review", "explain concept lesson"]
        timings = []
        with Store(path) as store:
            for _ in range(3):
                for q in queries:
                    t = time.perf_counter()
                    store.search(q, limit=50)
                    timings.append(time.perf_counter() - t)
            t = time.perf_counter()
            store.search("", limit=50)
            latest = time.perf_counter() - t
    return [
        ("runs in the store", f"{runs:,}"),
        ("bulk fill with FTS triggers", f"{fill:.1f} s"),
        ("search, median of 21 (target < 100 ms)", f"{statistics.median(timings) * 1000:.1f} ms"),
        ("search, slowest of 21", f"{max(timings) * 1000:.1f} ms"),
        ("newest 50 runs (no words)", f"{latest * 1000:.1f} ms"),
    ]
