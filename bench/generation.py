"""Decode speed through the full app path against a tight loop on llama.cpp's low-level API.

Both run greedy decoding of the same prompt on the same model with the same threads, in turns,
several rounds; the table reports medians and their ratio, all measured in this one run.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from playground.engine.backends import LocalBackend
from playground.engine.models import model_display_name
from playground.engine.options import LoadOptions, default_threads
from playground.events import Finished, GenerationRequest, Token
from playground.sampling import SamplingParams

PROMPT = "Write a long story about a lighthouse keeper who finds a message in a bottle.\n\n"
N_CTX = 2048


@dataclass
class Sample:
    tokens: int
    tokens_per_second: float
    ttft_s: float


def _sample(n: int, sent: float, first: float, last: float, where: str) -> Sample:
    """A decode speed needs two tokens: the first one's time is the time to first token. How
    many the model writes before it stops is its own business; fewer than two is reported."""
    if n < 2:
        raise RuntimeError(f"{where}: the model stopped after {n} token(s), too few to time")
    return Sample(n, (n - 1) / (last - first), first - sent)


class LowLevelLoop:
    """``llama_decode`` of one token at a time and llama.cpp's native greedy sampler, in this
    process, on a context made as the worker makes it (size, batch, threads, flash attention):
    nothing else. The ceiling the app's own per-token work is measured against."""

    def __init__(self, model_path: Path, threads: int) -> None:
        import llama_cpp as ll

        from playground.engine.worker import install_log_filter

        self.ll = ll
        install_log_filter(ll, None)
        ll.llama_backend_init()
        started = time.perf_counter()
        mparams = ll.llama_model_default_params()
        mparams.n_gpu_layers = 0
        self.model = ll.llama_model_load_from_file(str(model_path).encode(), mparams)
        options = LoadOptions(n_ctx=N_CTX, n_threads=threads)
        cparams = ll.llama_context_default_params()
        cparams.n_ctx = options.n_ctx
        cparams.n_batch = options.n_batch
        cparams.n_threads = threads
        cparams.n_threads_batch = threads
        if options.flash_attn:
            cparams.flash_attn_type = ll.LLAMA_FLASH_ATTN_TYPE_ENABLED
        self.ctx = ll.llama_init_from_model(self.model, cparams)
        self.load_s = time.perf_counter() - started
        self.vocab = ll.llama_model_get_vocab(self.model)
        self.sampler = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
        ll.llama_sampler_chain_add(self.sampler, ll.llama_sampler_init_greedy())

    def run(self, prompt: str, max_tokens: int, stop_at_end: bool = True) -> Sample:
        """Greedy decoding of ``prompt`` from an empty cache; ``stop_at_end=False`` goes on past
        an end-of-generation token, for a fixed length as llama.cpp's benchmarks decode."""
        ll, ctx = self.ll, self.ctx
        text = prompt.encode()
        buf = (ll.llama_token * N_CTX)()
        n_prompt = ll.llama_tokenize(self.vocab, text, len(text), buf, N_CTX, True, True)
        one = (ll.llama_token * 1)()
        ll.llama_memory_clear(ll.llama_get_memory(ctx), True)
        t0 = time.perf_counter()
        if ll.llama_decode(ctx, ll.llama_batch_get_one(buf, n_prompt)) != 0:
            raise RuntimeError("decode failed")
        first = last = 0.0
        n = 0
        for _ in range(max_tokens):
            token = ll.llama_sampler_sample(self.sampler, ctx, -1)
            if stop_at_end and ll.llama_vocab_is_eog(self.vocab, token):
                break
            n += 1
            last = time.perf_counter()
            if n == 1:
                first = last
            if n == max_tokens:
                break
            one[0] = token
            if ll.llama_decode(ctx, ll.llama_batch_get_one(one, 1)) != 0:
                raise RuntimeError("decode failed")
        return _sample(n, t0, first, last, "low-level loop")

    def close(self) -> None:
        self.ll.llama_sampler_free(self.sampler)
        self.ll.llama_free(self.ctx)
        self.ll.llama_model_free(self.model)


def low_level_loop(model_path: Path, threads: int, max_tokens: int) -> tuple[list[Sample], float]:
    """``ROUNDS`` runs of the low-level loop on :data:`PROMPT`, and its load time."""
    loop = LowLevelLoop(model_path, threads)
    try:
        return [loop.run(PROMPT, max_tokens) for _ in range(ROUNDS)], loop.load_s
    finally:
        loop.close()


def full_path(backend: LocalBackend, max_tokens: int) -> Sample:
    """Tokens as the app sees them: worker process, pipe, streamed ``Token`` events."""
    params = SamplingParams(temperature=0, max_tokens=max_tokens)
    sent = time.perf_counter()
    first = last = 0.0
    n = 0
    for event in backend.generate(GenerationRequest(prompt=PROMPT, params=params)):
        if isinstance(event, Token):
            n += 1
            last = time.perf_counter()
            if n == 1:
                first = last
        elif isinstance(event, Finished) and event.result.finish_reason not in ("stop", "length"):
            raise RuntimeError(f"benchmark run ended with {event.result.finish_reason}")
    return _sample(n, sent, first, last, "full app path")


ROUNDS = 5


def run(model_path: Path, max_tokens: int = 200) -> list[tuple[str, str]]:
    threads = default_threads()
    options = LoadOptions(n_ctx=N_CTX, n_threads=threads, reuse_prefix=False)
    started = time.perf_counter()
    backend = LocalBackend(model_path, options)
    loaded = backend.start()
    ours_load = time.perf_counter() - started
    try:
        full_path(backend, 8)  # warm-up
        ours: list[Sample] = []
        low: list[Sample] = []
        low_load = 0.0
        for _ in range(2):
            ours += [full_path(backend, max_tokens) for _ in range(ROUNDS)]
            samples, low_load = low_level_loop(model_path, threads, max_tokens)
            low += samples
    finally:
        backend.close()
    ours_tps = statistics.median(s.tokens_per_second for s in ours)
    low_tps = statistics.median(s.tokens_per_second for s in low)
    return [
        ("model", f"{model_display_name(model_path)} ({model_path.name})"),
        ("threads", str(threads)),
        ("tokens per run (ours / low-level)", f"{ours[0].tokens} / {low[0].tokens}"),
        ("decode tok/s, full path (median)", f"{ours_tps:.1f}"),
        ("decode tok/s, low-level loop (median)", f"{low_tps:.1f}"),
        ("ratio full path / low-level (target >= 0.90)", f"{ours_tps / low_tps:.3f}"),
        ("time to first token, full path (median)",
         f"{statistics.median(s.ttft_s for s in ours) * 1000:.1f} ms"),
        ("time to first token, low-level (median)",
         f"{statistics.median(s.ttft_s for s in low) * 1000:.1f} ms"),
        ("load, full path (spawn + load, wall)", f"{ours_load * 1000:.0f} ms"),
        ("load, inside the worker", f"{loaded.load_s * 1000:.0f} ms"),
        ("load, low-level (in process)", f"{low_load * 1000:.0f} ms"),
    ]
