"""The single path's own token loop (playground.engine.decode) against llama-cpp-python's
``Llama.generate``, on the real model in this process: the same tokens for the same chain and
seed, the same state left behind for prefix reuse, and logits that log-probabilities read."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playground.engine.chain import logits_row
from playground.engine.decode import decode_tokens
from playground.errors import GenerationError

pytestmark = pytest.mark.model

PROMPT = b"Once upon a time, in a small village by the sea,"
GREEDY = {"temp": 0.0, "repeat_penalty": 1.0}
SAMPLED = {"temp": 0.9, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1}


@pytest.fixture(scope="module")
def llm(default_model_path: Path) -> Iterator[Any]:
    import llama_cpp

    model = llama_cpp.Llama(model_path=str(default_model_path), n_ctx=512, n_threads=2,
                            flash_attn=True, verbose=False)
    yield model
    model.close()


def _prompt(llm: Any) -> list[int]:
    return list(llm.tokenize(PROMPT, add_bos=True, special=True))


def _all_but_last(llm: Any, tokens: list[int]) -> None:
    """As the worker leaves the cache before a run: the prompt up to its last token."""
    llm.reset()
    llm.eval(tokens[:-1])


def _by_generate(llm: Any, tokens: list[int], n: int, seed: int, **chain: Any) -> list[int]:
    _all_but_last(llm, tokens)
    llm.set_seed(seed)
    return [int(t) for t in islice(llm.generate(tokens, reset=True, **chain), n)]


def _by_loop(llm: Any, tokens: list[int], n: int, seed: int, **chain: Any) -> list[int]:
    import llama_cpp

    _all_but_last(llm, tokens)
    llm.set_seed(seed)
    return [int(t) for t in islice(decode_tokens(llm, llama_cpp, tokens, **chain), n)]


@pytest.mark.parametrize("chain", [GREEDY, SAMPLED], ids=["greedy", "sampled"])
def test_the_loop_picks_the_tokens_generate_picks(llm: Any, chain: dict[str, Any]) -> None:
    tokens = _prompt(llm)
    for seed in (1, 2):
        expected = _by_generate(llm, tokens, 40, seed, **chain)
        assert _by_loop(llm, tokens, 40, seed, **chain) == expected
    # The sampled chain does draw: two seeds part ways, so equal lists above mean the same
    # draws, not a chain that ignores its seed.
    if chain is SAMPLED:
        assert _by_loop(llm, tokens, 40, 1, **chain) != _by_loop(llm, tokens, 40, 2, **chain)


def test_the_loop_follows_a_grammar_as_generate_does(llm: Any) -> None:
    import llama_cpp

    def grammar() -> Any:
        return llama_cpp.LlamaGrammar.from_string('root ::= ("yes" | "no") " " [0-9] [0-9]')

    tokens = _prompt(llm)
    expected = _by_generate(llm, tokens, 4, 7, grammar=grammar(), **SAMPLED)
    got = _by_loop(llm, tokens, 4, 7, grammar=grammar(), **SAMPLED)
    assert got == expected
    text = llm.detokenize(got).decode()
    assert text.startswith(("yes ", "no ")), text


def test_the_loop_leaves_the_state_the_next_run_reuses(llm: Any) -> None:
    """``n_tokens`` and ``input_ids`` hold what was evaluated: the prompt and every token but
    the last one handed out, and the KV cache agrees: continuing from it gives the logits that
    evaluating the same tokens one at a time from scratch gives, to the bit."""
    import llama_cpp

    tokens = _prompt(llm)
    _all_but_last(llm, tokens)
    picked = list(islice(decode_tokens(llm, llama_cpp, tokens, **GREEDY), 12))
    assert llm.n_tokens == len(tokens) + 11
    assert llm.input_ids[: llm.n_tokens].tolist() == tokens + picked[:-1]

    llm.eval(picked[-1:])
    carried = logits_row(llama_cpp, llm.ctx, -1, llm.n_vocab()).copy()
    _all_but_last(llm, tokens)
    for token in [tokens[-1], *picked]:
        llm.eval([token])
    fresh = logits_row(llama_cpp, llm.ctx, -1, llm.n_vocab())
    assert np.array_equal(carried, fresh)


def test_the_logits_after_each_pick_are_the_ones_that_chose_it(llm: Any) -> None:
    """Log-probabilities read the last decode's logits while the loop waits at a token."""
    import llama_cpp

    tokens = _prompt(llm)
    _all_but_last(llm, tokens)
    loop = decode_tokens(llm, llama_cpp, tokens, **GREEDY)
    for _ in range(8):
        token = next(loop)
        assert token == int(logits_row(llama_cpp, llm.ctx, -1, llm.n_vocab()).argmax())
    loop.close()


def test_a_prompt_not_cached_up_to_its_last_token_is_refused(llm: Any) -> None:
    import llama_cpp

    tokens = _prompt(llm)
    llm.reset()
    with pytest.raises(GenerationError, match="not in the cache"):
        next(decode_tokens(llm, llama_cpp, tokens, **GREEDY))
    with pytest.raises(GenerationError, match="empty"):
        next(decode_tokens(llm, llama_cpp, [], **GREEDY))
