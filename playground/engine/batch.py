"""Several generations on one loaded model at once, inside the worker process.

A comparison is many runs on one model. Decoding one sequence at a time leaves the CPU waiting on
memory: every token reads all the weights for a single row of activations. llama.cpp can decode
many sequences in one ``llama_decode`` call (one KV-cache sequence each), reading the weights
once per step for all of them, which is how ``llama-server --parallel`` gets its throughput.

How this module does it:

* The context is created with ``n_seq_max = N`` and one unified KV buffer of ``N × n_ctx``
  cells, so each sequence has the full window a run alone would have, and a copied prefix only
  tags existing cells with another sequence id instead of copying them.
* Requests wait in a queue; each free slot takes the next one (continuous batching). A new
  request first looks for the longest prefix of its prompt already in any slot's cache (an
  active run's, or what a finished run left behind) and copies it with ``llama_memory_seq_cp``;
  only the rest of its prompt is evaluated.
* Each step builds one batch: the last sampled token of every generating sequence, then prompt
  tokens of the sequences being admitted, up to ``n_batch``. One ``llama_decode``, then every
  sequence whose logits came out samples with its own sampler chain, built by what builds the
  single path's (llama-cpp-python's ``_init_sampler``: penalties, [grammar], top-k, typical,
  top-p, min-p, temperature, dist with the run's seed; greedy at temperature 0).
* Streaming, stop sequences (:class:`~playground.engine.stops.StopScanner`), log-probabilities,
  the cancel counter and per-request ``("cancel", req_id)`` messages work per sequence; a
  finished sequence frees its slot at once.

A seeded run decoded in a batch may differ in the last bits from the same run alone: the
matrix kernels see another number of rows, and the attention sees other sequences' cells
(masked) in the same buffer. Runs record ``"batched, N sequences"``; a single-sequence context
(``parallel = 1``) is the bit-exact path.
"""

from __future__ import annotations

import codecs
import os
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import TYPE_CHECKING, Any, Literal

from playground.engine.chain import build_chain
from playground.engine.stops import StopScanner
from playground.errors import ContextOverflowError, GenerationError, PlaygroundError
from playground.events import GenerationRequest

if TYPE_CHECKING:
    from playground.engine.worker import _Engine, _Outbox


def batching_label(n: int) -> str:
    """How a run's record names the batch it was decoded in (see :mod:`playground.provenance`)."""
    return f"batched, {n} sequence{'s' if n != 1 else ''}"


def load_parallel(llama_cpp: Any, kwargs: dict[str, Any], n: int) -> Any:
    """A ``llama_cpp.Llama`` whose context holds ``n`` sequences of ``kwargs["n_ctx"]`` each.

    ``Llama`` takes no ``n_seq_max``: it builds its context parameters from
    ``llama_context_default_params``, so that function answers with ``n`` sequences and a
    unified KV buffer for the duration of the load.
    """
    if not kwargs.get("n_ctx"):
        raise PlaygroundError("parallel sequences need a fixed context size (n_ctx > 0)")
    low = llama_cpp.llama_cpp
    original = low.llama_context_default_params

    def params() -> Any:
        p = original()
        p.n_seq_max = n
        p.kv_unified = True
        return p

    low.llama_context_default_params = params
    try:
        return llama_cpp.Llama(**{**kwargs, "n_ctx": kwargs["n_ctx"] * n})
    finally:
        low.llama_context_default_params = original


@dataclass
class _Sequence:
    """One request in a slot: what is in its KV sequence and how far it has come."""

    req_id: int
    request: GenerationRequest
    prompt: list[int]
    max_tokens: int
    slot: int
    chain: Any
    scanner: StopScanner
    outbox: _Outbox
    reused: int
    #: What the run's record keeps of its output constraint (empty without one).
    constraint: dict[str, Any]
    #: Tokens in this slot's KV sequence, by position.
    fed: list[int]
    #: Prompt tokens still to evaluate.
    pending: list[int]
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))
    #: A sequence admitted in the same step that will evaluate a longer shared prefix, and its
    #: length: this one copies it once it is in the cache instead of evaluating it too.
    wait: tuple[_Sequence, int] | None = None
    next_token: int | None = None
    generated: int = 0
    token_ids: list[int] = field(default_factory=list)
    first_at: float = 0.0
    last_at: float = 0.0


