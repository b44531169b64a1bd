"""What goes into a generation and what comes out, shared by every backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from playground.errors import PlaygroundError
from playground.output_constraint import OutputConstraint
from playground.sampling import SamplingParams

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length", "cancelled", "error"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant")


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise PlaygroundError(
                f"unknown chat role {self.role!r}; use one of {', '.join(ROLES)}"
            )


@dataclass(frozen=True)
class GenerationRequest:
    """One generation: either raw ``prompt`` text or chat ``messages``, never both.

    ``logprobs`` asks for the top-n alternatives of every generated token (0 = only the chosen
    token's own log-probability, None = none). ``crash_after_tokens`` is a test hook: the worker
    aborts natively after that many tokens so crash isolation can be exercised for real.
    ``constraint`` is what the output must be: the local engine samples under the grammar it
    gives, a server gets it as ``response_format`` or ``grammar``.
    """

    prompt: str | None = None
    messages: tuple[ChatMessage, ...] | None = None
    params: SamplingParams = field(default_factory=SamplingParams)
    logprobs: int | None = None
    crash_after_tokens: int | None = None
    constraint: OutputConstraint | None = None

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise PlaygroundError("give either a prompt or chat messages")
        if self.messages is not None:
            # Lists are accepted too; store a tuple so requests stay immutable and hashable.
            object.__setattr__(self, "messages", tuple(self.messages))
            if not self.messages:
                raise PlaygroundError("a chat request needs at least one message")
        if self.logprobs is not None and not 0 <= self.logprobs <= 20:
            raise PlaygroundError(f"logprobs must be between 0 and 20, got {self.logprobs}")

    @property
    def is_chat(self) -> bool:
        return self.messages is not None


@dataclass(frozen=True)
class TokenLogprob:
    """The chosen token's log-probability and the strongest alternatives at that step."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Result:
    """Everything needed to reproduce, score and store one generation."""

    text: str
    finish_reason: FinishReason
    #: None when the backend could not say (a server that sends no usage): unknown, not 0.
    prompt_tokens: int | None
    completion_tokens: int
    ttft_s: float | None
    tokens_per_second: float | None
    total_s: float
    rendered_prompt: str
    params: SamplingParams
    model: dict[str, Any]
    max_tokens_clipped: bool = False
    logprobs: tuple[TokenLogprob, ...] | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    #: What decided the text besides prompt and seed: engine, CPU path, threads, batch sizes,
    #: flash attention, KV types, model hash, sampler chain... (see playground.provenance).
    record: dict[str, Any] | None = None
    #: The generated token ids in order, where the backend knows them (local models): a
    #: replay compares these to find the first token that differs.
    token_ids: tuple[int, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_s": self.ttft_s,
            "tokens_per_second": self.tokens_per_second,
            "total_s": self.total_s,
            "rendered_prompt": self.rendered_prompt,
            "params": self.params.to_dict(),
            "model": self.model,
            "max_tokens_clipped": self.max_tokens_clipped,
            "logprobs": None
            if self.logprobs is None
            else [
                {"token": lp.token, "logprob": lp.logprob, "top": [list(t) for t in lp.top]}
                for lp in self.logprobs
            ],
            "error": self.error,
            "warnings": list(self.warnings),
            "record": self.record,
        }


#: How a count the backend could not report is shown: unknown, never a made-up 0.
UNKNOWN_COUNT = "?"


def count_text(value: int | None) -> str:
    """A token count as the CLI, the reports and the window show it."""
    return UNKNOWN_COUNT if value is None else str(value)


@dataclass(frozen=True)
class Started:
    rendered_prompt: str
    prompt_tokens: int
    max_tokens: int
    max_tokens_clipped: bool


@dataclass(frozen=True)
class Token:
    text: str
    logprob: TokenLogprob | None = None


@dataclass(frozen=True)
class Finished:
    result: Result


@dataclass(frozen=True)
class Failed:
    error: PlaygroundError
    result: Result | None = None


Event = Started | Token | Finished | Failed
