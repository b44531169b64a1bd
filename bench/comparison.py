"""Comparison benchmarks: scoring throughput and prefix-aware run ordering."""

from __future__ import annotations

import random
import time

from playground.comparison import ComparisonSpec, Variant, inputs_from_rows
from playground.engine.options import LoadOptions
from playground.evaluation.scoring import Scorer
from playground.prompts.library import Library, load_builtin_library
from playground.prompts.templates import template_params
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
    """Our Scorer (objects built once, script-aware tokenizer) against rouge-score and
    sacrebleu called directly: with their objects built once, as a careful user would (the
    honest baseline), and rebuilt for every pair, as a script calling them naively would."""
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
    rs = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
    bleu, chrf = BLEU(effective_order=True), CHRF()
    for hyp, refs in pairs:
        rs.score(refs[0], hyp)
        bleu.sentence_score(hyp, refs)
        chrf.sentence_score(hyp, refs)
    once = time.perf_counter() - started

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
        ("pairs/s, rouge-score + sacrebleu, objects built once", f"{n / once:,.0f}"),
        ("pairs/s, rouge-score + sacrebleu, rebuilt every pair", f"{n / naive:,.0f}"),
        ("ratio ours / built once (the honest baseline)", f"{once / ours:.2f}"),
        ("ratio ours / rebuilt every pair", f"{naive / ours:.2f}"),
    ]


def _variants(lib: Library, own_settings: bool) -> tuple[Variant, ...]:
    """The three sentiment variants, each with its template's own settings (the chain of
    thought asks for 96 tokens and stops at the next review) or all cut to 8 tokens, where
    prefill dominates and the ordering's gain is largest."""
    out = []
    for tid in ("sentiment-few-shot", "sentiment-few-shot-cot", "sentiment-one-shot"):
        t = lib.template(tid)
        examples = lib.example_set("sentiment")
        assert t is not None and examples is not None
        params = (template_params(t) if own_settings
                  else SamplingParams(temperature=0, max_tokens=8))
        out.append(Variant(tid, tid, t.source, params, "",
                           values={"examples": [dict(e) for e in examples.examples]},
                           library_sources=lib.sources()))
    return tuple(out)


def _ordered_vs_plain(spec: ComparisonSpec, pool: BackendPool,
                      rounds: int) -> tuple[float, float]:
    """Best wall times of ``rounds`` in plain round order and in prefix order, alternately."""
    times: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for ordered in (False, True):
            started = time.perf_counter()
            n = sum(isinstance(e, RunDone) for e in run_comparison(
                spec, pool, prefix_order=ordered, perplexity=False))
            times[ordered].append(time.perf_counter() - started)
            if n != len(spec.cells()):
                raise RuntimeError(f"{n} of {len(spec.cells())} runs finished")
    return min(times[False]), min(times[True])


def prefix_order(inputs: int = 10) -> list[tuple[str, str]]:
    """3 few-shot variants × ``inputs`` inputs, run in plain round order and in prefix order
    on one loaded model: with every variant cut to 8 tokens, and with each template's own
    settings (what a person running these templates gets)."""
    lib = load_builtin_library()
    dataset = lib.dataset("sentiment")
    assert dataset is not None
    inputs_ = inputs_from_rows(dataset.rows[:inputs])
    pool = BackendPool(LoadOptions(n_ctx=2048))
    rows = [("runs", f"{3 * inputs} (3 few-shot variants × {inputs} inputs)")]
    try:
        pool.get("").start()  # type: ignore[attr-defined]
        # The longer runs once each: make bench stays within its ten minutes.
        for own, label, rounds in ((False, "max_tokens 8", 2),
                                   (True, "each template's own settings", 1)):
            spec = ComparisonSpec("bench", _variants(lib, own), inputs_)
            plain, ordered_t = _ordered_vs_plain(spec, pool, rounds)
            how = "best of 2" if rounds == 2 else "one run"
            rows += [
                (f"{label}: plain round order ({how})", f"{plain:.2f} s"),
                (f"{label}: prefix-aware order ({how})", f"{ordered_t:.2f} s"),
                (f"{label}: speed-up" + (" (target >= 1.5)" if not own else ""),
                 f"{plain / ordered_t:.2f}×"),
            ]
    finally:
        pool.close()
    return rows
