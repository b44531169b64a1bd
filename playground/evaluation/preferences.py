"""Human pairwise preferences between prompt variants: blind judging, ratings, export.

Automatic metrics miss much of what makes an answer good, and asking people for absolute
scores gives noisy, drifting numbers. Asking "which of these two is better?" is quicker and
more consistent, so this module:

* shows two outputs for the same input **blind** — variant names hidden, sides shuffled with a
  seed — so a judge cannot favour the prompt they wrote (:func:`blind_pairs`, :func:`judge`);
* turns the judgements into a ranking with uncertainty (:func:`bradley_terry`);
* measures how well an automatic metric agrees with the people (:func:`agreement`);
* exports the preferences as chosen/rejected pairs, the JSONL shape DPO-style trainers read
  (:func:`export_preferences`, :func:`read_preferences`).

What a judgement is, and the Likert criteria that say *why* one variant is better, are the
domain's (``playground.ratings``): the store checks them before it saves a verdict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from playground.ratings import Choice, Judgement, PreferenceError

__all__ = [
    "EXPORT_FIELDS",
    "BlindPair",
    "Rating",
    "agreement",
    "blind_pairs",
    "bradley_terry",
    "export_preferences",
    "judge",
    "read_preferences",
]

Key = Literal["1", "2", "3"]

#: Keys of one exported preference line, in the order they are written.
EXPORT_FIELDS: tuple[str, ...] = (
    "prompt",
    "chosen",
    "rejected",
    "chosen_variant",
    "rejected_variant",
    "chosen_model",
    "rejected_model",
    "input_id",
)
_REQUIRED_FIELDS: tuple[str, ...] = ("prompt", "chosen", "rejected")

_FloatArray = npt.NDArray[np.float64]
#: Largest change of a log-strength in one MM step at which the fit counts as converged.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class BlindPair:
    """Two outputs as a judge sees them: left and right, with the variants hidden.

    The hidden fields are left out of ``repr`` so that logging or displaying a pair by
    accident does not reveal which prompt wrote which side.
    """

    input_id: str
    prompt: str
    left: str
    right: str
    left_variant: str = field(repr=False)
    right_variant: str = field(repr=False)
    left_model: str = field(default="", repr=False)
    right_model: str = field(default="", repr=False)


def blind_pairs(
    runs_by_variant: Mapping[str, Mapping[str, str]],
    seed: int = 0,
    *,
    prompts: Mapping[str, str] | None = None,
    models: Mapping[str, str] | None = None,
) -> list[BlindPair]:
    """One blind pair per input shared by two variants, for every pair of variants.

    ``runs_by_variant`` maps variant → input id → output. ``prompts`` gives the text shown as
    the task for each input (the input id when missing); ``models`` the model of each variant.
    Sides are flipped at random and the pairs shuffled, both from ``seed``, so the left side
    carries no hint and the same seed gives the same session again.
    """
    prompts = prompts or {}
    models = models or {}
    rng = np.random.default_rng(seed)
    pairs: list[BlindPair] = []
    for first, second in combinations(sorted(runs_by_variant), 2):
        runs_a, runs_b = runs_by_variant[first], runs_by_variant[second]
        for input_id in runs_a:
            if input_id not in runs_b:
                continue
            sides = [(first, runs_a[input_id]), (second, runs_b[input_id])]
            if rng.random() < 0.5:
                sides.reverse()
            (left_variant, left), (right_variant, right) = sides
            pairs.append(
                BlindPair(
                    input_id=input_id,
                    prompt=prompts.get(input_id, input_id),
                    left=left,
                    right=right,
                    left_variant=left_variant,
                    right_variant=right_variant,
                    left_model=models.get(left_variant, ""),
                    right_model=models.get(right_variant, ""),
                )
            )
    order = rng.permutation(len(pairs))
    return [pairs[int(i)] for i in order]


_KEY_CHOICES: dict[str, Choice] = {"1": "a", "2": "b", "3": "tie"}


def judge(pair: BlindPair, key: str) -> Judgement:
    """The judgement for a key press: ``1`` left is better, ``2`` right is better, ``3`` tie.

    Left becomes ``a`` and right ``b``; the hidden variant names are attached only here, after
    the verdict has been given.
    """
    choice = _KEY_CHOICES.get(key.strip()) if isinstance(key, str) else None
    if choice is None:
        raise PreferenceError(
            f"press 1 (left is better), 2 (right is better) or 3 (tie), not {key!r}"
        )
    return Judgement(
        input_id=pair.input_id,
        prompt=pair.prompt,
        variant_a=pair.left_variant,
        output_a=pair.left,
        variant_b=pair.right_variant,
        output_b=pair.right,
        choice=choice,
        model_a=pair.left_model,
        model_b=pair.right_model,
    )


# --- Bradley–Terry ratings --------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """A variant's Bradley–Terry strength with its bootstrap interval and its record.

    Strengths are scaled to a geometric mean of 1 over the variants rated together; only
    ratios mean anything: ``a`` beats ``b`` with probability ``a / (a + b)``.
    """

    variant: str
    strength: float
    low: float
    high: float
    wins: int
    losses: int
    ties: int


def _counts(
    judgements: Sequence[Judgement], index: Mapping[str, int]
) -> tuple[_FloatArray, _FloatArray]:
    """Win matrix (``w[i, j]`` = wins of i over j, ties half each) and comparison counts."""
    size = len(index)
    wins = np.zeros((size, size), dtype=np.float64)
    for j in judgements:
        a, b = index[j.variant_a], index[j.variant_b]
        if j.choice == "a":
            wins[a, b] += 1.0
        elif j.choice == "b":
            wins[b, a] += 1.0
        else:
            wins[a, b] += 0.5
            wins[b, a] += 0.5
    return wins, wins + wins.T


def _fit(
    wins: _FloatArray,
    games: _FloatArray,
    prior: float,
    iterations: int,
    start: _FloatArray | None = None,
) -> _FloatArray:
    """Strengths by Hunter's (2004) minorization–maximization updates.

    Plain maximum likelihood sends an unbeaten variant's strength to infinity (and leaves
    variants never compared with each other on unrelated scales). The prior adds ``prior``
    virtual wins and losses of every variant against a fixed opponent of strength 1, which
    keeps every strength finite and shrinks strengths built on few judgements toward the
    middle. Each MM step increases the posterior, so the iteration converges.
    """
    total_wins = wins.sum(axis=1) + prior
    strength = np.ones(wins.shape[0], dtype=np.float64) if start is None else start.copy()
    for _ in range(iterations):
        pair_sums = strength[:, None] + strength[None, :]
        denominator = (games / pair_sums).sum(axis=1) + 2.0 * prior / (strength + 1.0)
        updated = total_wins / denominator
        converged = bool(np.max(np.abs(np.log(updated / strength))) < _TOLERANCE)
        strength = updated
        if converged:
            break
    return np.asarray(strength / math.exp(float(np.mean(np.log(strength)))), dtype=np.float64)


def bradley_terry(
    judgements: Sequence[Judgement],
    *,
    iterations: int = 1000,
    bootstrap: int = 200,
    seed: int = 0,
    prior: float = 0.5,
    level: float = 0.95,
) -> list[Rating]:
    """Ratings of every judged variant, best first.

    A tie counts as half a win for each side. The interval is a percentile bootstrap over
    judgements (``bootstrap`` resamples from ``seed``), so it reflects how much the ranking
    rests on a few verdicts; with ``bootstrap=0`` it collapses onto the estimate.
    """
    if iterations < 1:
        raise PreferenceError(f"iterations must be at least 1, got {iterations}")
    if bootstrap < 0:
        raise PreferenceError(f"bootstrap must be 0 or more, got {bootstrap}")
    if not prior > 0:
        raise PreferenceError(f"prior must be positive, got {prior}")
    if not 0 < level < 1:
        raise PreferenceError(f"level must be between 0 and 1, got {level}")
    judged = list(judgements)
    if not judged:
        return []
    variants = sorted({j.variant_a for j in judged} | {j.variant_b for j in judged})
    index = {name: i for i, name in enumerate(variants)}
    wins, games = _counts(judged, index)
    strength = _fit(wins, games, prior, iterations)

    low, high = strength.copy(), strength.copy()
    if bootstrap:
        rng = np.random.default_rng(seed)
        samples = np.empty((bootstrap, len(variants)), dtype=np.float64)
        for b in range(bootstrap):
            drawn = rng.integers(0, len(judged), size=len(judged))
            w, g = _counts([judged[int(i)] for i in drawn], index)
            samples[b] = _fit(w, g, prior, iterations, start=strength)
        tail = (1.0 - level) / 2.0 * 100.0
        low = np.percentile(samples, tail, axis=0)
        high = np.percentile(samples, 100.0 - tail, axis=0)

    record = {name: [0, 0, 0] for name in variants}
    for j in judged:
        if j.choice == "tie":
            record[j.variant_a][2] += 1
            record[j.variant_b][2] += 1
        else:
            winner, loser = (
                (j.variant_a, j.variant_b) if j.choice == "a" else (j.variant_b, j.variant_a)
            )
            record[winner][0] += 1
            record[loser][1] += 1

    ratings = [
        Rating(
            variant=name,
            strength=float(strength[i]),
            low=float(low[i]),
            high=float(high[i]),
            wins=record[name][0],
            losses=record[name][1],
            ties=record[name][2],
        )
        for i, name in enumerate(variants)
    ]
    ratings.sort(key=lambda r: (-r.strength, r.variant))
    return ratings


def agreement(ranking: Sequence[Rating | str], metric_means: Mapping[str, float]) -> float:
    """Kendall's tau-b between the people's ranking and a metric's means, from -1 to 1.

    ``ranking`` is best first, as :func:`bradley_terry` returns it (or plain variant names).
    Only variants present on both sides count. 1 means the metric orders the variants exactly
    as the judges did, -1 exactly backwards. NaN when there is no untied pair to compare —
    "no evidence", which must not read as "no agreement".
    """
    human: dict[str, float] = {}
    for position, item in enumerate(ranking):
        if isinstance(item, Rating):
            human[item.variant] = item.strength
        else:
            # Plain names carry only their order: earlier is better.
            human[item] = -float(position)
    shared = [name for name in human if name in metric_means]
    concordance = 0.0
    untied_human = untied_metric = 0
    for x, y in combinations(shared, 2):
        dh = float(np.sign(human[x] - human[y]))
        dm = float(np.sign(float(metric_means[x]) - float(metric_means[y])))
        concordance += dh * dm
        untied_human += dh != 0
        untied_metric += dm != 0
    if untied_human == 0 or untied_metric == 0:
        return math.nan
    return concordance / math.sqrt(untied_human * untied_metric)


# --- Export -----------------------------------------------------------------------------


def export_preferences(judgements: Sequence[Judgement]) -> str:
    """JSONL, one chosen/rejected pair per decided judgement; ties are left out.

    A tie says neither output is preferable, which a chosen/rejected pair cannot express.
    Text is written as UTF-8 rather than ``\\u`` escapes so the file stays readable.
    """
    lines: list[str] = []
    for j in judgements:
        if j.choice == "tie":
            continue
        a_wins = j.choice == "a"
        record = {
            "prompt": j.prompt,
            "chosen": j.output_a if a_wins else j.output_b,
            "rejected": j.output_b if a_wins else j.output_a,
            "chosen_variant": j.variant_a if a_wins else j.variant_b,
            "rejected_variant": j.variant_b if a_wins else j.variant_a,
            "chosen_model": j.model_a if a_wins else j.model_b,
            "rejected_model": j.model_b if a_wins else j.model_a,
            "input_id": j.input_id,
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


def read_preferences(text: str) -> list[dict[str, Any]]:
    """Preference records from JSONL, checked so a trainer never meets a malformed one.

    Blank lines are skipped. Every problem is reported at once, each with its line number,
    so a hand-edited file can be fixed in one pass.
    """
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(f"line {number}: not valid JSON ({err.msg} at column {err.colno})")
            continue
        if not isinstance(record, dict):
            problems.append(f"line {number}: expected a JSON object, got {type(record).__name__}")
            continue
        missing = [key for key in _REQUIRED_FIELDS if key not in record]
        if missing:
            problems.append(f"line {number}: missing {', '.join(missing)}")
            continue
        wrong = [key for key in EXPORT_FIELDS if key in record and not isinstance(record[key], str)]
        if wrong:
            problems.append(f"line {number}: {', '.join(wrong)} must be text")
            continue
        records.append(record)
    if problems:
        raise PreferenceError("invalid preference file:\n" + "\n".join(problems))
    return records
