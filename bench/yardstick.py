"""The app against llama.cpp's own benchmarks, on the same model and threads, in one run.

``llama-bench`` gives pp64 and tg128 (at depth 0 and 64); the app does the same work through its
worker, greedy: 128 tokens from a one-token prompt (tg128 starts from an empty cache) and 128
after a 64-token prompt (its time to first token against pp64, its decode against tg128 at
depth 64). ``llama-batched-bench`` gives the aggregate
speed of N sequences of 64 + 128 tokens; the app runs N such requests together through its
batched path, where there is one. The model must not stop early for the two to compare, so
each prompt is a count ("412, 413, 414, ...") that a model continues; a run that still stops
early is timed over the tokens it wrote, and the table says how many that was.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import native
from bench.generation import LowLevelLoop
from playground.engine.backends import LocalBackend
from playground.engine.options import LoadOptions, default_threads
from playground.events import Failed, Finished, GenerationRequest, Token
from playground.sampling import SamplingParams

N_PROMPT = 64
N_GEN = 128
N_CTX = 2048


def counting_prompt(vocab: Any, n_tokens: int, start: int) -> str:
    """A count from ``start`` that tokenizes (with BOS, as the worker does) to ``n_tokens``:
    the count cut a character at a time where whole numbers do not land exactly (or the first
    length past it, should no cut land)."""

    def size(text: str) -> int:
        return len(vocab.tokenize(text.encode(), add_bos=True, special=True))

    count = ", ".join(str(n) for n in range(start, start + n_tokens)) + ", "
    for end in range(1, len(count) + 1):
        if size(count[:end]) >= n_tokens:
            return count[:end]
    return count


def _vocab(model: Path) -> Any:
    """The model's tokenizer alone, in this process: prompts are sized in tokens."""
    import llama_cpp

    from playground.engine.worker import install_log_filter

    install_log_filter(llama_cpp, None)
    return llama_cpp.Llama(str(model), vocab_only=True, verbose=False)


@dataclass(frozen=True)
class Single:
    tokens: int
    decode_tps: float  # timed in the worker, first token to last
    client_tps: float  # timed here, first streamed piece to the end of the run
    ttft_s: float


def _single(backend: LocalBackend, prompt: str, logprobs: int | None) -> Single:
    params = SamplingParams(temperature=0, max_tokens=N_GEN, seed=1)
    sent = time.perf_counter()
    first: float | None = None
    for event in backend.generate(GenerationRequest(prompt=prompt, params=params,
                                                    logprobs=logprobs)):
        if isinstance(event, Token) and first is None:
            first = time.perf_counter()
        elif isinstance(event, Finished):
            ended = time.perf_counter()
            r = event.result
            if first is None or r.completion_tokens < 2 or r.tokens_per_second is None:
                raise RuntimeError(f"{r.completion_tokens} token(s) generated, too few to time")
            return Single(r.completion_tokens, r.tokens_per_second,
                          (r.completion_tokens - 1) / (ended - first), first - sent)
        elif isinstance(event, Failed):
            raise RuntimeError(str(event.error))
    raise RuntimeError("the run did not finish")


#: Short turns, many of them: a pair taken seconds apart shares the host's speed of the moment,
#: and the median of many pairs settles where the median of a few swung by several percent.
TURNS = 16


