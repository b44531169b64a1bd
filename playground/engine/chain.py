"""llama.cpp's sampler chains as the worker reads them, and greedy picks without llama.cpp's
candidate array.

``llama_sampler_sample`` copies the whole vocabulary's logits into an array of candidates
(id, logit, p) before any step of the chain runs, and the greedy step then walks it. For a
49k vocabulary that is about 0.6 MB written and read again every token: 55–90 µs here, about
1 % of a small model's token, and work that ``llama-bench``'s tg figures never do. When the
chain can only return the most likely token, the first maximum of the logits is that token,
and numpy finds it in a few µs.

Only the picking changes: llama-cpp-python still builds the chain, so the run's record names the
steps llama.cpp would have run, and every chain that could pick anything else (sampling,
penalties, a grammar) samples through llama.cpp as before.
"""

from __future__ import annotations

from typing import Any


def step_names(lib: Any, chain: Any) -> list[str]:
    """The chain's steps in order, named by llama.cpp, which prefixes "?" to a step that
    changes nothing at its settings (penalties of 1.0, say)."""
    return [bytes(lib.llama_sampler_name(lib.llama_sampler_chain_get(chain, i))).decode()
            for i in range(lib.llama_sampler_chain_n(chain))]


def plain_greedy(lib: Any, chain: Any) -> bool:
    """Whether the chain returns the token with the largest logit and nothing else: its last
    step is greedy and every step before it changes nothing."""
    names = step_names(lib, chain)
    return bool(names) and names[-1] == "greedy" and all(n.startswith("?") for n in names[:-1])


def logits_row(lib: Any, ctx: Any, idx: int, n_vocab: int) -> Any:
    """The logits llama.cpp computed at batch position ``idx`` (-1: the last), as a numpy view
    of its own buffer, valid until the next decode."""
    import numpy as np

    return np.ctypeslib.as_array(lib.llama_get_logits_ith(ctx, idx), shape=(n_vocab,))


class ArgmaxSampler:
    """Stands in for llama-cpp-python's ``LlamaSampler`` of a plain greedy chain.

    llama.cpp's greedy step keeps the first of equal logits, as ``argmax`` does, so the token
    is the same. The chain it stands for stays open (``sampler``) for the run's record."""

    def __init__(self, chain: Any, lib: Any, n_vocab: int) -> None:
        self._chain = chain
        self._lib = lib
        self._n_vocab = n_vocab

    @property
    def sampler(self) -> Any:
        return self._chain.sampler

    def sample(self, ctx: Any, idx: int) -> int:
        """``ctx``: llama-cpp-python's context wrapper, as ``LlamaSampler.sample`` takes it."""
        return int(logits_row(self._lib, ctx.ctx, idx, self._n_vocab).argmax())

    def close(self) -> None:
        self._chain.close()


def build_chain(llm: Any, lib: Any, **settings: Any) -> Any:
    """The chain llama-cpp-python's ``_init_sampler`` builds from these settings (its steps,
    their order, the seed set on ``llm``), or, when it is plain greedy, the
    :class:`ArgmaxSampler` standing in for it. The single path's token loop and each batched
    sequence build their chains here."""
    chain = llm._init_sampler(**settings)
    if plain_greedy(lib, chain.sampler):
        return ArgmaxSampler(chain, lib, int(llm.n_vocab()))
    return chain
