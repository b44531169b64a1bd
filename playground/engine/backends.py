"""Backends turn a :class:`GenerationRequest` into a stream of events.

:class:`LocalBackend` keeps the model in a child process (see :mod:`playground.engine.worker`), so
nothing llama.cpp does can take the caller down with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import re
import signal
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Literal, Protocol

from playground import errors
from playground.engine.batch_stream import BatchStream
from playground.engine.gguf import ModelInfo, read_gguf
from playground.engine.machine import machine_facts, request_record, sha256_in_background
from playground.engine.memory import check_fits, choose_parallel
from playground.engine.options import LoadOptions
from playground.engine.pipe import next_message
from playground.engine.streamed import RequestStream, worker_error
from playground.engine.worker import worker_main
from playground.errors import GenerationError, ModelLoadError, PlaygroundError, WorkerCrashed
from playground.events import Event, GenerationRequest

BackendState = Literal["unloaded", "loading", "ready", "crashed"]

#: How long a cancelled request may take to acknowledge before the worker is killed. Decoding
#: notices a cancel within one token; only a long prompt prefill runs past this.
CANCEL_GRACE_S = 0.5
LOAD_TIMEOUT_S = 600.0
_TELLING_WORDS = ("failed", "assert", "abort", "unknown", "invalid", "cannot")
#: How ggml words an abort: the source file (a build path, shortened to its name) and line.
_ABORT_LINE = re.compile(r"(?:.*/)?(?P<file>[\w.+-]+\.(?:c|cc|cpp|cu|h|m|mm)):(?P<rest>\d+: .+)")


class Backend(Protocol):
    """What the runner, the CLI and the GUI need from any place that generates text."""

    def generate(self, request: GenerationRequest) -> Iterator[Event]: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class LoadedModel:
    """What the worker reports once the model is ready."""

    info: ModelInfo
    options: LoadOptions
    n_ctx: int
    n_ctx_train: int
    n_threads: int
    gpu_offload_supported: bool
    chat_available: bool
    load_s: float
    warnings: tuple[str, ...] = field(default_factory=tuple)
    #: Control-token strings (``<|im_end|>``...): in user text they change what the model reads.
    special_tokens: tuple[str, ...] = field(default_factory=tuple)
    #: The load-time half of every run's reproducibility record, as the worker measured it.
    engine: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The model facts stored with every result."""
        return {
            "name": self.info.display_name,
            "path": self.info.path,
            "architecture": self.info.architecture,
            "file_type": self.info.file_type,
            "parameter_count": self.info.parameter_count,
            "file_size": self.info.file_size,
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
            "n_gpu_layers": self.options.n_gpu_layers,
            "backend": "local",
        }


@dataclass(frozen=True)
class Preview:
    prompt: str
    tokens: int
    n_ctx: int

    @property
    def fits(self) -> bool:
        return self.tokens < self.n_ctx

    @property
    def warning(self) -> str | None:
        if self.fits:
            return None
        return (
            f"the prompt is {self.tokens:,} tokens but the context window holds {self.n_ctx:,}"
        )


def _describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "it stopped responding"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = {
            "SIGKILL": " (often the system's out-of-memory killer)",
            "SIGABRT": " (llama.cpp aborted)",
            "SIGSEGV": " (a crash inside llama.cpp)",
        }.get(name, "")
        return f"it was ended by {name}{hint}"
    return f"it exited with code {exitcode}"