def single_stream(model: Path, threads: int, prompt: str, opening: str) -> list[tuple[str, str]]:
    """tg128 and pp64 against the app's decode and time to first token, with logprobs off and
    on (top 5), and a tight low-level loop beside them.

    tg128 is generation from an empty cache, so the app's run that compares with it starts from
    a one-token prompt (``opening``). After the 64-token ``prompt`` its decode compares with
    tg128 at depth 64 (``-d 64``), and its time to first token with pp64. Attention over a deeper
    cache costs a few percent, so the app after the prompt is also set against tg128 at depth 0,
    as earlier tables did, to keep them comparable; that pair is not the same work.

    The machine's speed drifts by more than the gaps measured here (other work on a shared
    host, clocks), so they are measured in turns (native, the app from the opening token, with
    logprobs, after the prompt, the loop; the next turn in reverse order), and each ratio is the
    median of the turns' own ratios rather than of speeds taken minutes apart."""
    backend = LocalBackend(model, LoadOptions(n_ctx=N_CTX, n_threads=threads,
                                              reuse_prefix=False))
    backend.start()
    low = LowLevelLoop(model, threads)
    turns: list[dict[str, float]] = []
    runs: dict[str, list[Single]] = {"opening": [], "prompt": []}
    try:
        _single(backend, prompt, None)  # warm-up
        low.run(prompt, N_GEN, stop_at_end=False)
        for turn in range(TURNS):
            # Every other turn in reverse order, so that none of them always goes first.
            steps: list[Callable[[], Any]] = [
                lambda: native.llama_bench(model, threads, N_PROMPT, N_GEN, repetitions=1),
                lambda: _single(backend, opening, None),
                lambda: _single(backend, opening, 5),
                lambda: _single(backend, prompt, None),
                lambda: low.run(prompt, N_GEN, stop_at_end=False).tokens_per_second,
            ]
            order = range(len(steps)) if turn % 2 == 0 else reversed(range(len(steps)))
            got = {i: steps[i]() for i in order}
            speeds, ours, with_lp, deep, loop = got[0], got[1], got[2], got[3], got[4]
            runs["opening"].append(ours)
            runs["prompt"].append(deep)
            turns.append({
                "tg": speeds.tg, "tg_deep": speeds.tg_at_depth, "pp": speeds.pp,
                "app": ours.decode_tps, "client": ours.client_tps, "lp": with_lp.decode_tps,
                "deep": deep.decode_tps, "loop": loop, "ttft": deep.ttft_s,
                "native_ttft": N_PROMPT / speeds.pp,
            })
    finally:
        backend.close()
        low.close()

    def median(key: str) -> float:
        return statistics.median(t[key] for t in turns)

    def ratio(top: str, bottom: str) -> str:
        return f"{statistics.median(t[top] / t[bottom] for t in turns):.3f}"

    def best(top: str, bottom: str) -> str:
        """The fastest run of each against the other: what each does when the host leaves it
        alone, as ``timeit`` reports its fastest loop."""
        return f"{max(t[top] for t in turns) / max(t[bottom] for t in turns):.3f}"

    def generated(key: str) -> str:
        counts = [s.tokens for s in runs[key]]
        return f"{min(counts)}–{max(counts)}"

    deep = f"after the {N_PROMPT}-token prompt"
    return [
        ("tokens per app run from one token (prompt / generated)", f"1 / {generated('opening')}"),
        (f"tokens per app run {deep} (prompt / generated)",
         f"{N_PROMPT} / {generated('prompt')}"),
        ("turns (each: llama-bench, app from one token, with logprobs, "
         f"{deep}, loop)", f"{TURNS}"),
        (f"native llama-bench tg{N_GEN} (from an empty cache)", f"{median('tg'):.1f} tok/s"),
        (f"native tg{N_GEN} at depth {N_PROMPT}", f"{median('tg_deep'):.1f} tok/s"),
        ("app decode from one token, timed in the worker", f"{median('app'):.1f} tok/s"),
        ("app decode from one token, timed at the client", f"{median('client'):.1f} tok/s"),
        ("app decode from one token with top-5 logprobs", f"{median('lp'):.1f} tok/s"),
        (f"app decode {deep}", f"{median('deep'):.1f} tok/s"),
        (f"low-level loop {deep} (llama-cpp-python's library, no app work)",
         f"{median('loop'):.1f} tok/s"),
        (f"ratio app / native tg{N_GEN} (target >= 0.95; the same work)", ratio("app", "tg")),
        ("ratio app at the client / native", ratio("client", "tg")),
        ("ratio app with logprobs / native", ratio("lp", "tg")),
        (f"ratio app {deep} / native tg{N_GEN} at depth {N_PROMPT} (the same work)",
         ratio("deep", "tg_deep")),
        (f"ratio app {deep} / native tg{N_GEN} at depth 0 (earlier tables; not the same work)",
         ratio("deep", "tg")),
        (f"fastest of {TURNS}: app / native tg{N_GEN}", best("app", "tg")),
        (f"fastest of {TURNS}: app with logprobs / native", best("lp", "tg")),
        (f"fastest of {TURNS}: app {deep} / native at depth {N_PROMPT}", best("deep", "tg_deep")),
        ("ratio app / low-level loop (the app's own cost)", ratio("deep", "loop")),
        (f"ratio low-level loop / native tg{N_GEN} at depth {N_PROMPT} (the library's cost)",
         ratio("loop", "tg_deep")),
        (f"native llama-bench pp{N_PROMPT}", f"{median('pp'):.1f} tok/s"),
        (f"native time for the {N_PROMPT}-token prompt", f"{median('native_ttft') * 1000:.1f} ms"),
        ("app time to first token, at the client", f"{median('ttft') * 1000:.1f} ms"),
        ("ratio native prompt time / app time to first token", ratio("native_ttft", "ttft")),
    ]


