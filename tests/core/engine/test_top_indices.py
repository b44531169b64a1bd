"""The top-logprob search narrows to the blocks with the largest maxima first; it must find
the same values as a search of the whole vocabulary, largest first, whatever the shape of
the logits: one token far ahead, the top ones crowded in one block, a vocabulary that is not
a multiple of the block, a tiny one, ties."""

from __future__ import annotations

import numpy as np
import pytest

from playground.engine.worker import _top_indices


def _expected(logits: np.ndarray, n: int) -> np.ndarray:
    return np.sort(np.partition(logits, -n)[-n:])[::-1]


def _cases() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(16)
    cases = []
    for size in (49152, 32000, 151936, 50257, 1000, 300, 7):
        for shape in ("plain", "peaked", "one_block", "ties"):
            logits = (rng.standard_normal(size) * 3).astype(np.float32)
            if shape == "peaked":
                logits[rng.integers(size)] = 60.0
            elif shape == "one_block":
                logits[: min(size, 256)] += 25.0
            elif shape == "ties":
                logits = np.round(logits)
            for n in (1, 5, 20):
                cases.append((logits, n))
    return cases


@pytest.mark.parametrize(("logits", "n"), _cases())
def test_the_top_values_match_a_search_of_the_whole_vocabulary(
    logits: np.ndarray, n: int
) -> None:
    idx = _top_indices(logits, n)
    assert len(idx) == min(n, len(logits))
    assert len(set(idx.tolist())) == len(idx)
    assert np.array_equal(logits[idx], _expected(logits, min(n, len(logits))))
