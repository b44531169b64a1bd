"""A scripted model for tests of the window's widgets.

Widget tests (layout, shortcuts, error display, streaming into a text box, token colours, the
history of a run) need something that speaks the backend protocol, not a language model: a
real load and generation cost seconds each and make every such test wait on llama.cpp.
:class:`FakeBackend` speaks :class:`~playground.engine.backends.LocalBackend`'s protocol from
inside the test process: ``start()`` reports a :class:`LoadedModel` built from the file's real
GGUF header, ``generate()`` streams ``Started``, ``Token``... and ``Finished`` or ``Failed``
with a full :class:`Result`, ``preview()`` counts tokens, ``cancel()`` works from any thread.
What it says is decided by a :class:`Script`: deterministic text (drawn from the prompt's own
words, seeded like a sampler, or given outright), log-probabilities with alternatives, delays
between tokens, and failures on demand: a refused load, a worker that dies while loading, a
generation error or a crash after N tokens.

It is a :class:`LocalBackend` subclass because the window asks ``isinstance(..., LocalBackend)``
to tell a local model (token counts, crash reports, load settings) from a remote one. No worker
process is ever started: nothing of the parent class that talks to one is reached.

Tests where the model matters (a real load, real streaming speed, a native crash, replay) keep
the real backend and the ``model`` marker.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from playground.engine.backends import LoadedModel, LocalBackend, Preview
from playground.engine.gguf import read_gguf
from playground.engine.machine import machine_facts, request_record
from playground.engine.memory import check_fits
from playground.engine.options import LoadOptions
from playground.engine.stops import StopScanner
from playground.engine.streamed import RequestStream
from playground.errors import (
    ContextOverflowError,
    GenerationError,
    ModelLoadError,
    PlaygroundError,
    TemplateError,
    WorkerCrashed,
)
from playground.events import (
    Event,
    FinishReason,
    GenerationRequest,
    TokenLogprob,
)
from playground.prompts.chat import ChatTemplate

#: What the fake model writes when a prompt has no words to draw from.
FALLBACK_WORDS = ("the", "model", "says", "something", "short")
_PIECES = re.compile(r"\s*\S+|\s+")
_WORDS = re.compile(r"[^\W\d_]+")


def pieces_of(text: str) -> list[str]:
    """The fake tokenizer: a word with the spaces before it is one token."""
    return _PIECES.findall(text)


@dataclass(frozen=True)
class Script:
    """How the fake model behaves on every request after it is set."""

    #: The answer, streamed in :func:`pieces_of` pieces. None: ``length`` words drawn from the
    #: prompt, the same ones for the same prompt at temperature 0 or with the same seed.
    text: str | None = None
    #: Tokens before end-of-sequence for drawn text; None talks until ``max_tokens``.
    length: int | None = 24
    #: Pause before each token (a cancel is noticed during it).
    token_delay_s: float = 0.002
    load_delay_s: float = 0.0
    #: Loading fails with this message, as llama.cpp refusing the file would.
    load_error: str | None = None
    #: The worker dies while loading.
    crash_on_load: bool = False
    #: Generation fails with a GenerationError after this many tokens.
    fail_after: int | None = None
    #: The worker dies after this many tokens; the next request starts it again.
    crash_after: int | None = None
    #: Whether chat mode works (the model's own chat template from its GGUF header).
    chat: bool = True
    #: Control-token strings; None: the BOS and EOS tokens the GGUF header names.
    special_tokens: tuple[str, ...] | None = None
    warnings: tuple[str, ...] = ()
    #: The first token's candidates as (piece, probability), its own piece among them: when
    #: given (and log-probabilities are asked for), the first token reports these.
    first_top: tuple[tuple[str, float], ...] = ()


@dataclass
class FakeEngine:
    """Opens fake backends for the window (``AppContext(opener=engine.open)``) and holds the
    script each model follows, changeable at any time."""

    default: Script = field(default_factory=Script)
    scripts: dict[str, Script] = field(default_factory=dict)
    #: every backend opened, in order
    backends: list[FakeBackend] = field(default_factory=list)
    #: every request generated, in order (read after the run)
    requests: list[GenerationRequest] = field(default_factory=list)
    _vocab: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, script: Script, model: str | Path | None = None) -> None:
        """Set the script of one model, or of every model without one of its own."""
        if model is None:
            self.default = script
        else:
            self.scripts[str(model)] = script

    def script_for(self, model: str) -> Script:
        return self.scripts.get(model, self.default)

    def open(self, path: Path, options: LoadOptions) -> FakeBackend:
        backend = FakeBackend(path, options, self)
        self.backends.append(backend)
        return backend

    def token_id(self, piece: str) -> int:
        with self._lock:
            return self._vocab.setdefault(piece, len(self._vocab) + 1)

    def piece(self, token_id: int) -> str:
        with self._lock:
            for piece, known in self._vocab.items():
                if known == token_id:
                    return piece
        raise GenerationError(f"token id {token_id} is not in the vocabulary")


class FakeBackend(LocalBackend):
    """A local model that follows a :class:`Script` instead of running llama.cpp."""

    def __init__(
        self,
        model_path: str | Path,
        options: LoadOptions | None,
        engine: FakeEngine,
        *,
        auto_restart: bool = True,
    ) -> None:
        # The parent's constructor would start hashing the file and prepare a worker process;
        # the attributes the window reads are set here instead.
        self.model_path = str(model_path)
        self.options = options or LoadOptions()
        self.auto_restart = auto_restart
        self.info = read_gguf(self.model_path)  # a bad file is refused as the real one is
        self.n_ctx = self.options.n_ctx or self.info.context_length or 4096
        check_fits(self.info, self.n_ctx, self.options.n_gpu_layers,
                   n_batch=self.options.n_batch, flash_attn=self.options.flash_attn)
        self.engine = engine
        self.state = "unloaded"
        self.loaded: LoadedModel | None = None
        self.last_crash: WorkerCrashed | None = None
        self.loads = 0
        self._chat: ChatTemplate | None = None
        self._cancel_event = threading.Event()
        self._busy = threading.Lock()
        self._active = False

    @property
    def script(self) -> Script:
        return self.engine.script_for(self.model_path)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> LoadedModel:
        if self.state == "ready" and self.loaded is not None:
            return self.loaded
        script = self.script
        self.state = "loading"
        started = time.perf_counter()
        time.sleep(script.load_delay_s)
        name = Path(self.model_path).name
        if script.crash_on_load:
            self.state = "crashed"
            raise ModelLoadError(f"{name}: the model worker died while loading: it was ended "
                                 "by SIGSEGV (a crash inside llama.cpp)")
        if script.load_error is not None:
            self.state = "unloaded"
            raise ModelLoadError(f"{name}: {script.load_error}")
        warnings = list(script.warnings)
        self._chat = None
        if script.chat:
            try:
                self._chat = ChatTemplate.load(self.info.chat_template, self.info.bos_token or "",
                                               self.info.eos_token or "")
            except TemplateError as exc:
                warnings.append(f"chat mode is unavailable ({exc}); raw completion works as usual")
        self.loads += 1
        self.loaded = LoadedModel(
            info=self.info,
            options=self.options,
            n_ctx=self.n_ctx,
            n_ctx_train=self.info.context_length or self.n_ctx,
            n_threads=self.options.n_threads or 1,
            gpu_offload_supported=False,
            chat_available=self._chat is not None,
            load_s=time.perf_counter() - started,
            warnings=tuple(warnings),
            special_tokens=(script.special_tokens if script.special_tokens is not None else
                            tuple(t for t in (self.info.bos_token, self.info.eos_token) if t)),
            engine={"engine": "scripted", "n_ctx": self.n_ctx,
                    "n_threads": self.options.n_threads or 1,
                    "n_batch": self.options.n_batch, "flash_attn": self.options.flash_attn,
                    "n_gpu_layers": self.options.n_gpu_layers,
                    "prefix_reuse": self.options.reuse_prefix},
        )
        self.state = "ready"
        return self.loaded

    def restart(self) -> LoadedModel:
        self.close()
        return self.start()

    def close(self) -> None:
        self.cancel()
        self.state = "unloaded"

    @property
    def pid(self) -> int | None:
        return None

    def model_sha256(self) -> str | None:
        return None

    # -- requests ---------------------------------------------------------------------------

    def cancel(self) -> None:
        if self._active:
            self._cancel_event.set()

    def _ready(self) -> None:
        if self.state == "crashed" and not self.auto_restart:
            raise WorkerCrashed("the model worker crashed; restart the model to continue"
                                + (f" ({self.last_crash})" if self.last_crash else ""))
        if self.state != "ready":
            self.start()

    def _render(self, request: GenerationRequest) -> str:
        if request.messages is None:
            return request.prompt or ""
        if self._chat is None:
            raise TemplateError("this model has no usable chat template; send a raw prompt "
                                "instead")
        return self._chat.render(request.messages)

    def _count(self, text: str) -> int:
        return 1 + len(pieces_of(text))  # and the BOS token

    def preview(self, request: GenerationRequest) -> Preview:
        if not self._busy.acquire(blocking=False):
            raise GenerationError("this model is busy with another request; cancel it first")
        try:
            self._ready()
            prompt = self._render(request)
            return Preview(prompt=prompt, tokens=self._count(prompt), n_ctx=self.n_ctx)
        finally:
            self._busy.release()

    def perplexity(self, request: GenerationRequest, reference: str) -> float:
        """A fixed function of the reference: the same text always scores the same."""
        self._ready()
        steps = _draws(self._render(request) + reference, 0, len(pieces_of(reference)) or 1)
        return math.exp(-sum(math.log(p) for p in steps) / len(steps))

    def token_pieces(self, token_ids: list[int]) -> list[str]:
        return [self.engine.piece(i) for i in token_ids]

    def record(self, request: GenerationRequest, run: dict[str, Any] | None) -> dict[str, Any]:
        record: dict[str, Any] = {"backend": "local", **machine_facts()}
        if self.loaded is not None:
            record.update(self.loaded.engine)
        record.update(model_file=Path(self.model_path).name, model_size=self.info.file_size,
                      model_sha256=None, request=request_record(request))
        record.update(run or {})
        return record

    def generate(self, request: GenerationRequest) -> Iterator[Event]:
        if not self._busy.acquire(blocking=False):
            raise GenerationError("this model is busy with another request; cancel it first")
        self._cancel_event.clear()
        self._active = True
        try:
            self.engine.requests.append(request)
            yield from self._generate(request)
        finally:
            self._active = False
            self._busy.release()

    def _generate(self, request: GenerationRequest) -> Iterator[Event]:
        """The worker's side played in process: its messages are read back by the parent's
        own :class:`RequestStream`, so events and Results are made as the real backend's."""
        request = replace(request, params=request.params.with_seed())
        params = request.params
        script = self.script
        self._ready()  # a model that cannot load raises, as the real backend does
        assert self.loaded is not None
        run = RequestStream(request, 0, time.perf_counter(), self.loaded.summary, self.record)
        token_ids: list[int] = []
        first = last = 0.0

        def failed(error: PlaygroundError) -> Iterator[Event]:
            yield from run.events(("failed", 0, type(error).__name__, str(error)))

        try:
            rendered = self._render(request)
            prompt_tokens = self._count(rendered)
            if prompt_tokens >= self.n_ctx:
                raise ContextOverflowError(
                    f"the prompt is {prompt_tokens:,} tokens but the context window holds "
                    f"{self.n_ctx:,}; shorten the prompt or load the model with a larger context"
                )
        except PlaygroundError as exc:
            yield from failed(exc)
            return
        max_tokens = min(params.max_tokens, self.n_ctx - prompt_tokens)
        yield from run.events(("started", 0, rendered, prompt_tokens, max_tokens,
                               max_tokens < params.max_tokens))

        answer = self._answer(script, rendered, params.seed or 0, params.temperature, max_tokens)
        draws = _draws(rendered, params.seed if params.temperature > 0 else 0, len(answer))
        crash_after = request.crash_after_tokens or script.crash_after
        scanner = StopScanner(params.stop)
        finish: FinishReason = "stop"  # the script's answer ends in end-of-sequence
        for n, piece in enumerate(answer, start=1):
            if n > max_tokens:
                finish = "length"
                break
            if self._cancel_event.wait(script.token_delay_s):
                finish = "cancelled"
                break
            if crash_after is not None and n >= crash_after:
                crash = WorkerCrashed("the model worker stopped unexpectedly: it was ended by "
                                      "SIGABRT (llama.cpp aborted)", -6)
                self.last_crash = crash
                self.state = "crashed"
                yield run.end(crash)
                return
            if script.fail_after is not None and n > script.fail_after:
                yield from failed(GenerationError(
                    f"generation failed after {script.fail_after} tokens"))
                return
            last = time.perf_counter()
            first = first or last
            token_ids.append(self.engine.token_id(piece))
            logprob = (_logprob(piece, draws[n - 1], answer, n, request.logprobs)
                       if request.logprobs is not None else None)
            if logprob is not None and n == 1 and script.first_top:
                logprob = _scripted_logprob(piece, script.first_top, request.logprobs or 0)
            shown = scanner.feed(piece)
            if shown or logprob is not None:
                yield from run.events(("tokens", 0, [(shown, logprob)]))
            if scanner.stopped:
                break
        else:
            if len(answer) >= max_tokens:
                finish = "length"
        rest = scanner.flush()
        if rest:
            yield from run.events(("tokens", 0, [(rest, None)]))
        if scanner.stopped:
            finish = "stop"
        how: dict[str, Any] = {"seed": params.seed, "sampler_chain": [],
                               "reused_prompt_tokens": 0, "batching": "single"}
        yield from run.events(("done", 0, "".join(run.pieces), finish, prompt_tokens,
                               len(token_ids), max(last - first, 1e-6), how, token_ids))

    @staticmethod
    def _answer(
        script: Script, prompt: str, seed: int, temperature: float, max_tokens: int
    ) -> list[str]:
        if script.text is not None:
            return pieces_of(script.text)
        words = _WORDS.findall(prompt) or list(FALLBACK_WORDS)
        rng = random.Random(f"{prompt}\0{seed if temperature > 0 else 0}")
        # One more than the budget is enough to tell "length" from an answer that ended.
        count = min(script.length if script.length is not None else max_tokens, max_tokens + 1)
        return [" " + rng.choice(words) for _ in range(count)]