def run_batch(
    engine: _Engine,
    conn: Connection,
    cancel_upto: Synchronized[int],
    items: Sequence[tuple[int, GenerationRequest]],
) -> None:
    """Decode ``items`` together; every request ends with ``done`` or ``failed`` as alone.

    A ``shutdown`` message that arrives meanwhile cancels what is left and ends the process."""
    if _Batch(engine, conn, cancel_upto).run(items) == "shutdown":
        raise SystemExit(0)


class _Batch:
    def __init__(
        self, engine: _Engine, conn: Connection, cancel_upto: Synchronized[int]
    ) -> None:
        self.engine = engine
        self.lib = engine._lib
        self.conn = conn
        self.cancel_upto = cancel_upto
        self.ctx = engine.llm.ctx
        self.mem = self.lib.llama_get_memory(self.ctx)
        self.capacity = engine.options.n_batch
        # Every generating sequence adds one token a step, and a batch holds n_batch tokens.
        self.slots = max(1, min(engine.slots, self.capacity))
        self.label = batching_label(engine.slots)
        #: What each slot's KV sequence holds, by position (kept after a run, for its prefix).
        self.cache: list[list[int]] = [[] for _ in range(self.slots)]
        self.active: dict[int, _Sequence] = {}  # slot -> sequence
        self.cancelled: set[int] = set()
        self.shutdown = False

    # -- the loop ---------------------------------------------------------------------------

    def run(self, items: Sequence[tuple[int, GenerationRequest]]) -> Literal["done", "shutdown"]:
        queue = deque(items)
        self._clear()
        batch = self.lib.llama_batch_init(self.capacity, 0, 1)
        try:
            while queue or self.active:
                self._read_messages()
                while queue and len(self.active) < self.slots:
                    req_id, request = queue.popleft()
                    self._admit(req_id, request)
                if not self.active:
                    continue
                self._copy_awaited()
                outputs = self._fill(batch)
                if self.lib.llama_decode(self.ctx, batch) != 0:
                    raise GenerationError(
                        "llama.cpp could not decode the batch (the KV cache is full); run "
                        "fewer sequences at once or load the model with a larger context"
                    )
                for seq, idx in outputs:
                    self._sample(seq, idx)
                for seq in [s for s in self.active.values() if s.pending]:
                    if self._is_cancelled(seq.req_id):
                        self._finish(seq, "cancelled")
        except Exception as exc:
            message = exc if isinstance(exc, PlaygroundError) else GenerationError(
                f"generation failed: {exc}")
            for seq in list(self.active.values()):
                self._fail(seq.req_id, message)
                self._release(seq)
            for req_id, _ in queue:
                self._fail(req_id, message)
        finally:
            self.lib.llama_batch_free(batch)
            self._clear()
        return "shutdown" if self.shutdown else "done"

    def _clear(self) -> None:
        """An empty cache before and after: the single path keeps its own account of it."""
        self.lib.llama_memory_clear(self.mem, True)
        self.engine.llm.reset()  # type: ignore[no-untyped-call]
        self.cache = [[] for _ in range(self.slots)]

    def _read_messages(self) -> None:
        while self.conn.poll():
            message = self.conn.recv()
            if message[0] == "cancel":
                self.cancelled.add(int(message[1]))
            elif message[0] == "shutdown":
                self.shutdown = True

    def _is_cancelled(self, req_id: int) -> bool:
        return self.shutdown or req_id <= self.cancel_upto.value or req_id in self.cancelled

    def _fail(self, req_id: int, exc: PlaygroundError) -> None:
        self.conn.send(("failed", req_id, type(exc).__name__, str(exc)))

    # -- admission ----------------------------------------------------------------------------

    def _admit(self, req_id: int, request: GenerationRequest) -> None:
        """Put a request into a free slot, its cached prefix copied; or end it at once."""
        from playground.engine.worker import _Outbox

        engine = self.engine
        try:
            prompt_text = engine.render(request)
            tokens = engine.tokenize(prompt_text)
            grammar, constraint = engine._grammar(request)  # a bad grammar fails before "started"
        except PlaygroundError as exc:
            self._fail(req_id, exc)
            return
        n_ctx = engine.info["n_ctx"]
        if len(tokens) >= n_ctx:
            self._fail(req_id, ContextOverflowError(
                f"the prompt is {len(tokens):,} tokens but the context window holds "
                f"{n_ctx:,} (the model was trained for {engine.info['n_ctx_train']:,}); "
                "shorten the prompt or load the model with a larger context"))
            return
        params = request.params
        max_tokens = min(params.max_tokens, n_ctx - len(tokens))
        self.conn.send(("started", req_id, prompt_text, len(tokens), max_tokens,
                        max_tokens < params.max_tokens))
        slot, reused = self._place(tokens)
        turn_ends = engine.chat.stop if engine.chat is not None and request.messages else ()
        seq = _Sequence(
            req_id=req_id, request=request, prompt=tokens, max_tokens=max_tokens, slot=slot,
            chain=self._chain(request, grammar), reused=reused, constraint=constraint,
            scanner=StopScanner(params.stop + tuple(s for s in turn_ends if s not in params.stop)),
            outbox=_Outbox(self.conn, req_id), fed=tokens[:reused], pending=tokens[reused:],
        )
        self._await_longer_prefix(seq)
        self.cache[slot] = seq.fed
        self.active[slot] = seq
        if self._is_cancelled(req_id):
            self._finish(seq, "cancelled")

    def _await_longer_prefix(self, seq: _Sequence) -> None:
        """Requests admitted together often share a prompt (the samples of one cell): the
        first evaluates it, the others wait for it and copy it."""
        best, src = seq.reused, None
        for other in self.active.values():
            if other.pending and other.wait is None:
                n = common_prefix(other.prompt, seq.prompt, len(seq.prompt) - 1)
                if n > best:
                    best, src = n, other
        if src is not None:
            self.lib.llama_memory_seq_rm(self.mem, seq.slot, -1, -1)
            seq.wait, seq.reused = (src, best), 0
            seq.fed, seq.pending = [], list(seq.prompt)

    def _copy_awaited(self) -> None:
        for seq in self.active.values():
            if seq.wait is None:
                continue
            src, n = seq.wait
            if len(src.fed) < n and src.slot in self.active and self.active[src.slot] is src:
                continue  # still evaluating it
            seq.wait = None
            if self.cache[src.slot] is src.fed and len(src.fed) >= n:
                self.lib.llama_memory_seq_cp(self.mem, src.slot, seq.slot, 0, n)
                seq.fed, seq.pending, seq.reused = seq.prompt[:n], seq.prompt[n:], n
                self.cache[seq.slot] = seq.fed

    def _place(self, tokens: list[int]) -> tuple[int, int]:
        """A free slot for ``tokens`` and how many of them are already in its KV sequence.

        The longest cached prefix in any slot is copied (at least the last prompt token is
        always evaluated: its logits choose the first token)."""
        limit = len(tokens) - 1
        free = [s for s in range(self.slots) if s not in self.active]
        best_src, best = free[0], 0
        for src, cached in enumerate(self.cache):
            n = common_prefix(cached, tokens, limit)
            if n > best or (n == best and src in free and best_src not in free):
                best_src, best = src, n
        slot = best_src if best_src in free else free[0]
        lib = self.lib
        if slot == best_src:
            lib.llama_memory_seq_rm(self.mem, slot, best, -1)
        else:
            lib.llama_memory_seq_rm(self.mem, slot, -1, -1)
            if best:
                lib.llama_memory_seq_cp(self.mem, best_src, slot, 0, best)
        return slot, best

    def _chain(self, request: GenerationRequest, grammar: Any) -> Any:
        """The run's own sampler chain, built by what builds the single path's
        (llama-cpp-python's ``_init_sampler``), so the steps, their order and settings are the
        same, with this run's seed; ``grammar`` constrains this sequence alone. The returned
        ``LlamaSampler`` (for a plain greedy chain, the ``ArgmaxSampler`` of
        :mod:`playground.engine.chain` in its place) picks with ``sample``, owns the chain
        (``.sampler``) and frees it on ``close()``."""
        from playground.engine.worker import sampler_args

        params = request.params
        assert params.seed is not None, "the backend fixes the seed before sending"
        llm = self.engine.llm
        llm.set_seed(params.seed)  # the chain's dist step takes the seed set here
        return build_chain(llm, self.lib, grammar=grammar, **sampler_args(params))

    # -- one step -----------------------------------------------------------------------------

    def _fill(self, batch: Any) -> list[tuple[_Sequence, int]]:
        """This step's batch: one token per generating sequence, then prompt tokens."""
        n = 0
        outputs: list[tuple[_Sequence, int]] = []

        def add(seq: _Sequence, token: int, logits: bool) -> None:
            nonlocal n
            batch.token[n] = token
            batch.pos[n] = len(seq.fed)
            batch.n_seq_id[n] = 1
            batch.seq_id[n][0] = seq.slot
            batch.logits[n] = logits
            seq.fed.append(token)
            if logits:
                outputs.append((seq, n))
            n += 1

        for seq in self.active.values():
            if seq.next_token is not None:
                add(seq, seq.next_token, True)
                seq.next_token = None
        for seq in self.active.values():
            while seq.pending and seq.wait is None and n < self.capacity:
                token = seq.pending.pop(0)
                add(seq, token, not seq.pending)
        batch.n_tokens = n
        return outputs

    def _sample(self, seq: _Sequence, idx: int) -> None:
        """Choose the next token of ``seq`` from the logits at batch position ``idx``."""
        if self._is_cancelled(seq.req_id):
            self._finish(seq, "cancelled")
            return
        lib, engine = self.lib, self.engine
        token = int(seq.chain.sample(engine.llm._ctx, idx))
        if lib.llama_vocab_is_eog(engine.vocab, token):
            self._finish(seq, "stop")
            return
        seq.generated += 1
        seq.token_ids.append(token)
        seq.last_at = time.perf_counter()
        if seq.generated == 1:
            seq.first_at = seq.last_at
        crash_after = seq.request.crash_after_tokens
        if crash_after is not None and seq.generated >= crash_after:
            os.abort()
        piece = seq.decoder.decode(engine._piece(token))
        top_n = seq.request.logprobs
        logprob = engine._logprob(token, piece, top_n, idx) if top_n is not None else None
        shown = seq.scanner.feed(piece)
        if shown or logprob is not None:
            seq.outbox.token(shown, logprob)
        if seq.scanner.stopped:
            self._finish(seq, "stop")
        elif seq.generated >= seq.max_tokens:
            self._finish(seq, "length")
        else:
            seq.next_token = token

    def _finish(self, seq: _Sequence, finish: str) -> None:
        rest = seq.scanner.flush(seq.decoder.decode(b"", final=True))
        if rest:
            seq.outbox.token(rest, None)
        seq.outbox.flush()
        params = seq.request.params
        run = {
            "sampler_chain": self.engine._sampler_chain(params, seq.chain.sampler),
            "seed": params.seed,
            "reused_prompt_tokens": seq.reused,
            "batching": self.label,
            **seq.constraint,
        }
        decode_s = seq.last_at - seq.first_at if seq.generated > 1 else None
        self.conn.send(("done", seq.req_id, seq.scanner.text, finish, len(seq.prompt),
                        seq.generated, decode_s, run, seq.token_ids))
        self._release(seq)

    def _release(self, seq: _Sequence) -> None:
        """Free the slot; its cache stays for the prefix of a later request."""
        seq.chain.close()
        self.active.pop(seq.slot, None)
        seq.pending = []


def common_prefix(cached: list[int], tokens: list[int], limit: int) -> int:
    """How many of the first ``limit`` of ``tokens`` a cache holding ``cached`` already has."""
    n = 0
    for have, want in zip(cached, tokens[:limit], strict=False):
        if have != want:
            break
        n += 1
    return n
