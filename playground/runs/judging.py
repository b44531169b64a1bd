"""A stored comparison laid out for people to judge: its outputs to rate one at a time, its
blind pairs in the order they are judged, and its judgements as a preference dataset.

Both ways of judging are blind. The outputs to rate come in an order fixed per comparison,
with nothing about a position telling which prompt wrote it; a pair is two outputs of the same
input and sample (the same seed) with the variants hidden and the sides shuffled
(:func:`playground.evaluation.preferences.blind_pairs`).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from playground.errors import PlaygroundError
from playground.evaluation import preferences as prefs
from playground.evaluation.preferences import BlindPair
from playground.ratings import input_prompt
from playground.runs.history import comparison_judgements
from playground.runs.single_run import INPUT_ID
from playground.storage.store import Store, run_model_name


@dataclass
class RatingItem:
    """One output to rate, as a judge sees it (its variant stays hidden). ``note`` and
    ``ratings`` change as the judge rates it."""

    run_id: int
    input_key: str
    sample: int
    prompt: str
    output: str
    note: str
    ratings: dict[str, int] = field(default_factory=dict)


def input_label(input_key: str) -> str:
    """Which input an output answers, as a judge is told: a dataset row by its id ("input
    row-3"); the one input typed for every variant (stored under the id "input") as "the shared
    input", not "input input"."""
    return "the shared input" if input_key == INPUT_ID else f"input {input_key}"


@dataclass(frozen=True)
class JudgingSet:
    """What there is to judge in a comparison, and what was judged already."""

    comparison_id: int
    name: str
    criteria: tuple[str, ...]
    items: tuple[RatingItem, ...]
    pairs: tuple[BlindPair, ...]
    #: (variant, pair key) → run id: how a blind pair is saved as two runs.
    pair_runs: dict[tuple[str, str], int]
    #: {run, run} → how many judgements the two runs already have.
    judged: Counter[frozenset[int]]


def judging_set(store: Store, comparison_id: int) -> JudgingSet:
    """The finished outputs of a comparison to rate (in a shuffled order that reopening gives
    again) and its blind pairs, with the ratings, notes and judgements saved so far."""
    row = store.comparison(comparison_id)
    variants = {v.id: v for v in store.variants(comparison_id)}
    inputs = {i.id: i for i in store.inputs(comparison_id)}
    runs = [r for r in store.runs(comparison_id) if r.status == "ok"
            and r.variant_id in variants and r.input_id in inputs]
    ratings: dict[int, dict[str, int]] = {}
    for rating in store.criterion_ratings(comparison_id):
        ratings.setdefault(rating.run_id, {})[rating.criterion] = rating.score
    judged = Counter(frozenset((j.run_a, j.run_b)) for j in store.judgements(comparison_id))
    items: list[RatingItem] = []
    by_variant: dict[str, dict[str, str]] = {}
    prompts: dict[str, str] = {}
    models: dict[str, str] = {}
    pair_runs: dict[tuple[str, str], int] = {}
    for run in runs:
        assert run.variant_id is not None and run.input_id is not None
        variant, input_row = variants[run.variant_id], inputs[run.input_id]
        prompt = input_prompt(input_row.values)
        items.append(RatingItem(run.id, input_row.input_key, run.sample, prompt,
                                run.output or "", (run.rating.note if run.rating else None) or "",
                                ratings.get(run.id, {})))
        # Pairs compare the same sample (the same seed) of two variants on one input.
        key = (input_row.input_key if row.samples == 1
               else f"{input_row.input_key} · sample {run.sample + 1}")
        by_variant.setdefault(variant.name, {})[key] = run.output or ""
        prompts[key] = prompt
        models.setdefault(variant.name, run_model_name(run, variant))
        pair_runs[variant.name, key] = run.id
    # Variants interleaved in a fixed order per comparison: nothing about the position of an
    # output tells which prompt wrote it, and reopening the comparison gives the same order.
    random.Random(comparison_id).shuffle(items)
    pairs = prefs.blind_pairs(by_variant, seed=comparison_id, prompts=prompts, models=models)
    return JudgingSet(comparison_id, row.name, store.criteria(comparison_id), tuple(items),
                      tuple(pairs), pair_runs, judged)


class PairQueue:
    """The blind pairs still to judge, in order: a pair is judged once, and a judgement taken
    back (or that could not be saved) puts its pair first in line again."""

    def __init__(self, judging: JudgingSet | None = None) -> None:
        self.pairs: tuple[BlindPair, ...] = judging.pairs if judging else ()
        self._pair_runs = dict(judging.pair_runs) if judging else {}
        self._judged: Counter[frozenset[int]] = Counter(judging.judged if judging else ())
        self._pending = [p for p in self.pairs if not self._judged[self._runs(p)]]

    def _runs(self, pair: BlindPair) -> frozenset[int]:
        return frozenset((self._pair_runs[pair.left_variant, pair.input_id],
                          self._pair_runs[pair.right_variant, pair.input_id]))

    @property
    def current(self) -> BlindPair | None:
        """The pair to judge next; None once every pair is judged."""
        return self._pending[0] if self._pending else None

    @property
    def total(self) -> int:
        return len(self.pairs)

    @property
    def done(self) -> int:
        return len(self.pairs) - len(self._pending)

    def take(self, pair: BlindPair) -> tuple[int, int]:
        """Count ``pair`` as judged; returns its left and right runs, to save the verdict on."""
        left = self._pair_runs[pair.left_variant, pair.input_id]
        right = self._pair_runs[pair.right_variant, pair.input_id]
        self._judged[frozenset((left, right))] += 1
        if pair in self._pending:
            self._pending.remove(pair)
        return left, right

    def put_back(self, pair: BlindPair) -> None:
        """A judgement of ``pair`` was not saved: the pair comes back first."""
        self._judged[self._runs(pair)] -= 1
        if pair not in self._pending:
            self._pending.insert(0, pair)

    def taken_back(self, run_a: int, run_b: int) -> None:
        """A saved judgement of these runs was undone: its pair comes back first once no other
        judgement of the same runs is left."""
        runs = frozenset((run_a, run_b))
        self._judged[runs] -= 1
        pair = next((p for p in self.pairs if self._runs(p) == runs), None)
        if pair is not None and self._judged[runs] <= 0 and pair not in self._pending:
            self._pending.insert(0, pair)


@dataclass(frozen=True)
class PreferenceDataset:
    """The judgements as chosen/rejected JSONL, with how many pairs it holds and how many
    ties were left out (a chosen/rejected pair cannot say "neither")."""

    text: str
    pairs: int
    ties: int


def preference_dataset(store: Store, comparison_id: int) -> PreferenceDataset:
    """A comparison's judgements as a preference dataset, read back before anyone writes it so
    that no file a trainer would refuse is ever written."""
    judged = comparison_judgements(store, comparison_id)
    if not judged:
        raise PlaygroundError("there are no judgements to export yet: judge some pairs first")
    text = prefs.export_preferences(judged)
    records = prefs.read_preferences(text)
    return PreferenceDataset(text, len(records), sum(1 for j in judged if j.choice == "tie"))
