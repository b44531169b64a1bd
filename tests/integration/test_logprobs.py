"""Log-probabilities are the model's own: before temperature, penalties and truncation.

The README promises that the token probabilities (the token view, the confidence scores) show
what the model thinks, not what the sampler drew from. The check recomputes them
independently: llama.cpp loaded in this process with the same settings evaluates the same
tokens, and the log-softmax of its raw logits is taken here in float64.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from playground.engine.backends import LocalBackend
from playground.engine.options import LoadOptions, default_threads
from playground.events import Finished, GenerationRequest
from playground.sampling import SamplingParams

N_CTX = 512
TOP = 5
# The worker and this test run the same llama.cpp build on the same machine with the same
# threads, batch size and flash attention, and evaluate the same tokens in the same batches
# (the prompt but its last token at once, then one token at a time), so the logits agree to
# the last bit. What is left is the worker's log-softmax in float32 over 49,152 logits: numpy's
# pairwise sum keeps that error near 1e-6 (measured: below 2e-7 with and without flash
# attention). Temperature 1.5 moves a log-probability by (1 - 1 / 1.5) * |logprob| plus a shift
# of the normaliser, orders of magnitude above this; the last assertion checks that it does.
TOLERANCE = 1e-4
PARAMS = SamplingParams(temperature=1.5, repeat_penalty=1.3, top_k=0, top_p=1.0, min_p=0.0,
                        max_tokens=24, seed=1234)
PROMPT = "My favourite words are apple, river, lantern, and"


def log_softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits.astype(np.float64) / temperature
    peak = scaled.max()
    return np.asarray(scaled - peak - np.log(np.exp(scaled - peak).sum()), dtype=np.float64)


@pytest.mark.model
def test_reported_logprobs_are_log_softmax_of_the_raw_logits(default_model_path: Path) -> None:
    import llama_cpp

    options = LoadOptions(n_ctx=N_CTX)
    with LocalBackend(default_model_path, options) as backend:
        request = GenerationRequest(prompt=PROMPT, params=PARAMS, logprobs=TOP)
        finished = list(backend.generate(request))[-1]
    assert isinstance(finished, Finished)
    result = finished.result
    assert result.logprobs is not None and result.token_ids is not None
    ids = list(result.token_ids)
    assert ids and len(result.logprobs) == len(ids)

    threads = options.n_threads or default_threads()
    llm = llama_cpp.Llama(model_path=str(default_model_path), n_ctx=N_CTX,
                          n_batch=options.n_batch, flash_attn=options.flash_attn,
                          n_threads=threads, n_threads_batch=threads, verbose=False)
    try:
        prompt = llm.tokenize(PROMPT.encode(), add_bos=True, special=True)
        assert len(prompt) == result.prompt_tokens
        llm.eval(prompt[:-1])
        llm.eval(prompt[-1:])
        n_vocab = llm.n_vocab()
        spread = 0.0
        for step, (token, reported) in enumerate(zip(ids, result.logprobs, strict=True)):
            raw = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1),
                                        shape=(n_vocab,)).copy()
            own = log_softmax(raw)
            assert reported.logprob == pytest.approx(own[token], abs=TOLERANCE), step
            top = np.sort(own)[::-1][:TOP]
            assert [lp for _, lp in reported.top] == pytest.approx(list(top), abs=TOLERANCE)
            tempered = log_softmax(raw, PARAMS.temperature)
            spread = max(spread, float(np.max(np.abs(np.sort(tempered)[::-1][:TOP] - top))))
            llm.eval([token])
    finally:
        llm.close()
    # The check can tell the two apart: somewhere the tempered values are far from the raw.
    assert spread > 100 * TOLERANCE
