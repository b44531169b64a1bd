"""Replay a stored run: the same prompt, sampling settings, seed and model again, then say
whether the text came out identical, where it first diverged, and which recorded facts about
the engine and the machine differ now.

The comparison is by token ids where both runs kept them (local models), else by characters.
A divergence is reported with both tokens, the replayed token's log-probability (the replay
always asks for them) and the original's when the run kept them, plus the text both share.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from playground.engine.backends import Backend, LocalBackend
from playground.engine.options import LoadOptions
from playground.errors import PlaygroundError
from playground.events import ChatMessage, Event, Failed, Finished, GenerationRequest, Result
from playground.prompts.chat_formats import CHAT_FORMATS
from playground.provenance import difference_lines
from playground.sampling import SamplingParams
from playground.storage.store import RunRow, Store

#: Top alternatives asked of the replay, so the original token's probability can be found.
REPLAY_ALTERNATIVES = 5


class ReplayError(PlaygroundError):
    """A stored run cannot be replayed (its model is gone, it kept no prompt...)."""


@dataclass(frozen=True)
class LoadOverrides:
    """Load settings to use instead of the recorded ones (None keeps the recorded value)."""

    n_threads: int | None = None
    flash_attn: bool | None = None
    n_batch: int | None = None
    n_gpu_layers: int | None = None
    n_ctx: int | None = None


@dataclass(frozen=True)
class Divergence:
    """The first place the replay's text left the original's."""

    #: 1-based position of the first differing token (or character, see ``unit``).
    position: int
    unit: str
    original: str | None
    replayed: str | None
    replayed_logprob: float | None = None
    original_logprob: float | None = None
    #: The original token's log-probability at that step in the replay, when it was among the
    #: replay's top alternatives.
    original_logprob_now: float | None = None
    shared_text: str = ""


@dataclass(frozen=True)
class ReplayReport:
    run_id: int
    identical: bool
    divergence: Divergence | None
    #: "token ids" or "text": what was compared.
    compared: str
    #: Recorded fields that differ now, as "label: X then, Y now".
    differences: tuple[str, ...]
    original: RunRow
    result: Result
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def verdict(self) -> str:
        if self.identical:
            return f"identical ({_count(self.result, self.compared)} compared)"
        d = self.divergence
        assert d is not None
        return f"diverged at {d.unit} {d.position}"

    def lines(self) -> list[str]:
        """The report as a person reads it, one fact a line."""
        out = [f"run {self.run_id}: {self.verdict}"]
        d = self.divergence
        if d is not None:
            out.append(f"  original: {_shown(d.original)}" + _lp(d.original_logprob))
            out.append(f"  replayed: {_shown(d.replayed)}" + _lp(d.replayed_logprob))
            if d.original_logprob_now is not None:
                out.append(
                    f"  the original {d.unit} had log-prob {d.original_logprob_now:.3f} "
                    "in the replay"
                )
            out.append(f"  text up to there: {_shown(d.shared_text[-200:])}")
        out.extend(f"  note: {note}" for note in self.notes)
        if self.differences:
            out.append("recorded settings that differ now:")
            out.extend(f"  {line}" for line in self.differences)
        elif self.original.record is None:
            out.append("the original run has no reproducibility record (made before records "
                       "were kept)")
        else:
            out.append("no recorded setting differs now")
        return out


def _count(result: Result, unit: str) -> str:
    if unit == "token ids":
        n = len(result.token_ids or ())
        return f"{n} token{'s' if n != 1 else ''}"
    return f"{len(result.text)} characters"


def _shown(text: str | None) -> str:
    return "(the end of the text)" if text is None else json.dumps(text, ensure_ascii=False)


def _lp(value: float | None) -> str:
    return "" if value is None else f"  (log-prob {value:.3f})"


# -- what to run ------------------------------------------------------------------------------


def load_options(run: RunRow, overrides: LoadOverrides = LoadOverrides()) -> LoadOptions:
    """The load settings the run was made with, where recorded, with ``overrides`` on top."""
    record: Mapping[str, Any] = run.record or {}
    model: Mapping[str, Any] = run.model or {}

    def pick(override: Any, key: str, fallback: Any) -> Any:
        if override is not None:
            return override
        value = record.get(key, model.get(key))
        return fallback if value is None else value

    defaults = LoadOptions()
    return LoadOptions(
        n_ctx=int(pick(overrides.n_ctx, "n_ctx", defaults.n_ctx)),
        n_threads=pick(overrides.n_threads, "n_threads", None),
        n_gpu_layers=int(pick(overrides.n_gpu_layers, "n_gpu_layers", defaults.n_gpu_layers)),
        n_batch=int(pick(overrides.n_batch, "n_batch", defaults.n_batch)),
        reuse_prefix=bool(record.get("prefix_reuse", defaults.reuse_prefix)),
        flash_attn=bool(pick(overrides.flash_attn, "flash_attn", defaults.flash_attn)),
        # The text a local run read is replayed as it was; the format keeps the record alike.
        chat_format=record.get("chat_format") if record.get("chat_format") in CHAT_FORMATS
        else None,
    )


def replay_request(run: RunRow) -> GenerationRequest:
    """The request the run sent: its recorded chat messages on a server; otherwise the exact
    text the model read (a chat prompt rendered through the model's template tokenizes the
    same as the messages did)."""
    if run.rendered_prompt is None or run.params is None:
        raise ReplayError(f"run {run.id} kept no prompt or settings to replay (it failed "
                          "before it started)")
    params = replace(SamplingParams.from_dict(run.params), seed=run.seed)
    sent = (run.record or {}).get("request") or {}
    messages: tuple[ChatMessage, ...] | None = None
    if is_remote_run(run):
        if sent.get("kind") == "chat":
            messages = tuple(ChatMessage(m["role"], m["content"]) for m in sent["messages"])
        elif sent.get("kind") is None:
            messages = _messages_from_json(run.rendered_prompt)
    if messages is not None:
        return GenerationRequest(messages=messages, params=params,
                                 logprobs=REPLAY_ALTERNATIVES)
    return GenerationRequest(prompt=run.rendered_prompt, params=params,
                             logprobs=REPLAY_ALTERNATIVES)


def _messages_from_json(text: str) -> tuple[ChatMessage, ...] | None:
    """Remote chat runs made before records kept their messages as the prompt, in JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, list) and all(isinstance(m, dict) for m in data):
        return tuple(ChatMessage(m.get("role", "user"), str(m.get("content", ""))) for m in data)
    return None


