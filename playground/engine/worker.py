"""The child process that owns one ``llama_cpp.Llama``.

It runs in a ``spawn``-ed process so that a native abort, a segfault or an OOM kill in llama.cpp
ends this process only. The parent (:mod:`playground.engine.backends`) talks to it over a pipe with
plain tuples and checks a shared cancel counter it can set at any moment.

Messages parent → child: ``("generate", req_id, request)``, ``("preview", req_id, request)``,
``("pieces", req_id, token_ids)``, ``("batch", first_id, [(req_id, request), ...])`` (decoded
together, see :mod:`playground.engine.batch`), ``("cancel", req_id)`` (one request of a batch),
``("shutdown",)``. Child → parent: ``("ready", info)``,
``("load_failed", kind, message)``, ``("started", req_id, ...)``,
``("tokens", req_id, [(text, logprob), ...])``,
``("done", req_id, ..., run_record, token_ids)``, ``("failed", req_id, kind, message)``,
``("preview", req_id, prompt, n_tokens)``, ``("pieces", req_id, texts)``.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import signal
import sys
import time
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from playground.engine.chain import logits_row, step_names
from playground.engine.decode import decode_tokens
from playground.engine.options import LoadOptions, default_threads
from playground.engine.stops import StopScanner
from playground.errors import (
    ContextOverflowError,
    GenerationError,
    ModelLoadError,
    PlaygroundError,
    TemplateError,
)
from playground.events import GenerationRequest, TokenLogprob
from playground.prompts.chat_formats import model_chat, no_template_message
from playground.sampling import SamplingParams


def worker_main(
    conn: Connection,
    cancel_upto: Synchronized[int],
    model_path: str,
    options: LoadOptions,
    stderr_path: str | None,
) -> None:
    """Entry point of the child process."""
    # Ctrl-C in a terminal reaches the whole process group; the parent turns it into a cancel.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if stderr_path:
        # llama.cpp writes to fd 2 directly; keep it in a file the parent can quote after a crash.
        fd = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 2)
        os.close(fd)
    try:
        engine = _Engine(model_path, options)
    except PlaygroundError as exc:
        conn.send(("load_failed", type(exc).__name__, str(exc)))
        return
    except Exception as exc:
        conn.send(("load_failed", "ModelLoadError", f"llama.cpp could not load the model: {exc}"))
        return
    conn.send(("ready", engine.info))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        kind = message[0]
        if kind == "shutdown":
            return
        if kind in ("generate", "batch"):
            _generation(engine, conn, cancel_upto, message)
        elif kind == "perplexity":
            _, req_id, request, continuation = message
            try:
                ppl, n = engine.perplexity(engine.render(request), continuation)
                conn.send(("perplexity", req_id, ppl, n))
            except PlaygroundError as exc:
                conn.send(("failed", req_id, type(exc).__name__, str(exc)))
            except Exception as exc:
                conn.send(("failed", req_id, "GenerationError", f"perplexity failed: {exc}"))
        elif kind == "pieces":
            _, req_id, token_ids = message
            pieces = [engine._piece(int(t)).decode("utf-8", "replace") for t in token_ids]
            conn.send(("pieces", req_id, pieces))
        elif kind == "preview":
            _, req_id, request = message
            try:
                prompt = engine.render(request)
                conn.send(("preview", req_id, prompt, len(engine.tokenize(prompt))))
            except PlaygroundError as exc:
                conn.send(("failed", req_id, type(exc).__name__, str(exc)))


def _generation(
    engine: _Engine, conn: Connection, cancel_upto: Synchronized[int], message: tuple[Any, ...]
) -> None:
    """One request, or several decoded together (:mod:`playground.engine.batch`)."""
    if message[0] == "batch":
        from playground.engine.batch import run_batch

        run_batch(engine, conn, cancel_upto, message[2])
    else:
        engine.generate(conn, cancel_upto, message[1], message[2])


def install_log_filter(llama_cpp: Any, fd: int | None) -> None:
    """Send llama.cpp's warnings and errors to ``fd`` (None: nowhere), and drop its debug chatter.

    The fd is duplicated first: llama-cpp-python points fd 2 at /dev/null while it loads a
    model quietly, which would otherwise swallow the one line that says why a load failed.
    The callback lives as long as the process (see :func:`_for_the_process`).
    """
    target = os.dup(fd) if fd is not None else None
    write = os.write  # module globals are gone by the time a context is freed at exit
    last_level = [0]

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def _log(level: int, text: bytes, _user_data: object) -> None:
        if level == 5:  # GGML_LOG_LEVEL_CONT continues the previous line
            level = last_level[0]
        else:
            last_level[0] = level
        if target is not None and level in (3, 4):  # GGML_LOG_LEVEL_WARN, GGML_LOG_LEVEL_ERROR
            write(target, text)

    llama_cpp.llama_log_set(_for_the_process(_log), ctypes.c_void_p(0))


def _for_the_process(callback: Any) -> Any:
    """``callback``, never freed.

    llama.cpp keeps a callback's address for the life of the process and logs while it frees a
    context. At interpreter exit, objects go in no set order: a model freed after its callback
    called freed memory and the process died with SIGSEGV. A callback or two a process is a
    small price for an exit that cannot crash.
    """
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(callback))
    return callback


def install_abort_reporter(fd: int) -> None:
    """Write the message of a native llama.cpp abort (a failed ``GGML_ASSERT`` names the source
    line and the condition) to ``fd`` before the process dies.

    ggml prints it to stderr, which llama-cpp-python points at /dev/null during a quiet load,
    and then starts a debugger for a backtrace. With a callback it does neither and aborts right
    after it returns. The callback lives as long as the process.
    """
    from llama_cpp._ggml import libggml

    target = os.dup(fd)
    callback_type = ctypes.CFUNCTYPE(None, ctypes.c_char_p)

    write = os.write

    def _report(message: bytes | None) -> None:
        write(target, (message or b"llama.cpp aborted") + b"\n")

    callback = _for_the_process(callback_type(_report))
    setter = libggml.ggml_set_abort_callback
    setter.argtypes = [callback_type]
    setter.restype = ctypes.c_void_p
    setter(callback)


class _UnusedChatFormatter:
    """Stands in for llama-cpp-python's chat formatter, which this process never calls."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def to_chat_handler(self) -> None:
        return None


