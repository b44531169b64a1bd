"""The app against llama.cpp's own benchmarks, on the same model and threads, in one run.

``llama-bench`` gives pp64 and tg128; the app decodes the same lengths through its worker:
a 64-token prompt, 128 generated tokens, greedy. ``llama-batched-bench`` gives the aggregate
speed of N sequences of 64 + 128 tokens; the app runs N such requests together through its
batched path, where there is one. The model must not stop early for the two to compare, so
each prompt is a count ("412, 413, 414, ...") that a model continues; a run that still stops
early is timed over the tokens it wrote, and the table says how many that was.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import native
from playground.engine.backends import LocalBackend
from playground.engine.worker import LoadOptions, default_threads
from playground.events import Failed, Finished, GenerationRequest, Token
from playground.sampling import SamplingParams

N_PROMPT = 64
N_GEN = 128
N_CTX = 2048
ROUNDS = 5


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

    _KEEP.append(install_log_filter(llama_cpp, None))  # llama.cpp calls it for the process's life
    return llama_cpp.Llama(str(model), vocab_only=True, verbose=False)


_KEEP: list[Any] = []


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


def single_stream(model: Path, threads: int, prompt: str) -> list[tuple[str, str]]:
    """tg128 and pp64 against the app's decode and time to first token, with logprobs off and
    on (top 5), turn by turn so that load on a shared machine hits both alike."""
    backend = LocalBackend(model, LoadOptions(n_ctx=N_CTX, n_threads=threads,
                                              reuse_prefix=False))
    backend.start()
    plain: list[Single] = []
    with_lp: list[Single] = []
    speeds: list[native.NativeSpeeds] = []
    try:
        _single(backend, prompt, None)  # warm-up
        for _ in range(2):
            speeds.append(native.llama_bench(model, threads, N_PROMPT, N_GEN))
            for _ in range(ROUNDS):
                plain.append(_single(backend, prompt, None))
                with_lp.append(_single(backend, prompt, 5))
    finally:
        backend.close()
    tg = statistics.median(s.tg for s in speeds)
    tg_deep = statistics.median(s.tg_at_depth for s in speeds)
    pp = statistics.median(s.pp for s in speeds)
    ours = statistics.median(s.decode_tps for s in plain)
    ours_client = statistics.median(s.client_tps for s in plain)
    ours_lp = statistics.median(s.decode_tps for s in with_lp)
    ttft = statistics.median(s.ttft_s for s in plain)
    native_ttft = N_PROMPT / pp
    return [
        ("tokens per app run (prompt / generated)",
         f"{N_PROMPT} / {min(s.tokens for s in plain)}–{max(s.tokens for s in plain)}"),
        (f"native llama-bench tg{N_GEN} (median of 2 × 3 repetitions)", f"{tg:.1f} tok/s"),
        (f"native tg{N_GEN} at depth {N_PROMPT} (after the prompt, as the app generates)",
         f"{tg_deep:.1f} tok/s"),
        ("app decode, timed in the worker (median)", f"{ours:.1f} tok/s"),
        ("app decode, timed at the client (median)", f"{ours_client:.1f} tok/s"),
        ("app decode with top-5 logprobs, in the worker (median)", f"{ours_lp:.1f} tok/s"),
        (f"ratio app / native tg{N_GEN} (target >= 0.95)", f"{ours / tg:.3f}"),
        (f"ratio app / native tg{N_GEN} at depth {N_PROMPT}", f"{ours / tg_deep:.3f}"),
        ("ratio app at the client / native", f"{ours_client / tg:.3f}"),
        ("ratio app with logprobs / native", f"{ours_lp / tg:.3f}"),
        (f"native llama-bench pp{N_PROMPT}", f"{pp:.1f} tok/s"),
        (f"native time for the {N_PROMPT}-token prompt", f"{native_ttft * 1000:.1f} ms"),
        ("app time to first token, at the client (median)", f"{ttft * 1000:.1f} ms"),
        ("ratio native prompt time / app time to first token", f"{native_ttft / ttft:.3f}"),
    ]


def _batched_run(backend: LocalBackend, prompts: list[str]) -> tuple[float, int]:
    """Wall time from sending every request to the last one's end, and tokens generated."""
    params = SamplingParams(temperature=0, max_tokens=N_GEN, seed=1)
    requests = [GenerationRequest(prompt=p, params=params) for p in prompts]
    generated = 0
    started = time.perf_counter()
    generate_many: Any = getattr(backend, "generate_many", None)
    for _, event in generate_many(requests):
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
    if not hasattr(LocalBackend, "generate_many"):
        return [("batched path", "not in the app yet (issue 16 §1): no comparison at N")]
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
    del vocab
    return rows + single_stream(model, threads, prompts[0]) + batched(model, threads, prompts)