def is_remote_run(run: RunRow) -> bool:
    return (run.record or run.model or {}).get("backend") == "remote"


def model_path(run: RunRow) -> str:
    """The local model file the run used; a clear error when it is gone or changed size."""
    path = (run.model or {}).get("path")
    if not path:
        raise ReplayError(f"run {run.id} does not say which model file it used")
    if not Path(path).is_file():
        raise ReplayError(f"run {run.id} used {path}, which is not there any more; "
                          "put the file back to replay it")
    return str(path)


BackendFor = Callable[[RunRow, LoadOptions], Backend]


def default_backend(run: RunRow, options: LoadOptions) -> Backend:
    """A fresh backend for the run's model: a local worker with the recorded load settings,
    or the saved endpoint it ran on."""
    if is_remote_run(run):
        from playground.engine.endpoints import resolve_endpoint
        from playground.engine.remote import RemoteBackend

        name = (run.model or {}).get("endpoint") or (run.record or {}).get("endpoint_name")
        if not name:
            raise ReplayError(f"run {run.id} does not say which endpoint it ran on")
        return RemoteBackend(resolve_endpoint(f"remote:{name}"))
    return LocalBackend(model_path(run), options)


# -- replaying --------------------------------------------------------------------------------


def replay(
    store: Store,
    run_id: int,
    overrides: LoadOverrides = LoadOverrides(),
    backend_for: BackendFor = default_backend,
) -> Iterator[Event | ReplayReport]:
    """Replay run ``run_id``: the replay's own events as they stream, then a
    :class:`ReplayReport`. The backend is closed afterwards if this function made it."""
    run = store.run(run_id)
    request = replay_request(run)
    backend = backend_for(run, load_options(run, overrides))
    owned = backend_for is default_backend
    try:
        final: Result | None = None
        for event in backend.generate(request):
            yield event
            if isinstance(event, (Finished, Failed)):
                final = event.result
                if isinstance(event, Failed) and final is None:
                    raise event.error
        if final is None:
            raise ReplayError(f"the replay of run {run_id} ended without a result")
        if final.finish_reason == "cancelled":
            raise ReplayError(f"the replay of run {run_id} was cancelled")
        yield compare(run, final, backend)
    finally:
        if owned:
            backend.close()


