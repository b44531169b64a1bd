"""Crafted report runs with a known effect, shared by the report and export tests."""

from __future__ import annotations

import random

from playground.evaluation.report import ReportRun


def runs(effect: float, *, n_inputs: int = 30, samples: int = 2, seed: int = 1) -> list[ReportRun]:
    """Variant "good" scores ``effect`` higher than "base" on every input, plus noise."""
    rng = random.Random(seed)
    out = []
    for i in range(n_inputs):
        difficulty = rng.uniform(0.2, 0.6)
        for variant, bonus in (("base", 0.0), ("good", effect)):
            for k in range(samples):
                score = min(1.0, max(0.0, difficulty + bonus + rng.gauss(0, 0.02)))
                out.append(ReportRun(
                    variant=variant, input_id=f"in-{i}", sample=k, seed=100 + k, status="ok",
                    prompt=f"Summarise <{i}> & co", output=f"out {variant} {i}",
                    references=(f"ref {i}",), scores={"rougeL_f": score, "bleu": None},
                    tokens_per_second=100.0 + k, total_s=0.5, ttft_s=0.05, run_id=len(out) + 1,
                ))
    return out
