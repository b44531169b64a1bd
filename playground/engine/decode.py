"""The single path's token loop: pick a token, hand it out, evaluate it, again.

llama-cpp-python's ``Llama.generate`` runs the same steps with more Python around each token:
every sampling setting passed through ``sample`` as keywords, a KV-cache trim before every
token, a batch refilled in a loop, prefix bookkeeping for draft models. Each decode streams
the whole model through the CPU's caches, so that Python runs cold, several times slower than
in a warm loop; for a small model it is a measurable part of a token (about 2 % for the bundled
one). This loop writes one batch slot in place and calls ``llama_decode`` itself.

It keeps ``Llama``'s own state as ``generate`` does (``n_tokens``, ``input_ids``, ``_sampler``),
so prefix reuse on the next run, log-probabilities (the logits of the last decode) and the
run's record of its sampler chain read it unchanged. The chain is the one ``generate`` would
build, through the same ``_init_sampler`` (:func:`playground.engine.chain.build_chain`), so a
seeded run draws the same tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from playground.engine.chain import build_chain
from playground.errors import GenerationError


def decode_tokens(llm: Any, lib: Any, tokens: list[int], **chain: Any) -> Iterator[int]:
    """The tokens ``llm`` picks after the prompt ``tokens``, one per step, without end.

    The cache must hold all of the prompt but its last token (the worker's
    ``_evaluate_all_but_last``), which is evaluated here alone, as ``generate`` does when it
    finds the rest cached. ``chain``: ``_init_sampler``'s settings (``grammar`` among them).
    The caller stops the loop, before the context is full; the token handed out last is not
    evaluated, as with ``generate``.
    """
    if not tokens:
        raise GenerationError("the prompt is empty and the model adds no start token: "
                              "there is nothing to continue")
    if llm.n_tokens < len(tokens) - 1:
        raise GenerationError("the prompt is not in the cache up to its last token")
    llm.n_tokens = len(tokens) - 1
    llm.eval(tokens[-1:])
    sampler = build_chain(llm, lib, **chain)
    llm._sampler = sampler  # where generate leaves it: the run's record reads the chain there

    batch = llm._batch.batch
    batch.n_tokens = 1
    batch.n_seq_id[0] = 1
    batch.seq_id[0][0] = 0
    batch.logits[0] = True
    token_slot, pos_slot = batch.token, batch.pos
    ctx, wrapper, ids = llm.ctx, llm._ctx, llm.input_ids
    while True:
        token = sampler.sample(wrapper, -1)
        yield token
        n = llm.n_tokens
        token_slot[0] = token
        pos_slot[0] = n
        code = lib.llama_decode(ctx, batch)
        if code != 0:
            raise GenerationError(f"llama.cpp could not evaluate the token (llama_decode "
                                  f"returned {code})")
        ids[n] = token
        llm.n_tokens = n + 1
