"""Comparison benchmarks: scoring throughput and prefix-aware run ordering."""

from __future__ import annotations

import random
import time

from playground.comparison import ComparisonSpec, Variant, inputs_from_rows
from playground.engine.worker import LoadOptions
from playground.evaluation.scoring import Scorer
from playground.prompts.library import Library, load_builtin_library
from playground.runs.runner import BackendPool, RunDone, run_comparison
from playground.sampling import SamplingParams

WORDS = (  # noqa: SIM905 - one readable string of words
    "the a model prompt answer review summary meeting said agreed friday budget team will "
    "send report later quickly because price quality service arrived broken great terrible "
    "translation context question explain concept example student lesson"
).split()


def _pairs(n: int, seed: int = 7) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)

    def sentence(k: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(k)).capitalize() + "."

    return [(sentence(rng.randint(12, 30)), [sentence(rng.randint(12, 30))]) for _ in range(n)]


def scoring(n: int = 10_000) -> list[tuple[str, str]]:
    """Our Scorer (objects built once, script-aware tokenizer) against building rouge-score
    and sacrebleu objects for every pair, as a script calling them naively would."""
    from rouge_score import rouge_scorer
    from sacrebleu.metrics.bleu import BLEU
    from sacrebleu.metrics.chrf import CHRF

    pairs = _pairs(n)
    scorer = Scorer()
    started = time.perf_counter()
    for hyp, refs in pairs:
        scorer.score_pair(hyp, refs)
    ours = time.perf_counter() - started

    started = time.perf_counter()
    for hyp, refs in pairs:
        rs = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"],
                                      use_stemmer=True)
        rs.score(refs[0], hyp)
        BLEU(effective_order=True).sentence_score(hyp, refs)
        CHRF().sentence_score(hyp, refs)
    naive = time.perf_counter() - started
    return [
        ("pairs", f"{n:,}"),
        ("metrics", "ROUGE-1/2/L/Lsum, BLEU, chrF"),
        ("pairs/s, playground Scorer", f"{n / ours:,.0f}"),
        ("pairs/s, naive rouge-score + sacrebleu", f"{n / naive:,.0f}"),
        ("ratio ours / naive", f"{naive / ours:.2f}"),
    ]


def _variants(lib: Library) -> tuple[Variant, ...]:
    out = []
    for tid in ("sentiment-few-shot", "sentiment-few-shot-cot", "sentiment-one-shot"):
        t = lib.template(tid)
        examples = lib.example_set("sentiment")
        assert t is not None and examples is not None
        out.append(Variant(tid, tid, t.source, SamplingParams(temperature=0, max_tokens=8), "",
                           values={"examples": [dict(e) for e in examples.examples]},
                           library_sources=lib.sources()))
    return tuple(out)


def prefix_order(inputs: int = 10) -> list[tuple[str, str]]:
    """3 few-shot variants × ``inputs`` inputs, run in plain round order and in prefix order,
    alternately, on one loaded model."""
    lib = load_builtin_library()
    dataset = lib.dataset("sentiment")
    assert dataset is not None
    spec = ComparisonSpec("bench", _variants(lib), inputs_from_rows(dataset.rows[:inputs]))
    pool = BackendPool(LoadOptions(n_ctx=2048))
    times: dict[bool, list[float]] = {False: [], True: []}
    try:
        pool.get("").start()  # type: ignore[attr-defined]
        for _ in range(2):
            for ordered in (False, True):
                started = time.perf_counter()
                n = sum(isinstance(e, RunDone) for e in run_comparison(
                    spec, pool, prefix_order=ordered, perplexity=False))
                times[ordered].append(time.perf_counter() - started)
                if n != len(spec.cells()):
                    raise RuntimeError(f"{n} of {len(spec.cells())} runs finished")
    finally:
        pool.close()
    plain, ordered_t = min(times[False]), min(times[True])
    return [
        ("runs", f"{len(spec.cells())} (3 few-shot variants × {inputs} inputs)"),
        ("plain round order (best of 2)", f"{plain:.2f} s"),
        ("prefix-aware order (best of 2)", f"{ordered_t:.2f} s"),
        ("speed-up (target >= 1.5)", f"{plain / ordered_t:.2f}×"),
    ]