class _Engine:
    """Generation on one loaded model; lives only inside the worker process."""

    def __init__(self, model_path: str, options: LoadOptions) -> None:
        started = time.perf_counter()
        import llama_cpp
        import llama_cpp.llama_chat_format

        # Chat templates render in our own bounded sandbox (playground.prompts.chat).
        # llama-cpp-python would also compile every template in the file at load, outside any
        # budget: a syntax error would then block raw completion, and constant folding of
        # `9 ** 999999999` would hang the load. Its copy is never used here, so it is never built.
        llama_cpp.llama_chat_format.Jinja2ChatFormatter = _UnusedChatFormatter  # type: ignore[misc,assignment]
        self._lib = llama_cpp
        install_log_filter(llama_cpp, 2)
        install_abort_reporter(2)
        self.options = options
        kwargs: dict[str, Any] = {
            "model_path": model_path,
            "n_ctx": options.n_ctx,
            "n_gpu_layers": options.n_gpu_layers,
            "n_batch": options.n_batch,
            "flash_attn": options.flash_attn,
            "verbose": False,
        }
        threads = options.n_threads or default_threads()
        kwargs["n_threads"] = threads
        kwargs["n_threads_batch"] = threads
        try:
            if options.parallel <= 1:
                self.llm = llama_cpp.Llama(**kwargs)
            else:
                from playground.engine.batch import load_parallel

                self.llm = load_parallel(llama_cpp, kwargs, options.parallel)
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"llama.cpp could not load the model: {exc}") from exc
        #: KV sequences the context holds; each has ``n_ctx`` of its own.
        self.slots = max(1, options.parallel)
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        self.n_vocab = self.llm.n_vocab()
        self._piece_buf = ctypes.create_string_buffer(256)
        self._scratch: Any = None  # numpy's buffer for log-probabilities, made on first use
        warnings: list[str] = []
        self.chat_setup = model_chat(
            self.llm.metadata.get("tokenizer.chat_template"),
            options.chat_format,
            self._token_text(self.llm.token_bos()),
            self._token_text(self.llm.token_eos()),
            strip_bos=bool(llama_cpp.llama_vocab_get_add_bos(self.vocab)),
        )
        self.chat = self.chat_setup.template
        chat_error = self.chat_setup.error
        if chat_error is not None:
            warnings.append(
                f"chat mode is unavailable ({chat_error}); raw completion works as usual"
            )
        control = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED
        special = sorted(
            {
                self._token_text(i)
                for i in range(self.n_vocab)
                if llama_cpp.llama_vocab_get_attr(self.vocab, i) & control
            }
            - {""}
        )
        self.info: dict[str, Any] = {
            "engine": self._engine_record(llama_cpp, options),
            "n_ctx": self.llm.n_ctx() // self.slots,
            "n_ctx_train": self.llm._model.n_ctx_train(),
            "n_threads": self.llm.context_params.n_threads,
            "n_gpu_layers": options.n_gpu_layers,
            "gpu_offload_supported": bool(llama_cpp.llama_supports_gpu_offload()),
            "chat_template_error": chat_error,
            "special_tokens": special,
            "warnings": warnings,
            "load_s": time.perf_counter() - started,
            "llama_cpp_version": getattr(llama_cpp, "__version__", "unknown"),
        }

    def _engine_record(self, llama_cpp: Any, options: LoadOptions) -> dict[str, Any]:
        """The load-time half of every run's reproducibility record (see
        :mod:`playground.provenance`): what this process computes with, as llama.cpp has it."""
        from playground.engine.machine import cpu_path, text_sha256

        params = self.llm.context_params
        system_info = bytes(llama_cpp.llama_print_system_info()).decode("utf-8", "replace")
        return {
            "llama_cpp_python": getattr(llama_cpp, "__version__", "unknown"),
            "system_info": " ".join(system_info.split()),
            "cpu_path": cpu_path(system_info),
            "n_threads": int(params.n_threads),
            "n_threads_batch": int(params.n_threads_batch),
            "n_batch": int(params.n_batch),
            "n_ubatch": int(params.n_ubatch),
            # As llama.cpp's context was told, not as asked: the two could part in a later version.
            "flash_attn": int(params.flash_attn_type) == llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED,
            "type_k": _GGML_TYPES.get(int(params.type_k), f"type {int(params.type_k)}"),
            "type_v": _GGML_TYPES.get(int(params.type_v), f"type {int(params.type_v)}"),
            # Per sequence: what one run had room for, and what a replay loads.
            "n_ctx": int(self.llm.n_ctx()) // max(1, options.parallel),
            "n_gpu_layers": options.n_gpu_layers,
            "chat_template_sha256": text_sha256(self.chat_setup.source),
            "chat_format": self.chat_setup.format,
            "prefix_reuse": options.reuse_prefix,
        }

    def _sampler_chain(self, params: SamplingParams, chain: Any = None) -> list[dict[str, Any]]:
        """The sampler chain llama.cpp is running, step by step in its order, each step with the
        settings it was built from. Names come from llama.cpp itself, so a change in how
        llama-cpp-python assembles the chain shows up in the record. ``chain``: another chain
        than the single path's (a batched sequence's own)."""
        lib = self._lib
        if chain is None:
            sampler = getattr(self.llm, "_sampler", None)
            chain = getattr(sampler, "sampler", None)
        if chain is None:
            return []
        settings: dict[str, dict[str, Any]] = {
            "penalties": {
                "last_n": self.llm.last_n_tokens_size,
                "repeat": params.repeat_penalty,
                "frequency": params.frequency_penalty,
                "presence": params.presence_penalty,
            },
            "top-k": {"k": params.top_k},
            "typical": {"p": 1.0},
            "top-p": {"p": params.top_p},
            "min-p": {"p": params.min_p},
            "temp": {"t": params.temperature},
            "dist": {"seed": params.seed},
        }
        steps = []
        for name in step_names(lib, chain):
            active = not name.startswith("?")
            name = name.lstrip("?")
            steps.append({"name": name, **settings.get(name, {}),
                          **({} if active else {"inactive": True})})
        return steps

    # -- tokens -----------------------------------------------------------------------------

    def _piece(self, token: int) -> bytes:
        n = self._lib.llama_token_to_piece(self.vocab, token, self._piece_buf, 256, 0, False)
        if n < 0:
            buf = ctypes.create_string_buffer(-n)
            n = self._lib.llama_token_to_piece(self.vocab, token, buf, -n, 0, False)
            return buf.raw[:n]
        return self._piece_buf.raw[:n]

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return str(self.llm._model.token_get_text(token))

    def tokenize(self, text: str) -> list[int]:
        # special=True: a rendered chat template spells its control tokens as text.
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def render(self, request: GenerationRequest) -> str:
        if request.messages is None:
            return request.prompt or ""
        if self.chat is None:
            raise TemplateError(no_template_message(self.info["chat_template_error"]))
        return self.chat.render(request.messages)

    # -- generation -------------------------------------------------------------------------

    def generate(
        self,
        conn: Connection,
        cancel_upto: Synchronized[int],
        req_id: int,
        request: GenerationRequest,
    ) -> None:
        try:
            self._generate(conn, cancel_upto, req_id, request)
        except PlaygroundError as exc:
            conn.send(("failed", req_id, type(exc).__name__, str(exc)))
        except Exception as exc:
            conn.send(("failed", req_id, "GenerationError", f"generation failed: {exc}"))

    def _generate(
        self,
        conn: Connection,
        cancel_upto: Synchronized[int],
        req_id: int,
        request: GenerationRequest,
    ) -> None:
        params = request.params
        prompt = self.render(request)
        tokens = self.tokenize(prompt)
        n_ctx = self.info["n_ctx"]
        if len(tokens) >= n_ctx:
            raise ContextOverflowError(
                f"the prompt is {len(tokens):,} tokens but the context window holds "
                f"{n_ctx:,} (the model was trained for {self.info['n_ctx_train']:,}); "
                "shorten the prompt or load the model with a larger context"
            )
        room = n_ctx - len(tokens)
        max_tokens = min(params.max_tokens, room)
        clipped = max_tokens < params.max_tokens
        grammar, output_record = self._grammar(request)  # a bad grammar fails before "started"
        conn.send(("started", req_id, prompt, len(tokens), max_tokens, clipped))

        assert params.seed is not None, "the backend fixes the seed before sending"
        self.llm.set_seed(params.seed)
        if not self.options.reuse_prefix:
            self.llm.reset()  # type: ignore[no-untyped-call]
        reused = self._evaluate_all_but_last(tokens)
        token_ids: list[int] = []
        turn_ends = self.chat.stop if self.chat is not None and request.messages else ()
        scanner = StopScanner(params.stop + tuple(s for s in turn_ends if s not in params.stop))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        generated = 0
        finish = "length"
        lib, vocab = self._lib, self.vocab
        want_logprobs = request.logprobs is not None
        crash_after = request.crash_after_tokens
        outbox = _Outbox(conn, req_id)
        first_at = last_at = 0.0

        for token in decode_tokens(self.llm, lib, tokens, grammar=grammar,
                                   **sampler_args(params)):
            if cancel_upto.value >= req_id:
                finish = "cancelled"
                break
            if lib.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            generated += 1
            token_ids.append(int(token))
            if generated == 1:
                first_at = time.perf_counter()
            last_at = time.perf_counter()
            if crash_after is not None and generated >= crash_after:
                os.abort()
            piece = decoder.decode(self._piece(token))
            logprob = self._logprob(token, piece, request.logprobs) if want_logprobs else None
            shown = scanner.feed(piece)
            if shown or logprob is not None:
                outbox.token(shown, logprob)
            if scanner.stopped:
                finish = "stop"
                break
            if generated >= max_tokens:
                break
        # What was held back as a possible stop-sequence prefix goes out now, so that the result
        # text is exactly the concatenation of the streamed pieces.
        rest = scanner.flush(decoder.decode(b"", final=True))
        if rest:
            outbox.token(rest, None)
        outbox.flush()
        text = scanner.text
        # Decode speed is timed here, at the source: tokens reach the parent in batches.
        decode_s = last_at - first_at if generated > 1 else None
        run = {
            # decode_tokens built its sampler chain when the loop started; it is read once here.
            "sampler_chain": self._sampler_chain(params),
            "seed": params.seed,
            "reused_prompt_tokens": reused,
            "batching": "single",
            **output_record,
        }
        conn.send(("done", req_id, text, finish, len(tokens), generated, decode_s, run, token_ids))

    def _grammar(self, request: GenerationRequest) -> tuple[Any, dict[str, Any]]:
        """The grammar the sampler enforces for the request's output constraint (None without
        one), and what the run's record keeps of it."""
        if request.constraint is None:
            return None, {}
        from playground.engine.constraints import constraint_record, llama_grammar

        grammar, gbnf = llama_grammar(self._lib, self.vocab, request.constraint)
        return grammar, {"output_constraint": constraint_record(request.constraint, gbnf)}

    def _evaluate_all_but_last(self, tokens: list[int]) -> int:
        """Evaluate the prompt up to its last token, reusing whatever prefix is cached.

        llama-cpp-python re-evaluates the last prompt token on its own when the rest is
        cached, but evaluates a fresh prompt in one batch. The two paths give logits that
        differ in the last bits (flash attention takes another kernel for a single token),
        enough to change what a seeded sampler draws at a high temperature: the first run
        after a load would differ from every repeat. Evaluating the last token alone every
        time makes a fixed seed repeat exactly. (After another prompt that shares only part of
        this one, the reused part was computed in other batches, which can move the last bits
        again; ``reuse_prefix=False`` repeats exactly in every case, at the cost of the reuse.)
        Returns how many prompt tokens came from the cache.
        """
        from playground.engine.batch import common_prefix

        cached = self.llm._input_ids[: self.llm.n_tokens].tolist()
        prefix = common_prefix(cached, tokens, len(tokens) - 1)
        if prefix < len(tokens) - 1:
            self.llm.n_tokens = prefix
            self.llm.eval(tokens[prefix:-1])
        return prefix

    def perplexity(self, prompt: str, continuation: str) -> tuple[float, int]:
        """Perplexity of ``continuation`` as the model's next words after ``prompt``.

        One forward pass over prompt + continuation with logits kept only where a continuation
        token is predicted; no sampling. The KV cache is cleared, so the next generation
        re-evaluates its prompt.
        """
        import numpy as np

        lib = self._lib
        head = self.tokenize(prompt)
        tail = list(self.llm.tokenize(continuation.encode("utf-8"), add_bos=False, special=False))
        if not tail:
            raise GenerationError("the reference text is empty: perplexity is not defined")
        tokens = head + tail
        n_ctx = self.info["n_ctx"]
        if len(tokens) > n_ctx:
            raise ContextOverflowError(
                f"prompt and reference are {len(tokens):,} tokens but the context window holds "
                f"{n_ctx:,}"
            )
        self.llm.reset()  # type: ignore[no-untyped-call]
        lib.llama_memory_clear(lib.llama_get_memory(self.llm.ctx), True)
        n_batch = self.options.n_batch
        batch = lib.llama_batch_init(n_batch, 0, 1)
        first = len(head) - 1  # logits at position i predict token i + 1
        nll = 0.0
        try:
            for start in range(0, len(tokens), n_batch):
                chunk = tokens[start : start + n_batch]
                batch.n_tokens = len(chunk)
                for j, token in enumerate(chunk):
                    pos = start + j
                    batch.token[j] = token
                    batch.pos[j] = pos
                    batch.n_seq_id[j] = 1
                    batch.seq_id[j][0] = 0
                    batch.logits[j] = first <= pos < len(tokens) - 1
                if lib.llama_decode(self.llm.ctx, batch) != 0:
                    raise GenerationError("llama.cpp could not evaluate the reference")
                for j in range(len(chunk)):
                    if not batch.logits[j]:
                        continue
                    logits = logits_row(lib, self.llm.ctx, j, self.n_vocab).astype(np.float64)
                    peak = logits.max()
                    log_z = peak + np.log(np.exp(logits - peak).sum())
                    nll -= float(logits[tokens[start + j + 1]] - log_z)
        finally:
            lib.llama_batch_free(batch)
            self.llm.reset()  # type: ignore[no-untyped-call]
        return float(np.exp(nll / len(tail))), len(tail)

    def _logprob(self, token: int, piece: str, top_n: int | None, at: int = -1) -> TokenLogprob:
        """``at``: the batch position whose logits chose ``token`` (-1: the last one)."""
        import numpy as np

        logits = logits_row(self._lib, self.llm.ctx, at, self.n_vocab)
        peak = float(logits.max())
        # One buffer for every token: vocabulary-sized temporaries, made and freed each token,
        # have the allocator return memory to the system and fault it in again, and returning
        # it interrupts llama.cpp's other threads (measured: the logprob path went from about
        # 3.5 % to 2.5 % slower than none, for a 49k vocabulary).
        if self._scratch is None:
            self._scratch = np.empty(self.n_vocab, dtype=logits.dtype)
        np.subtract(logits, peak, out=self._scratch)
        log_z = peak + float(np.log(np.exp(self._scratch, out=self._scratch).sum()))
        chosen = float(logits[token]) - log_z
        top: tuple[tuple[str, float], ...] = ()
        if top_n:
            idx = _top_indices(logits, top_n)
            top = tuple(
                (self._piece(int(i)).decode("utf-8", errors="replace"), float(logits[i]) - log_z)
                for i in idx
            )
        return TokenLogprob(piece, chosen, top)


