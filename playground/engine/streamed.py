"""One request as the parent hears it from the worker: the worker's messages turned into the
events every generation yields, and the run's :class:`~playground.events.Result` at its end.

A single generation and each request of a batch read the same messages (``started``, then
``tokens`` batches, then ``done`` or ``failed``) and end in the same Result, so both read them
here: one rule for the time to first token, the speed and the text.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from playground import errors
from playground.errors import GenerationError, PlaygroundError
from playground.events import (
    Event,
    Failed,
    Finished,
    GenerationRequest,
    Result,
    Started,
    Token,
    TokenLogprob,
)

__all__ = ["RequestStream", "worker_error"]

CLIPPED_WARNING = "max_tokens was reduced to fit the context window"


def worker_error(kind: str, message: str) -> PlaygroundError:
    """Rebuild a domain error the worker reported by class name."""
    cls = getattr(errors, kind, GenerationError)
    if not (isinstance(cls, type) and issubclass(cls, PlaygroundError)):
        cls = GenerationError
    return cls(message)


@dataclass
class RequestStream:
    """What the parent has heard of one request so far.

    ``record`` makes the run's reproducibility record from the request and the worker's account
    of how it ran; ``model`` is the loaded model's summary. A request that waits for a slot
    (``queued``) starts its clock when the worker takes it, not when it was sent.
    """

    request: GenerationRequest
    req_id: int
    started_at: float
    model: Callable[[], dict[str, Any]]
    record: Callable[[GenerationRequest, dict[str, Any] | None], dict[str, Any]]
    queued: bool = False
    rendered: str = ""
    prompt_tokens: int = 0
    clipped: bool = False
    pieces: list[str] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    first: float | None = None
    ended: bool = False

    def events(self, message: tuple[Any, ...]) -> Iterator[Event]:
        """The events one worker message about this request makes; ``ended`` once it is the
        request's last."""
        kind = message[0]
        if kind == "tokens":
            if self.first is None:
                self.first = time.perf_counter()
            for text, logprob in message[2]:
                self.pieces.append(text)
                if logprob is not None:
                    self.logprobs.append(logprob)
                yield Token(text, logprob)
        elif kind == "started":
            _, _, self.rendered, self.prompt_tokens, max_tokens, self.clipped = message
            if self.queued:
                self.started_at = time.perf_counter()
            yield Started(self.rendered, self.prompt_tokens, max_tokens, self.clipped)
        elif kind == "done":
            _, _, text, finish, self.prompt_tokens, completion, decode_s, run, token_ids = message
            self.ended = True
            result = self.result(finish, decode_s=decode_s, completion=completion, run=run,
                                 token_ids=token_ids)
            if result.text != text:  # never expected; the pipe is ordered
                result = dataclasses.replace(result, text=text)
            yield Finished(result)
        elif kind == "failed":
            self.ended = True
            error = worker_error(message[2], message[3])
            yield Failed(error, self.result("error", str(error)))

    def end(self, crash: PlaygroundError | None) -> Event:
        """The request's last event when the worker went away: cancelled (it was stopped on
        purpose), or failed with the crash that took it down."""
        self.ended = True
        if crash is None:
            return Finished(self.result("cancelled"))
        return Failed(crash, self.result("error", str(crash)))

    def result(
        self,
        finish: Any,
        error: str | None = None,
        *,
        decode_s: float | None = None,
        completion: int | None = None,
        run: dict[str, Any] | None = None,
        token_ids: list[int] | None = None,
    ) -> Result:
        """The run's Result. The speed is the worker's (``decode_s``, timed where the tokens
        are made, since they reach the parent in batches); without it there is none."""
        n = len(self.pieces) if completion is None else completion
        tps = None
        if decode_s is not None and decode_s > 0 and n > 1:
            tps = (n - 1) / decode_s
        request = self.request
        return Result(
            text="".join(self.pieces),
            finish_reason=finish,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=n,
            ttft_s=None if self.first is None else self.first - self.started_at,
            tokens_per_second=tps,
            total_s=time.perf_counter() - self.started_at,
            rendered_prompt=self.rendered,
            params=request.params,
            model=self.model(),
            max_tokens_clipped=self.clipped,
            logprobs=tuple(self.logprobs) if request.logprobs is not None else None,
            error=error,
            warnings=(CLIPPED_WARNING,) if self.clipped else (),
            record=self.record(request, run),
            token_ids=tuple(token_ids) if token_ids is not None else None,
        )