def _batched_run(backend: LocalBackend, prompts: list[str]) -> tuple[float, int]:
    """Wall time from sending every request to the last one's end, and tokens generated."""
    params = SamplingParams(temperature=0, max_tokens=N_GEN, seed=1)
    requests = [GenerationRequest(prompt=p, params=params) for p in prompts]
    generated = 0
    started = time.perf_counter()
    for _, event in backend.generate_many(requests):
        if isinstance(event, Finished):
            generated += event.result.completion_tokens
        elif isinstance(event, Failed):
            raise RuntimeError(str(event.error))
    return time.perf_counter() - started, generated


def batched(model: Path, threads: int, prompts: list[str]) -> list[tuple[str, str]]:
    """Aggregate speed of N sequences of 64 + 128 tokens, the app's batched path against
    llama-batched-bench (whose "S t/s" counts prompt and generated tokens over the whole time,
    as the app's figure here does)."""
    n = len(prompts)
    rows_native = native.batched_bench(model, threads, (1, n), N_PROMPT, N_GEN)
    # Each sequence has a context of its own, room for one request.
    per_sequence: dict[str, Any] = {"n_ctx": N_PROMPT + N_GEN + 64, "parallel": n}
    backend = LocalBackend(model, LoadOptions(n_threads=threads, **per_sequence))
    backend.start()
    try:
        _batched_run(backend, prompts[:1])  # warm-up
        runs = [_batched_run(backend, prompts) for _ in range(2)]
    finally:
        backend.close()
    wall, generated = min(runs)
    ours = n * N_PROMPT / wall + generated / wall
    at_n, at_1 = rows_native[n], rows_native[1]
    return [
        ("sequences (N) × prompt + generated tokens", f"{n} × ({N_PROMPT} + {N_GEN})"),
        ("tokens the app generated (of N × 128)", f"{generated}"),
        ("native llama-batched-bench at N = 1, total", f"{at_1.total_tps:.1f} tok/s"),
        ("native at N, total (S t/s)", f"{at_n.total_tps:.1f} tok/s"),
        ("native at N, generation only (S_TG t/s)", f"{at_n.generation_tps:.1f} tok/s"),
        ("native gain N over 1", f"{at_n.total_tps / at_1.total_tps:.2f}×"),
        ("app batched at N, total (best of 2)", f"{ours:.1f} tok/s"),
        ("ratio app / native at N (target >= 0.90)", f"{ours / at_n.total_tps:.3f}"),
    ]


def run(model: Path, parallel: int = 8) -> list[tuple[str, str]]:
    threads = default_threads()
    rows = [("model", model.name), ("threads", str(threads))]
    if native.tools() is None:
        reason = native.missing_toolchain()
        missing = "not built: run `make bench-native` first" + (f" ({reason})" if reason else "")
        return [*rows, ("native tools", missing)]
    vocab = _vocab(model)
    # Counts far apart: no two prompts share a beginning past the first token or two.
    prompts = [counting_prompt(vocab, N_PROMPT, 100 + 1000 * i) for i in range(parallel)]
    opening = counting_prompt(vocab, 1, 0)  # "0": a model goes on counting from it
    del vocab
    return (rows + single_stream(model, threads, prompts[0], opening)
            + batched(model, threads, prompts))