def sampler_args(params: SamplingParams) -> dict[str, Any]:
    """The sampling settings as llama-cpp-python takes them: the single path's token loop
    and every batched sequence's own chain are built from the same words."""
    return {
        "top_k": params.top_k,
        "top_p": params.top_p,
        "min_p": params.min_p,
        "temp": params.temperature,
        "repeat_penalty": params.repeat_penalty,
        "frequency_penalty": params.frequency_penalty,
        "presence_penalty": params.presence_penalty,
    }


#: Logits are searched for the top few in blocks of this many (see :func:`_top_indices`).
_TOP_BLOCK = 256


def _top_indices(logits: Any, n: int) -> Any:
    """Indices of the ``n`` largest logits, largest first.

    ``argpartition`` over the whole vocabulary costs ~0.35 ms a token for 49k entries, most of
    what asking for top logprobs costs. Each of the ``n`` largest lies in a block whose maximum
    is at least the n-th largest maximum, so the search narrows to the ``n`` blocks with the
    largest maxima (and a short tail) first: the same values, ~8× faster.
    """
    import numpy as np

    size = logits.shape[0]
    n = min(n, size)
    full = size - size % _TOP_BLOCK
    if full < n * _TOP_BLOCK:
        candidates = np.arange(size)
    else:
        maxima = logits[:full].reshape(-1, _TOP_BLOCK).max(axis=1)
        blocks = np.argpartition(maxima, -n)[-n:]
        candidates = (blocks[:, None] * _TOP_BLOCK + np.arange(_TOP_BLOCK)).ravel()
        if full < size:
            candidates = np.concatenate([candidates, np.arange(full, size)])
    idx = candidates[np.argpartition(logits[candidates], -n)[-n:]]
    return idx[np.argsort(logits[idx])[::-1]]


#: ggml's names for the KV cache types llama.cpp accepts (ggml.h, enum ggml_type).
_GGML_TYPES = {0: "f32", 1: "f16", 2: "q4_0", 3: "q4_1", 6: "q5_0", 7: "q5_1", 8: "q8_0",
               20: "iq4_nl", 30: "bf16"}


class _Outbox:
    """Streams tokens in small batches: the first at once, then at most every ``interval``.

    One pipe message per token would wake the parent ~100 times a second; on a 2-core laptop
    each wake-up takes the CPU from llama.cpp's threads. 40 ms batches still read as a stream.
    """

    def __init__(self, conn: Connection, req_id: int, interval: float = 0.04) -> None:
        self.conn = conn
        self.req_id = req_id
        self.interval = interval
        self.pending: list[tuple[str, TokenLogprob | None]] = []
        self.last = 0.0

    def token(self, text: str, logprob: TokenLogprob | None) -> None:
        self.pending.append((text, logprob))
        if time.perf_counter() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.conn.send(("tokens", self.req_id, self.pending))
            self.pending = []
        self.last = time.perf_counter()


if __name__ == "__main__":  # pragma: no cover - the parent always spawns worker_main
    sys.exit("this module runs as a child of playground.engine.backends")