def compare(original: RunRow, result: Result, backend: Backend | None = None) -> ReplayReport:
    """How the replay's result relates to the stored run."""
    notes: list[str] = []
    if original.token_ids is not None and result.token_ids is not None:
        divergence = _token_divergence(original, result, backend)
        compared = "token ids"
    else:
        divergence = _text_divergence(original.output or "", result.text)
        compared = "text"
        notes.append("token ids were not kept for this run; the texts were compared "
                     "character by character")
    if original.status != "ok":
        notes.append(f"the original run ended as {original.status}")
    if result.error:
        notes.append(f"the replay failed: {result.error}")
    record = original.record
    batching = str((record or {}).get("batching") or "")
    if batching.startswith("batched"):
        notes.append(f"the run was made {batching} (decoded beside other runs); the replay "
                     "runs it alone, as --parallel 1 does, so the last bits of its numbers, and "
                     "from there its text, may differ")
    differences = tuple(difference_lines(record, result.record)) if record else ()
    if record is None and result.record:
        notes.append("the original run has no reproducibility record, so what differs "
                     "cannot be told")
    return ReplayReport(
        run_id=original.id,
        identical=divergence is None,
        divergence=divergence,
        compared=compared,
        differences=differences,
        original=original,
        result=result,
        notes=tuple(notes),
    )


def _token_divergence(
    original: RunRow, result: Result, backend: Backend | None
) -> Divergence | None:
    a = list(original.token_ids or ())
    b = list(result.token_ids or ())
    index = _first_difference(a, b)
    if index == len(a) == len(b):
        return None
    ids = [t for t in (a[index] if index < len(a) else None,
                       b[index] if index < len(b) else None) if t is not None]
    pieces = _pieces(backend, ids)
    orig = pieces.get(a[index]) if index < len(a) else None
    new = pieces.get(b[index]) if index < len(b) else None
    new_lp = orig_lp = orig_lp_now = None
    if result.logprobs is not None and index < len(result.logprobs):
        step = result.logprobs[index]
        new_lp = step.logprob
        if orig is not None:
            orig_lp_now = next((lp for text, lp in step.top if text == orig), None)
    if original.logprobs is not None and index < len(original.logprobs):
        orig_lp = original.logprobs[index].logprob
    shared = _common_prefix(original.output or "", result.text)
    return Divergence(index + 1, "token", orig, new, new_lp, orig_lp, orig_lp_now, shared)


def _pieces(backend: Backend | None, ids: list[int]) -> dict[int, str]:
    if not ids or not isinstance(backend, LocalBackend):
        return {}
    try:
        return dict(zip(ids, backend.token_pieces(ids), strict=True))
    except PlaygroundError:
        return {}


def _text_divergence(original: str, replayed: str) -> Divergence | None:
    if original == replayed:
        return None
    shared = _common_prefix(original, replayed)
    n = len(shared)
    return Divergence(
        n + 1,
        "character",
        original[n] if n < len(original) else None,
        replayed[n] if n < len(replayed) else None,
        shared_text=shared,
    )


def _first_difference(a: Sequence[object], b: Sequence[object]) -> int:
    """Index of the first position where the sequences differ (the shorter length when one
    is a prefix of the other)."""
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)))


def _common_prefix(a: str, b: str) -> str:
    return a[: _first_difference(a, b)]
