"""Greedy picks by argmax (playground.engine.chain) against llama.cpp's own greedy chain, on the
real model's context: which chains qualify, and the same token on the model's logits and on
logits written to order (ties, a maximum at either end)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playground.engine.backends import LocalBackend
from playground.engine.chain import ArgmaxSampler, build_chain, logits_row, plain_greedy
from playground.engine.decode import decode_tokens
from playground.events import GenerationRequest
from playground.sampling import SamplingParams
from tests.integration.conftest import collect

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def llm(default_model_path: Path) -> Iterator[Any]:
    import llama_cpp

    model = llama_cpp.Llama(model_path=str(default_model_path), n_ctx=256, n_threads=2,
                            verbose=False)
    yield model
    model.close()


def _chain(llm: Any, **settings: Any) -> Any:
    import llama_cpp

    return type(llm)._init_sampler(llm, **{"temp": 0.0, **settings}), llama_cpp


@pytest.mark.parametrize(("settings", "plain"), [
    ({}, True),
    ({"repeat_penalty": 1.0, "frequency_penalty": 0.0, "presence_penalty": 0.0}, True),
    ({"repeat_penalty": 1.1}, False),
    ({"frequency_penalty": 0.5}, False),
    ({"presence_penalty": -0.5}, False),
    ({"temp": 0.7}, False),
    ({"temp": -1.0}, False),
])
def test_only_a_chain_that_can_pick_nothing_but_the_top_token_is_plain_greedy(
    llm: Any, settings: dict[str, Any], plain: bool
) -> None:
    chain, lib = _chain(llm, **settings)
    try:
        assert plain_greedy(lib, chain.sampler) is plain
    finally:
        chain.close()


def test_a_grammar_makes_a_greedy_chain_more_than_greedy(llm: Any) -> None:
    import llama_cpp

    grammar = llama_cpp.LlamaGrammar.from_string('root ::= "yes" | "no"', verbose=False)
    chain, lib = _chain(llm, grammar=grammar)
    try:
        assert not plain_greedy(lib, chain.sampler)
    finally:
        chain.close()


def test_argmax_picks_the_token_llama_cpps_greedy_chain_picks(llm: Any) -> None:
    import llama_cpp

    n_vocab = llm.n_vocab()
    chain, lib = _chain(llm)
    argmax = ArgmaxSampler(chain, lib, n_vocab)
    try:
        llm.reset()
        llm.eval(llm.tokenize(b"The colours of the rainbow are", add_bos=True))
        assert argmax.sample(llm._ctx, -1) == chain.sample(llm._ctx, -1)

        # Logits written to order in the context's own output row.
        logits = logits_row(llama_cpp, llm.ctx, -1, n_vocab)
        cases: list[tuple[str, Any]] = [
            ("all equal", np.zeros(n_vocab)),
            ("maximum first", np.r_[1.0, np.zeros(n_vocab - 1)]),
            ("maximum last", np.r_[np.zeros(n_vocab - 1), 1.0]),
            ("a tie, the first wins", np.r_[np.zeros(100), 2.0, np.zeros(99), 2.0,
                                            np.zeros(n_vocab - 201)]),
            ("negative logits", -np.arange(n_vocab, 0, -1, dtype=float)),
        ]
        for name, values in cases:
            logits[:] = values
            expected = chain.sample(llm._ctx, -1)
            assert argmax.sample(llm._ctx, -1) == expected, name
        assert llama_cpp.llama_get_logits_ith(llm.ctx, -1)[n_vocab - 1] == -1.0
    finally:
        argmax.close()
    assert chain.sampler is None  # closing the stand-in frees the chain it stands for


def test_a_greedy_run_is_the_same_token_for_token_with_the_shortcut(llm: Any) -> None:
    import llama_cpp

    prompt = list(llm.tokenize(b"1, 2, 3,", add_bos=True))
    llm.reset()
    plain = [int(t) for t in islice(llm.generate(prompt, reset=True, temp=0.0,
                                                 repeat_penalty=1.0), 48)]
    assert not isinstance(llm._sampler, ArgmaxSampler)  # llama.cpp's own greedy step
    llm.reset()
    llm.eval(prompt[:-1])
    shortcut = [int(t) for t in islice(decode_tokens(llm, llama_cpp, prompt, temp=0.0,
                                                     repeat_penalty=1.0), 48)]
    assert isinstance(llm._sampler, ArgmaxSampler)
    assert shortcut == plain
    # A chain that samples is left to llama.cpp.
    assert not isinstance(build_chain(llm, llama_cpp, temp=0.7), ArgmaxSampler)


def test_a_greedy_run_records_the_chain_llama_cpp_would_have_run(backend: LocalBackend) -> None:
    """The worker picks greedy tokens by argmax; the record still names llama.cpp's steps."""
    plain = GenerationRequest(prompt="1, 2, 3,", params=SamplingParams(temperature=0,
                                                                      max_tokens=4))
    _, result = collect(backend, plain)
    assert (result.record or {})["sampler_chain"] == [
        {"name": "penalties", "last_n": 64, "repeat": 1.0, "frequency": 0.0, "presence": 0.0,
         "inactive": True},
        {"name": "greedy"},
    ]
    penalised = GenerationRequest(prompt="1, 2, 3,", params=SamplingParams(
        temperature=0, max_tokens=4, repeat_penalty=1.3))
    _, result = collect(backend, penalised)
    steps = (result.record or {})["sampler_chain"]
    assert [step["name"] for step in steps] == ["penalties", "greedy"]
    assert "inactive" not in steps[0] and steps[0]["repeat"] == 1.3