def _draws(text: str, seed: int | None, count: int) -> list[float]:
    """The chosen token's probability at each step: deterministic, between 0.4 and 0.95 (so
    it stays the most likely of its alternatives, as at temperature 0)."""
    rng = random.Random(f"{text}\0{seed}\0p")
    return [0.4 + 0.55 * rng.random() for _ in range(count)]


def _logprob(piece: str, p: float, answer: Sequence[str], n: int, top_n: int) -> TokenLogprob:
    """The chosen piece first, then other pieces of the answer sharing what is left."""
    top: list[tuple[str, float]] = [(piece, math.log(p))]
    rest = 1.0 - p
    near = [*answer[n:n + 2 * top_n], *answer[max(0, n - 2 * top_n):n]]
    others = [a for a in dict.fromkeys(near) if a != piece]
    others += [f" {w}" for w in FALLBACK_WORDS if f" {w}" not in others and f" {w}" != piece]
    for other in others[: max(0, top_n - 1)]:
        rest /= 2
        top.append((other, math.log(rest)))
    return TokenLogprob(piece, math.log(p), tuple(top[:top_n]))


def _scripted_logprob(
    piece: str, top: Sequence[tuple[str, float]], top_n: int
) -> TokenLogprob:
    alternatives = tuple((p, math.log(q)) for p, q in sorted(top, key=lambda t: -t[1]))
    own = dict(top).get(piece)
    chosen = math.log(own) if own else alternatives[0][1]
    return TokenLogprob(piece, chosen, alternatives[:top_n])
