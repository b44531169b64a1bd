"""Sampling settings: one validated dataclass shared by the CLI, the GUI and the store."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from playground.errors import SamplingError

#: Largest seed llama.cpp accepts as a fixed seed (0xFFFFFFFF means "random" to it).
MAX_SEED = 0xFFFFFFFE
MAX_STOP_SEQUENCES = 16
MAX_STOP_LENGTH = 200
#: The temperature range people know (0-2); above it most models write noise, so a window offers
#: more only when asked ("allow higher"), up to what the validation accepts.
USUAL_MAX_TEMPERATURE = 2.0
HIGHEST_TEMPERATURE = 5.0


def temperature_ceiling(allow_higher: bool) -> float:
    """The top of a temperature control: the usual 2, or the validation's 5 when allowed."""
    return HIGHEST_TEMPERATURE if allow_higher else USUAL_MAX_TEMPERATURE


@dataclass(frozen=True)
class SamplingParams:
    """Every knob that changes which tokens come out.

    ``temperature == 0`` means greedy decoding. ``seed is None`` means "pick one": the worker
    chooses a seed and reports it in the result, so every run can be reproduced afterwards.
    """

    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.95
    min_p: float = 0.05
    repeat_penalty: float = 1.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    max_tokens: int = 256
    seed: int | None = None
    stop: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        # Accept any sequence of stop strings but store a tuple so params stay hashable.
        stop: object = self.stop
        if isinstance(stop, str):
            object.__setattr__(self, "stop", (stop,))
        elif isinstance(stop, (list, tuple)):
            object.__setattr__(self, "stop", tuple(stop))
        else:
            raise SamplingError(f"stop must be a list of strings, got {stop!r}")
        validate(self)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def with_seed(self, seed: int | None = None) -> SamplingParams:
        """A copy with a concrete seed, drawn at random when none is given."""
        if seed is None:
            seed = self.seed if self.seed is not None else random.randint(0, MAX_SEED)
        return replace(self, seed=seed)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SamplingParams:
        """Build from stored or user-supplied data, naming any key we do not know."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SamplingError(f"unknown sampling setting(s): {', '.join(unknown)}")
        values = dict(data)
        if "stop" in values and values["stop"] is not None:
            stop = values["stop"]
            values["stop"] = (stop,) if isinstance(stop, str) else tuple(stop)
        elif "stop" in values:
            values["stop"] = ()
        return cls(**values)


def _number(name: str, value: object, lo: float, hi: float, *, integer: bool = False) -> None:
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SamplingError(f"{name} must be {kind}, got {value!r}")
    if integer and not isinstance(value, int):
        raise SamplingError(f"{name} must be {kind}, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SamplingError(f"{name} must be a finite number, got {value!r}")
    if not lo <= value <= hi:
        raise SamplingError(f"{name} must be between {_bound(lo)} and {_bound(hi)}, got {value!r}")


def _bound(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def validate(params: SamplingParams) -> None:
    """Reject values llama.cpp would silently clamp or misread, with the range in the message."""
    _number("temperature", params.temperature, 0.0, HIGHEST_TEMPERATURE)
    _number("top_k", params.top_k, 0, 1_000_000, integer=True)
    _number("top_p", params.top_p, 0.0, 1.0)
    _number("min_p", params.min_p, 0.0, 1.0)
    _number("repeat_penalty", params.repeat_penalty, 0.0, 10.0)
    _number("presence_penalty", params.presence_penalty, -2.0, 2.0)
    _number("frequency_penalty", params.frequency_penalty, -2.0, 2.0)
    _number("max_tokens", params.max_tokens, 1, 1_000_000, integer=True)
    if params.seed is not None:
        _number("seed", params.seed, 0, MAX_SEED, integer=True)
    _check_stop(params.stop)


def _check_stop(stop: Sequence[object]) -> None:
    if len(stop) > MAX_STOP_SEQUENCES:
        raise SamplingError(
            f"at most {MAX_STOP_SEQUENCES} stop sequences are allowed, got {len(stop)}"
        )
    for item in stop:
        if not isinstance(item, str):
            raise SamplingError(f"stop sequences must be text, got {item!r}")
        if item == "":
            raise SamplingError("a stop sequence cannot be empty")
        if len(item) > MAX_STOP_LENGTH:
            raise SamplingError(
                f"a stop sequence can be at most {MAX_STOP_LENGTH} characters, "
                f"got one of {len(item)}"
            )
