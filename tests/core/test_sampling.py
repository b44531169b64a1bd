"""Sampling settings: every bad value is refused with a message a user can act on."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest

from playground.errors import SamplingError
from playground.sampling import (
    MAX_SEED,
    MAX_STOP_LENGTH,
    MAX_STOP_SEQUENCES,
    SamplingParams,
)

_RANGE = re.compile(r"between (\S+) and (\S+), got")

# (setting, bad value, allowed low, allowed high)
OUT_OF_RANGE: list[tuple[str, object, float, float]] = [
    ("temperature", -0.1, 0, 5),
    ("temperature", 5.1, 0, 5),
    ("top_k", -1, 0, 1_000_000),
    ("top_k", 1_000_001, 0, 1_000_000),
    ("top_p", 1.5, 0, 1),
    ("top_p", -0.01, 0, 1),
    ("min_p", -0.1, 0, 1),
    ("min_p", 1.01, 0, 1),
    ("repeat_penalty", -1, 0, 10),
    ("repeat_penalty", 10.5, 0, 10),
    ("presence_penalty", 2.5, -2, 2),
    ("presence_penalty", -2.5, -2, 2),
    ("frequency_penalty", 2.5, -2, 2),
    ("frequency_penalty", -2.5, -2, 2),
    ("max_tokens", 0, 1, 1_000_000),
    ("max_tokens", 1_000_001, 1, 1_000_000),
    ("seed", -1, 0, MAX_SEED),
    ("seed", 2**32, 0, MAX_SEED),
    ("seed", 0xFFFFFFFF, 0, MAX_SEED),
]


@pytest.mark.parametrize(("name", "value", "lo", "hi"), OUT_OF_RANGE)
def test_out_of_range_names_setting_and_exact_range(
    name: str, value: object, lo: float, hi: float
) -> None:
    """A user must learn which setting is wrong and exactly which values are allowed."""
    with pytest.raises(SamplingError) as info:
        SamplingParams(**{name: value})  # type: ignore[arg-type]
    message = str(info.value)
    assert message.startswith(f"{name} must be between ")
    found = _RANGE.search(message)
    assert found is not None, message
    assert (float(found.group(1)), float(found.group(2))) == (lo, hi), message
    assert repr(value) in message


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("temperature", True, "a number"),
        ("temperature", "0.7", "a number"),
        ("top_p", None, "a number"),
        ("top_k", 2.5, "a whole number"),
        ("top_k", False, "a whole number"),
        ("top_k", "40", "a whole number"),
        ("max_tokens", 12.0, "a whole number"),
        ("seed", True, "a whole number"),
        ("seed", 1.0, "a whole number"),
    ],
)
def test_wrong_type_names_setting_and_kind(name: str, value: object, kind: str) -> None:
    """Booleans and strings are not numbers here, even though Python would coerce them."""
    with pytest.raises(SamplingError, match=rf"^{name} must be {kind}, got "):
        SamplingParams(**{name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_temperature_refused(value: float) -> None:
    """NaN compares false with every bound, so it needs its own check."""
    with pytest.raises(SamplingError, match=r"^temperature must be a finite number"):
        SamplingParams(temperature=value)


@pytest.mark.parametrize(
    ("stop", "message"),
    [
        (
            [f"s{i}" for i in range(MAX_STOP_SEQUENCES + 1)],
            f"at most {MAX_STOP_SEQUENCES} stop sequences are allowed, "
            f"got {MAX_STOP_SEQUENCES + 1}",
        ),
        ([""], "a stop sequence cannot be empty"),
        (
            ["x" * (MAX_STOP_LENGTH + 1)],
            f"a stop sequence can be at most {MAX_STOP_LENGTH} characters, "
            f"got one of {MAX_STOP_LENGTH + 1}",
        ),
        (["ok", 3], "stop sequences must be text, got 3"),
        (5, "stop must be a list of strings, got 5"),
        (None, "stop must be a list of strings, got None"),
    ],
)
def test_bad_stop_sequences_refused(stop: object, message: str) -> None:
    """Stop sequences are user text; each kind of mistake gets its own explanation."""
    with pytest.raises(SamplingError) as info:
        SamplingParams(stop=stop)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_stop_limits_are_inclusive() -> None:
    """The maximum count and length themselves are allowed."""
    params = SamplingParams(stop=["y" * MAX_STOP_LENGTH] * MAX_STOP_SEQUENCES)
    assert len(params.stop) == MAX_STOP_SEQUENCES


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"temperature": 0, "top_k": 0, "top_p": 0, "min_p": 0, "repeat_penalty": 0},
        {"temperature": 5, "top_p": 1, "min_p": 1, "repeat_penalty": 10},
        {"presence_penalty": -2, "frequency_penalty": 2, "max_tokens": 1},
        {"seed": 0},
        {"seed": MAX_SEED},
        {"temperature": 1},
    ],
)
def test_defaults_and_boundaries_are_valid(overrides: dict[str, Any]) -> None:
    """The edges of every range are accepted, so the UI sliders can reach them."""
    params = SamplingParams(**overrides)
    for name, value in overrides.items():
        assert getattr(params, name) == value


def test_temperature_zero_is_greedy() -> None:
    """The worker switches to greedy decoding exactly when temperature is 0."""
    assert SamplingParams(temperature=0).greedy
    assert SamplingParams(temperature=0.0).greedy
    assert not SamplingParams(temperature=0.01).greedy
    assert not SamplingParams().greedy


def test_with_seed_fixes_a_seed_and_keeps_the_rest() -> None:
    """Every run gets a concrete seed so it can be reproduced afterwards."""
    params = SamplingParams(temperature=0.3, stop=["END"])
    seeded = params.with_seed()
    assert params.seed is None
    assert seeded.seed is not None
    assert 0 <= seeded.seed <= MAX_SEED
    assert seeded.temperature == 0.3
    assert seeded.stop == ("END",)


def test_with_seed_keeps_an_existing_seed() -> None:
    """A seed the user chose must never be replaced by a random one."""
    assert SamplingParams(seed=1234).with_seed().seed == 1234
    assert SamplingParams(seed=0).with_seed().seed == 0


def test_with_seed_explicit_value_wins() -> None:
    """An explicit seed overrides both ``None`` and a stored seed."""
    assert SamplingParams().with_seed(7).seed == 7
    assert SamplingParams(seed=1234).with_seed(7).seed == 7


def test_with_seed_validates() -> None:
    """A copy goes through the same validation as a new instance."""
    with pytest.raises(SamplingError, match=r"^seed must be"):
        SamplingParams().with_seed(-5)


@pytest.mark.parametrize(
    ("stop", "expected"),
    [
        ("END", ("END",)),
        (["a", "b"], ("a", "b")),
        (("a", "b"), ("a", "b")),
        ([], ()),
    ],
)
def test_stop_is_stored_as_tuple(stop: object, expected: tuple[str, ...]) -> None:
    """A str is one stop sequence (not one per character) and params stay hashable."""
    params = SamplingParams(stop=stop)  # type: ignore[arg-type]
    assert params.stop == expected
    assert isinstance(params.stop, tuple)
    hash(params)


def test_to_dict_from_dict_round_trip() -> None:
    """Stored settings come back identical, also through JSON."""
    params = SamplingParams(
        temperature=0.2,
        top_k=10,
        top_p=0.5,
        min_p=0.0,
        repeat_penalty=1.1,
        presence_penalty=-0.5,
        frequency_penalty=0.5,
        max_tokens=99,
        seed=42,
        stop=["\n\n", "User:"],
    )
    data = params.to_dict()
    assert data["stop"] == ["\n\n", "User:"]
    assert SamplingParams.from_dict(data) == params
    assert SamplingParams.from_dict(json.loads(json.dumps(data))) == params
    assert SamplingParams.from_dict(SamplingParams().to_dict()) == SamplingParams()


def test_from_dict_names_unknown_keys() -> None:
    """A typo in a stored or pasted setting must not be silently ignored."""
    with pytest.raises(SamplingError) as info:
        SamplingParams.from_dict({"temperature": 0.5, "temprature": 0.1, "top_n": 3})
    assert str(info.value) == "unknown sampling setting(s): temprature, top_n"


@pytest.mark.parametrize(("stop", "expected"), [("END", ("END",)), (None, ()), (["x"], ("x",))])
def test_from_dict_normalises_stop(stop: object, expected: tuple[str, ...]) -> None:
    """Hand-written JSON may give one string or null for ``stop``."""
    assert SamplingParams.from_dict({"stop": stop}).stop == expected


def test_from_dict_validates_values() -> None:
    """Loading from data is no back door around the range checks."""
    with pytest.raises(SamplingError, match=r"^top_p must be between 0 and 1"):
        SamplingParams.from_dict({"top_p": 2})
