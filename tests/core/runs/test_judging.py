"""A stored comparison laid out for judging: the outputs to rate, the blind pairs in judging
order, and the judgements as a preference dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from playground.comparison import ComparisonSpec, Input, Variant
from playground.errors import PlaygroundError
from playground.evaluation.preferences import read_preferences
from playground.ratings import DEFAULT_CRITERIA
from playground.runs.judging import PairQueue, input_label, judging_set, preference_dataset
from playground.sampling import SamplingParams
from playground.storage.store import Store
from tests.core.storage.records import make_result

VARIANTS = ("short", "long", "plain")
INPUTS = {"q1": "capital of France", "q2": "largest planet"}


def make_comparison(store: Store, samples: int = 1) -> tuple[int, dict[tuple[str, str, int], int]]:
    """Three variants on two inputs, ``samples`` each; every run ok except plain on q2's first
    sample. Returns the comparison id and (variant, input, sample) → run id."""
    params = SamplingParams(max_tokens=8)
    spec = ComparisonSpec(
        "judged", tuple(Variant(v, "t", f"{v}: {{{{ question }}}}", params, f"/m/{v}.gguf")
                        for v in VARIANTS),
        tuple(Input(i, {"question": q}) for i, q in INPUTS.items()), samples=samples,
    )
    cid = store.save_comparison(spec)
    variant_ids, input_ids = store.variant_ids(cid), store.input_ids(cid)
    runs = {}
    for v in VARIANTS:
        for i in INPUTS:
            for sample in range(samples):
                failed = v == "plain" and i == "q2" and sample == 0
                runs[v, i, sample] = store.save_run(
                    comparison_id=cid, variant_id=variant_ids[v], input_id=input_ids[i],
                    sample=sample, seed=sample, run_key=f"{v}-{i}-{sample}",
                    result=None if failed else make_result(f"{v} on {i} #{sample}"),
                    status="failed" if failed else "ok", error="crashed" if failed else None)
    return cid, runs


def test_the_outputs_to_rate_are_the_finished_ones_in_an_order_fixed_per_comparison(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "playground.db") as store:
        cid, runs = make_comparison(store)
        store.rate_criterion(runs["long", "q1", 0], "fluency", 4)
        store.rate(runs["long", "q1", 0], note="reads well")
        first, again = judging_set(store, cid), judging_set(store, cid)
    assert first.name == "judged" and first.criteria == DEFAULT_CRITERIA
    assert [i.run_id for i in first.items] == [i.run_id for i in again.items]
    assert sorted(i.run_id for i in first.items) == sorted(
        run for key, run in runs.items() if key != ("plain", "q2", 0))
    # Shuffled, so the variants interleave instead of coming in the order they were saved.
    assert [i.run_id for i in first.items] != sorted(i.run_id for i in first.items)
    rated = next(i for i in first.items if i.run_id == runs["long", "q1", 0])
    assert (rated.ratings, rated.note, rated.prompt, rated.input_key) == (
        {"fluency": 4}, "reads well", "capital of France", "q1")
    assert all(not i.ratings and not i.note for i in first.items if i is not rated)


def test_pairs_compare_two_variants_on_one_input_and_sample(tmp_path: Path) -> None:
    with Store(tmp_path / "playground.db") as store:
        cid, runs = make_comparison(store, samples=2)
        judging = judging_set(store, cid)
    # Three pairs of variants on four (input, sample) cells, less the two of the failed run.
    assert len(judging.pairs) == 3 * 4 - 2
    assert {p.input_id for p in judging.pairs} == {
        "q1 · sample 1", "q1 · sample 2", "q2 · sample 1", "q2 · sample 2"}
    for pair in judging.pairs:
        left = judging.pair_runs[pair.left_variant, pair.input_id]
        right = judging.pair_runs[pair.right_variant, pair.input_id]
        input_id, sample = pair.input_id.split(" · sample ")
        assert left == runs[pair.left_variant, input_id, int(sample) - 1]
        assert right == runs[pair.right_variant, input_id, int(sample) - 1]
        assert pair.left == f"{pair.left_variant} on {input_id} #{int(sample) - 1}"
        assert pair.prompt == INPUTS[input_id]
        assert pair.left_model == "SmolLM2-135M"  # the name the run recorded


def test_the_queue_skips_judged_pairs_and_puts_taken_back_ones_first(tmp_path: Path) -> None:
    with Store(tmp_path / "playground.db") as store:
        cid, _ = make_comparison(store)
        judging = judging_set(store, cid)
        first = judging.pairs[0]
        left = judging.pair_runs[first.left_variant, first.input_id]
        right = judging.pair_runs[first.right_variant, first.input_id]
        store.save_judgement(cid, left, right, "a")
        reopened = judging_set(store, cid)
    assert len(judging.pairs) == 4  # three pairs on q1, one on q2 (plain failed there)
    queue = PairQueue(reopened)
    assert (queue.total, queue.done) == (4, 1)
    assert queue.current == reopened.pairs[1]

    second = queue.current
    assert second is not None
    runs = queue.take(second)
    assert runs == (reopened.pair_runs[second.left_variant, second.input_id],
                    reopened.pair_runs[second.right_variant, second.input_id])
    assert queue.current == reopened.pairs[2] and queue.done == 2
    queue.put_back(second)  # its judgement could not be saved
    assert queue.current == second and queue.done == 1

    queue.taken_back(right, left)  # the saved judgement of the first pair, undone
    assert queue.current == first and queue.done == 0
    while queue.current is not None:
        queue.take(queue.current)
    assert queue.done == queue.total == 4
    assert PairQueue().current is None and PairQueue().total == 0


def test_a_pair_judged_twice_comes_back_only_when_both_are_undone(tmp_path: Path) -> None:
    with Store(tmp_path / "playground.db") as store:
        cid, _ = make_comparison(store)
        judging = judging_set(store, cid)
        pair = judging.pairs[0]
        left = judging.pair_runs[pair.left_variant, pair.input_id]
        right = judging.pair_runs[pair.right_variant, pair.input_id]
        store.save_judgement(cid, left, right, "a")
        store.save_judgement(cid, right, left, "tie")
        queue = PairQueue(judging_set(store, cid))
    assert queue.current != pair
    queue.taken_back(left, right)
    assert queue.current != pair
    queue.taken_back(left, right)
    assert queue.current == pair


def test_the_preference_dataset_leaves_ties_out_and_reads_back(tmp_path: Path) -> None:
    with Store(tmp_path / "playground.db") as store:
        cid, _ = make_comparison(store)
        with pytest.raises(PlaygroundError, match="there are no judgements to export yet"):
            preference_dataset(store, cid)
        judging = judging_set(store, cid)
        for pair, choice in zip(judging.pairs, ("a", "b", "tie"), strict=False):
            store.save_judgement(cid, judging.pair_runs[pair.left_variant, pair.input_id],
                                 judging.pair_runs[pair.right_variant, pair.input_id], choice)
        dataset = preference_dataset(store, cid)
    assert (dataset.pairs, dataset.ties) == (2, 1)
    records = read_preferences(dataset.text)
    assert len(records) == 2
    first = judging.pairs[0]
    assert (records[0]["chosen_variant"], records[0]["rejected_variant"]) == (
        first.left_variant, first.right_variant)


def test_an_input_is_named_by_its_id_and_the_shared_one_in_words() -> None:
    assert input_label("row-3") == "input row-3"
    assert input_label("q1") == "input q1"
    assert input_label("input") == "the shared input"
