"""`make bench`: every benchmark, one table each, ratios measured in this one run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import comparison, generation, history, remote, window
from playground.models import resolve_model


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    vwidth = max(len(v) for _, v in rows)
    print(f"\n### {title}\n")
    print(f"| {'measure'.ljust(width)} | {'value'.ljust(vwidth)} |")
    print(f"|{'-' * (width + 2)}|{'-' * (vwidth + 2)}|")
    for key, value in rows:
        print(f"| {key.ljust(width)} | {value.ljust(vwidth)} |")


def main() -> int:
    model = resolve_model(None)
    print_table("Generation: full app path vs llama.cpp low-level loop", generation.run(model))
    print_table("Comparison: prefix-aware run ordering", comparison.prefix_order())
    print_table("Scoring throughput", comparison.scoring())
    print_table("History search", history.history_search())
    print_table("Remote vs local generation", remote.remote_vs_local(model))
    print_table("The window while the model works", window.responsiveness())
    return 0


if __name__ == "__main__":
    sys.exit(main())
