"""Requests and results: malformed requests fail early, results serialise to plain JSON."""

from __future__ import annotations

import json

import pytest

from playground.errors import PlaygroundError
from playground.events import ChatMessage, GenerationRequest, Result, TokenLogprob
from playground.sampling import SamplingParams

# -- ChatMessage --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["system", "user", "assistant"])
def test_chat_message_known_roles(role: str) -> None:
    """The three roles every chat template understands are accepted."""
    assert ChatMessage(role, "x").role == role  # type: ignore[arg-type]


@pytest.mark.parametrize("role", ["tool", "User", "", "model"])
def test_chat_message_unknown_role(role: str) -> None:
    """A role the templates do not know is refused, listing the ones they do."""
    with pytest.raises(PlaygroundError) as info:
        ChatMessage(role, "x")  # type: ignore[arg-type]
    assert str(info.value) == f"unknown chat role {role!r}; use one of system, user, assistant"


# -- GenerationRequest --------------------------------------------------------------------------


def test_request_with_prompt() -> None:
    """A raw prompt is a completion request with default sampling."""
    request = GenerationRequest(prompt="Once upon")
    assert not request.is_chat
    assert request.params == SamplingParams()
    assert request.logprobs is None


def test_request_with_messages_list_becomes_tuple() -> None:
    """Lists are accepted and stored as a tuple so the request stays hashable."""
    request = GenerationRequest(messages=[ChatMessage("user", "hi")])  # type: ignore[arg-type]
    assert request.is_chat
    assert request.messages == (ChatMessage("user", "hi"),)
    hash(request)


def test_empty_prompt_is_still_a_prompt() -> None:
    """An empty prompt is valid text; only a missing one is an error."""
    assert not GenerationRequest(prompt="").is_chat


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"prompt": "x", "messages": (ChatMessage("user", "hi"),)}],
)
def test_request_needs_exactly_one_input(kwargs: dict[str, object]) -> None:
    """Neither or both of prompt and messages is ambiguous."""
    with pytest.raises(PlaygroundError, match=r"^give either a prompt or chat messages$"):
        GenerationRequest(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("messages", [(), []])
def test_request_rejects_empty_messages(messages: object) -> None:
    """A chat with no messages has nothing to answer."""
    with pytest.raises(PlaygroundError, match=r"^a chat request needs at least one message$"):
        GenerationRequest(messages=messages)  # type: ignore[arg-type]


@pytest.mark.parametrize("logprobs", [-1, 21, 100])
def test_request_logprobs_out_of_range(logprobs: int) -> None:
    """Top-n alternatives are limited to 0..20."""
    with pytest.raises(PlaygroundError) as info:
        GenerationRequest(prompt="x", logprobs=logprobs)
    assert str(info.value) == f"logprobs must be between 0 and 20, got {logprobs}"


@pytest.mark.parametrize("logprobs", [None, 0, 1, 20])
def test_request_logprobs_in_range(logprobs: int | None) -> None:
    """0 (only the chosen token) and 20 are both allowed."""
    assert GenerationRequest(prompt="x", logprobs=logprobs).logprobs == logprobs


# -- Result -------------------------------------------------------------------------------------


def make_result(**overrides: object) -> Result:
    fields: dict[str, object] = {
        "text": "Paris é",
        "finish_reason": "stop",
        "prompt_tokens": 12,
        "completion_tokens": 2,
        "ttft_s": 0.05,
        "tokens_per_second": 40.0,
        "total_s": 0.1,
        "rendered_prompt": "<|im_start|>user\nCapital?<|im_end|>\n",
        "params": SamplingParams(seed=7, stop=["\n\n"]),
        "model": {"name": "SmolLM2", "quant": "Q4_1", "n_ctx": 4096},
        "logprobs": (
            TokenLogprob("Paris", -0.25, (("Paris", -0.25), ("London", -2.5))),
            TokenLogprob(" é", -1.5),
        ),
        "warnings": ("max tokens reduced",),
    }
    fields.update(overrides)
    return Result(**fields)  # type: ignore[arg-type]


def test_result_to_dict_round_trips_through_json() -> None:
    """Results are stored and printed as JSON; nothing may be lost or turned into tuples."""
    data = make_result().to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert json.loads(json.dumps(data)) == data


def test_result_to_dict_logprobs() -> None:
    """Every token keeps its log-probability and its ranked alternatives."""
    data = make_result().to_dict()
    assert data["logprobs"] == [
        {"token": "Paris", "logprob": -0.25, "top": [["Paris", -0.25], ["London", -2.5]]},
        {"token": " é", "logprob": -1.5, "top": []},
    ]


def test_result_to_dict_fields() -> None:
    """Sampling settings, including the seed used, are kept so the run can be reproduced."""
    data = make_result().to_dict()
    assert data["params"] == SamplingParams(seed=7, stop=["\n\n"]).to_dict()
    assert data["params"]["seed"] == 7
    assert data["warnings"] == ["max tokens reduced"]
    assert data["finish_reason"] == "stop"
    assert data["max_tokens_clipped"] is False
    assert data["error"] is None


def test_result_without_logprobs_or_timings() -> None:
    """A cancelled run before the first token has no logprobs and no rates."""
    data = make_result(
        logprobs=None, ttft_s=None, tokens_per_second=None, finish_reason="cancelled"
    ).to_dict()
    assert data["logprobs"] is None
    assert data["ttft_s"] is None
    assert json.loads(json.dumps(data)) == data