class LocalBackend:
    """A model loaded in its own worker process. One request at a time.

    ``cancel()`` may be called from any thread. A crash of the worker ends the request in flight
    with :class:`WorkerCrashed`; ``restart()`` (or ``auto_restart``) brings the same model back
    with the same settings.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        options: LoadOptions | None = None,
        *,
        auto_restart: bool = False,
        check_memory: bool = True,
    ) -> None:
        self.model_path = str(model_path)
        self.options = options or LoadOptions()
        self.auto_restart = auto_restart
        self.info = read_gguf(self.model_path)
        n_ctx = self.options.n_ctx or self.info.context_length or 4096
        self._load_warnings: tuple[str, ...] = ()
        trained = self.info.context_length
        if trained and n_ctx > trained:
            self._load_warnings = (
                f"context {n_ctx:,} is larger than the {trained:,} tokens the model was trained "
                "for; expect quality to drop past that point",
            )
        if self.options.parallel != 1:
            self.options = self._sequences(n_ctx)
        if check_memory:
            check_fits(self.info, n_ctx, self.options.n_gpu_layers,
                       n_batch=self.options.n_batch, flash_attn=self.options.flash_attn,
                       parallel=self.options.parallel)
        self._sha256 = sha256_in_background(self.model_path)
        self.state: BackendState = "unloaded"
        self.loaded: LoadedModel | None = None
        self.last_crash: WorkerCrashed | None = None
        self._ctx = multiprocessing.get_context("spawn")
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._cancel = self._ctx.Value("q", 0, lock=False)
        self._next_id = 0
        self._active_id = 0
        self._cancel_at: float | None = None
        self._lock = threading.Lock()
        self._stderr_path = ""

    def _sequences(self, n_ctx: int) -> LoadOptions:
        """Options with a concrete number of sequences (0: chosen for this model, see
        :func:`~playground.engine.memory.choose_parallel`) and, for several, a fixed context:
        each sequence gets ``n_ctx`` of its own."""
        parallel = self.options.parallel
        if parallel == 0:
            from playground.engine.throughput import measured_throughput

            parallel = choose_parallel(
                self.info, n_ctx, self.options.n_gpu_layers, n_batch=self.options.n_batch,
                flash_attn=self.options.flash_attn, measured=measured_throughput(self.model_path))
        return dataclasses.replace(self.options, parallel=parallel,
                                   n_ctx=n_ctx if parallel > 1 else self.options.n_ctx)

    def generate_many(self, requests: Sequence[GenerationRequest]) -> BatchStream:
        """Several requests decoded together in the worker's sequences (continuous batching);
        iterate the stream for ``(index, event)``. See :mod:`playground.engine.batch`."""
        return BatchStream(self, requests)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> LoadedModel:
        """Spawn the worker and wait until the model is loaded."""
        if self.state == "ready" and self.loaded is not None:
            return self.loaded
        self._spawn()
        return self._await_ready()

    def _spawn(self) -> None:
        self._reap()
        fd, self._stderr_path = tempfile.mkstemp(prefix="playground-worker-", suffix=".log")
        os.close(fd)
        parent, child = self._ctx.Pipe(duplex=True)
        self._process = self._ctx.Process(
            target=worker_main,
            args=(child, self._cancel, self.model_path, self.options, self._stderr_path),
            name=f"playground-worker-{Path(self.model_path).name}",
            daemon=True,
        )
        self.state = "loading"
        self._process.start()
        child.close()
        self._conn = parent

    def _await_ready(self) -> LoadedModel:
        assert self._conn is not None and self._process is not None
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while True:
            ready = wait([self._conn, self._process.sentinel], timeout=1.0)
            if self._conn in ready:
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    message = None
                if message is not None:
                    break
            if self._process.sentinel in ready or not self._process.is_alive():
                self._process.join(1)
                self.state = "crashed"
                raise ModelLoadError(
                    f"{Path(self.model_path).name}: the model worker died while loading: "
                    f"{_describe_exit(self._process.exitcode)}{self._stderr_tail()}"
                )
            if time.monotonic() > deadline:
                self._kill()
                self.state = "crashed"
                raise ModelLoadError(f"loading took longer than {LOAD_TIMEOUT_S:.0f} s")
        if message[0] == "load_failed":
            self._process.join(5)
            tail = self._stderr_tail()
            self._reap()
            self.state = "unloaded"
            cls = getattr(errors, message[1], ModelLoadError)
            if not (isinstance(cls, type) and issubclass(cls, PlaygroundError)):
                cls = ModelLoadError
            raise cls(f"{Path(self.model_path).name}: {message[2]}{tail}")
        info = message[1]
        self.loaded = LoadedModel(
            info=self.info,
            options=self.options,
            n_ctx=info["n_ctx"],
            n_ctx_train=info["n_ctx_train"],
            n_threads=info["n_threads"],
            gpu_offload_supported=info["gpu_offload_supported"],
            chat_available=info["chat_template_error"] is None,
            load_s=info["load_s"],
            warnings=self._load_warnings + tuple(info["warnings"]),
            special_tokens=tuple(info["special_tokens"]),
            engine=dict(info.get("engine", {})),
        )
        self.state = "ready"
        return self.loaded

    def restart(self) -> LoadedModel:
        """Bring the worker back with the same model and settings."""
        self._kill()
        self.state = "unloaded"
        return self.start()

    def close(self) -> None:
        """Stop the worker; the backend can be started again later."""
        if self._conn is not None and self._process is not None and self._process.is_alive():
            with contextlib.suppress(OSError, BrokenPipeError):
                self._conn.send(("shutdown",))
            self._process.join(2)
        self._kill()
        self.state = "unloaded"

    def __enter__(self) -> LocalBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._reap()

    def _reap(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if not self._process.is_alive():
                self._process.join(0)
                with contextlib.suppress(ValueError):
                    self._process.close()
            self._process = None
        if self._stderr_path:
            with contextlib.suppress(OSError):
                os.unlink(self._stderr_path)
            self._stderr_path = ""

    def _stderr_tail(self) -> str:
        """The last meaningful line llama.cpp printed, for crash and load messages."""
        if not self._stderr_path:
            return ""
        try:
            with open(self._stderr_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 4096))
                lines = fh.read().decode("utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        lines = [ln.strip() for ln in lines if ln.strip()]
        # A native abort's own message (file:line: GGML_ASSERT(...) failed) is the last word.
        aborts = [m for m in map(_ABORT_LINE.match, lines) if m]
        if aborts:
            return f" — llama.cpp said: {aborts[-1]['file']}:{aborts[-1]['rest']}"
        # The most specific line names an error; generic "failed to load" lines come after it.
        for words in (("error",), _TELLING_WORDS):
            telling = [ln for ln in lines if any(w in ln.lower() for w in words)]
            if telling:
                return f" — llama.cpp said: {telling[-1]}"
        return f" — llama.cpp said: {lines[-1]}" if lines else ""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # -- requests ---------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the request in flight, if any; safe from any thread."""
        if self._active_id:
            self._cancel.value = self._active_id
            if self._cancel_at is None:
                self._cancel_at = time.monotonic()

    def preview(self, request: GenerationRequest) -> Preview:
        """The exact prompt the model would get for ``request`` and its size in tokens.

        Tokenized by the model itself, through its chat template in chat mode; nothing runs.
        """
        message = self._call("preview", request)
        assert self.loaded is not None
        return Preview(prompt=message[2], tokens=int(message[3]), n_ctx=self.loaded.n_ctx)

    def _call(self, kind: str, *payload: Any) -> tuple[Any, ...]:
        """One request/reply exchange with the worker (not a streamed generation)."""
        conn = self._ensure_ready()
        if not self._lock.acquire(blocking=False):
            raise GenerationError("this model is busy with another request; cancel it first")
        try:
            self._next_id += 1
            req_id = self._next_id
            conn.send((kind, req_id, *payload))
            message = self._recv_reply(req_id)
        finally:
            self._lock.release()
        if message[0] == "failed":
            raise worker_error(message[2], message[3])
        return message

    def perplexity(self, request: GenerationRequest, reference: str) -> float:
        """Perplexity of ``reference`` as the continuation of the request's prompt (through the
        chat template in chat mode): a reference-based score that needs no sampling."""
        message = self._call("perplexity", request, reference)
        return float(message[2])

    def token_pieces(self, token_ids: list[int]) -> list[str]:
        """The text of each token id, one by one (a piece may be part of a character)."""
        return list(self._call("pieces", list(token_ids))[2])

    def model_sha256(self) -> str | None:
        """The model file's SHA-256. Waits for the background hash if it is still running;
        only generation calls this, and generation never runs on the GUI thread."""
        try:
            return self._sha256.result()
        except OSError:
            return None

    def record(self, request: GenerationRequest, run: dict[str, Any] | None) -> dict[str, Any]:
        """A run's reproducibility record: the machine, the engine as loaded, the model file,
        what was sent and how it was sampled (see :mod:`playground.provenance`)."""
        record: dict[str, Any] = {"backend": "local", **machine_facts()}
        if self.loaded is not None:
            record.update(self.loaded.engine)
        record.update(
            model_file=Path(self.model_path).name,
            model_size=self.info.file_size,
            model_sha256=self.model_sha256(),
            request=request_record(request),
        )
        if run:
            record.update(run)
        return record

    def count_tokens(self, text: str) -> int:
        """Tokens the model would see for raw ``text`` (BOS and special tokens included)."""
        return self.preview(GenerationRequest(prompt=text)).tokens

    def _recv_reply(self, req_id: int) -> tuple[Any, ...]:
        assert self._conn is not None and self._process is not None
        while True:
            ready = wait([self._conn, self._process.sentinel], timeout=30)
            if self._conn in ready:
                try:
                    message = self._conn.recv()
                except (EOFError, OSError):
                    raise self._crashed() from None
                if message[1] == req_id:
                    return message  # type: ignore[no-any-return]
            elif ready:
                raise self._crashed()

    def _ensure_ready(self) -> Connection:
        if self.state == "crashed" and not self.auto_restart:
            raise WorkerCrashed(
                "the model worker crashed; restart the model to continue"
                + (f" ({self.last_crash})" if self.last_crash else "")
            )
        if self.state != "ready":
            if self.state == "loading":
                self._await_ready()
            else:
                self.start()
        assert self._conn is not None
        return self._conn

    def _crashed(self) -> WorkerCrashed:
        process = self._process
        exitcode = None
        if process is not None:
            process.join(2)
            exitcode = process.exitcode
        crash = WorkerCrashed(
            f"the model worker stopped unexpectedly: {_describe_exit(exitcode)}"
            f"{self._stderr_tail()}",
            exitcode,
        )
        self.last_crash = crash
        self.state = "crashed"
        self._reap()
        return crash

    def generate(self, request: GenerationRequest) -> Iterator[Event]:
        """Stream events for one request; always ends with ``Finished`` or ``Failed``."""
        if not self._lock.acquire(blocking=False):
            raise GenerationError("this model is busy with another request; cancel it first")
        try:
            yield from self._generate(request)
        finally:
            # A consumer that stops listening (closes the stream early) also stops the worker:
            # raising the cancel counter to this id is harmless once the request has finished.
            if self._active_id:
                self._cancel.value = max(self._cancel.value, self._active_id)
            self._active_id = 0
            self._cancel_at = None
            self._lock.release()

    def _generate(self, request: GenerationRequest) -> Iterator[Event]:
        request = dataclasses.replace(request, params=request.params.with_seed())
        conn = self._ensure_ready()
        assert self.loaded is not None and self._process is not None
        self._next_id += 1
        req_id = self._active_id = self._next_id
        self._cancel_at = None
        stream = RequestStream(request, req_id, time.perf_counter(), self._model_summary,
                               self.record)
        conn.send(("generate", req_id, request))
        sentinel = self._process.sentinel
        while True:
            message, gone = next_message(conn, sentinel)
            if message is not None:
                if message[1] != req_id:
                    continue  # a late reply to an earlier, cancelled request
                yield from stream.events(message)
                if stream.ended:
                    return
            elif gone:
                # None: killed by us during a cancel, so cancelled, not a crash.
                yield stream.end(self._worker_ended())
                return
            if self._stop_if_overdue():
                yield stream.end(None)
                return

    def _model_summary(self) -> dict[str, Any]:
        return self.loaded.summary() if self.loaded else {}

    def _cancel_requested(self) -> bool:
        return self._cancel_at is not None

    def _worker_ended(self) -> WorkerCrashed | None:
        """The worker process is gone: None when a cancel killed it (it is loading again for
        the next request), else the crash that took it down."""
        if self._cancel_requested():
            self._reap()
            self.state = "unloaded"
            self._respawn_in_background()
            return None
        return self._crashed()

    def _stop_if_overdue(self) -> bool:
        """A cancel the worker has not acknowledged in time (it is deep in a prefill): kill it
        now and load again for the next request. Whether it was stopped."""
        if not self._cancel_overdue():
            return False
        self._kill()
        self.state = "unloaded"
        self._respawn_in_background()
        return True

    def _cancel_overdue(self) -> bool:
        """A cancel not acknowledged in time: the worker is deep in a prefill."""
        at = self._cancel_at
        return at is not None and time.monotonic() - at > CANCEL_GRACE_S

    def _respawn_in_background(self) -> None:
        """Start loading again at once; the next request waits for it to be ready."""
        self._spawn()
