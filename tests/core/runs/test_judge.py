"""A judge over a stored comparison: its runs stored apart and linked, rubric scores saved on
the judged runs with the expected score from scripted probabilities, pairwise verdicts from
both orders (a flip is a tie), and agreement with people's ratings in the report."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from playground.comparison import ComparisonSpec, Input, Variant, run_key
from playground.engine.models import resolve_model
from playground.engine.options import LoadOptions
from playground.evaluation.agreement import cohen_kappa
from playground.evaluation.exports import export
from playground.prompts.templates import BUILTIN_DIR, PromptTemplate, load_template_file
from playground.runs.history import stored_report
from playground.runs.judge_plan import JudgeError, judge_spec, pair_input_id
from playground.runs.judge_results import pairwise_verdicts
from playground.runs.judge_runner import JudgeScored, run_judge
from playground.runs.runner import BackendPool, RunDone
from playground.sampling import SamplingParams
from playground.scores import Score
from playground.storage.store import StorageError, Store
from tests.core.storage.records import make_result
from tests.fakes import FakeEngine, Script

TEMPLATE = "Answer: {{ text }}"


def _template(name: str) -> PromptTemplate:
    return load_template_file(BUILTIN_DIR / f"{name}.j2")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "playground.db") as opened:
        yield opened


def _judged(store: Store, inputs: int = 2) -> tuple[int, dict[tuple[str, str], int]]:
    """A saved comparison of two variants over ``inputs`` inputs, every run finished."""
    params = SamplingParams(temperature=0.0, max_tokens=8)
    spec = ComparisonSpec(
        name="judged", samples=1, metrics=(),
        variants=(Variant("short", "t", TEMPLATE, params, "m"),
                  Variant("long", "t", TEMPLATE + "!", params, "m")),
        inputs=tuple(Input(f"row-{n}", {"text": f"question {n}"}) for n in range(1, inputs + 1)),
    )
    cid = store.save_comparison(spec)
    variant_ids, input_ids = store.variant_ids(cid), store.input_ids(cid)
    runs: dict[tuple[str, str], int] = {}
    for variant in spec.variants:
        for item in spec.inputs:
            runs[variant.name, item.id] = store.save_run(
                comparison_id=cid, variant_id=variant_ids[variant.name],
                input_id=input_ids[item.id], sample=0, seed=1,
                run_key=run_key(variant, item, 0, 1),
                result=make_result(f"{variant.name} answer to {item.id}"), status="ok",
                error=None)
    store.set_status(cid, "done")
    return cid, runs


def _pool(engine: FakeEngine) -> BackendPool:
    return BackendPool(factory=lambda model: engine.open(resolve_model(model or None),
                                                         LoadOptions()))


def test_a_judge_is_stored_apart_and_linked_to_the_comparison_it_judged(store: Store) -> None:
    cid, _ = _judged(store)
    spec = judge_spec(store, cid, _template("judge-rubric"), "", ["coherence", "fluency"])
    assert [v.name for v in spec.variants] == ["coherence", "fluency"]
    assert len(spec.inputs) == 4 and spec.logprobs == 20
    judge_id = store.save_comparison(spec, judged_id=cid)
    assert [c.id for c in store.history()] == [cid]  # not one of the user's comparisons
    (judge,) = store.judges(cid)
    assert (judge.id, judge.label, judge.judged_id) == (judge_id, "judge of #1", cid)
    later = store.save_comparison(ComparisonSpec(
        "next", (Variant("v", "t", TEMPLATE, SamplingParams(), "m"),), (Input("i", {}),)))
    assert store.comparison(later).label == "#2"  # the judge took no number
    with pytest.raises(JudgeError, match="judge the comparison itself"):
        judge_spec(store, judge_id, _template("judge-rubric"), "")
    store.delete_comparison(cid)
    with pytest.raises(StorageError):
        store.comparison(judge_id)


def test_a_template_that_reads_no_output_is_not_a_judge(store: Store) -> None:
    cid, _ = _judged(store)
    with pytest.raises(JudgeError, match="not a judge template"):
        judge_spec(store, cid, load_template_file(BUILTIN_DIR / "qa-zero-shot.j2"), "")


def test_rubric_scores_from_scripted_probabilities_are_saved_on_the_judged_runs(
    store: Store,
) -> None:
    """The judge answers "4" with "3" and " 4" as alternatives: the expected score is the
    probability-weighted mean over the scale, renormalised; re-running replaces it."""
    cid, runs = _judged(store)
    engine = FakeEngine()
    engine.script(Script(text="4 because", first_top=(("4", 0.6), (" 4", 0.1), ("3", 0.2),
                                                      ("the", 0.05))))
    spec = judge_spec(store, cid, _template("judge-rubric"), "", ["coherence"])
    events = list(run_judge(store, cid, spec, _pool(engine)))
    scored = [e for e in events if isinstance(e, JudgeScored)]
    assert sorted(e.judged_run_id for e in scored) == sorted(runs.values())
    expected = (4 * 0.7 + 3 * 0.2) / 0.9
    for run_id in runs.values():
        score = store.run(run_id).score("judge:coherence")
        assert score is not None and score.value == pytest.approx(expected)
        assert "source:logprobs" in score.signature
        assert "template:judge-rubric@" in score.signature
    assert all(r.record is not None for r in store.runs(store.judges(cid)[0].id))
    assert all(r.logprobs and len(r.logprobs[0].top) == 4
               for r in store.runs(store.judges(cid)[0].id))
    engine.script(Script(text="4", first_top=(("Great", 0.7), ("4", 0.3))))
    list(run_judge(store, cid, spec, _pool(engine)))
    score = store.run(runs["short", "row-1"]).score("judge:coherence")
    assert score is not None and score.value is None  # only 30 % on the scale: N/A
    assert score.reason is not None and "on the scale" in score.reason
    report = stored_report(store, cid)
    assert report.judge is not None
    (rubric,) = report.judge.rubric
    assert (rubric.scored, rubric.not_applicable) == (0, 4)
    assert rubric.reasons[0][1] == 4
    assert "4 N/A" in export(report, "md") and "N/A ×4" in export(report, "md")


def test_pairwise_verdicts_come_from_both_orders_and_a_flip_is_a_tie(store: Store) -> None:
    """Constructed answers: on row-1 the judge names the same output in both orders; on row-2
    it names "A" both times, which follows the position and counts as a tie."""
    cid, runs = _judged(store)
    spec = judge_spec(store, cid, _template("judge-pairwise"), "", ["relevance"])
    assert len(spec.inputs) == 4  # one pair per input, in two orders
    judge_id = store.save_comparison(spec, judged_id=cid)
    answers = {
        pair_input_id(runs["short", "row-1"], runs["long", "row-1"], "ab"): " B",
        pair_input_id(runs["short", "row-1"], runs["long", "row-1"], "ba"): " A",
        pair_input_id(runs["short", "row-2"], runs["long", "row-2"], "ab"): " A",
        pair_input_id(runs["short", "row-2"], runs["long", "row-2"], "ba"): " A",
    }
    input_ids, variant_ids = store.input_ids(judge_id), store.variant_ids(judge_id)
    for item in spec.inputs:
        store.save_run(comparison_id=judge_id, variant_id=variant_ids["relevance"],
                       input_id=input_ids[item.id], sample=0, seed=1,
                       run_key=run_key(spec.variants[0], item, 0, 1),
                       result=make_result(answers[item.id]), status="ok", error=None)
    verdicts = {p.run_a: p for p in pairwise_verdicts(store, cid, store.comparison(judge_id))}
    first = verdicts[runs["short", "row-1"]]
    assert first.verdict.choice == "b" and not first.verdict.flipped
    assert first.judgement is not None and first.judgement.variant_b == "long"
    second = verdicts[runs["short", "row-2"]]
    assert second.verdict.choice == "tie" and second.verdict.flipped
    report = stored_report(store, cid)
    assert report.judge is not None
    (pairwise,) = report.judge.pairwise
    assert (pairwise.bias.pairs, pairwise.bias.flips, pairwise.bias.toward_first) == (2, 1, 1)
    assert [r.variant for r in pairwise.ranking] == ["long", "short"]
    assert "changed with the order on 1 of 2 pairs" in export(report, "html")


def test_agreement_with_stored_likert_ratings_in_the_report(store: Store) -> None:
    """People's ratings and constructed judge scores on 12 outputs over 6 inputs: κ and the
    verdict as computed independently; a score read from text is labelled."""
    cid, runs = _judged(store, inputs=6)
    people = [1, 2, 3, 4, 5, 3, 2, 4, 5, 1, 3, 4]
    judge = [1, 2, 3, 4, 5, 3, 2, 4, 4, 1, 3, 4]
    store.set_criteria(cid, ["coherence"])
    ordered = sorted(runs.values())
    for run_id, human, score in zip(ordered, people, judge, strict=True):
        store.rate_criterion(run_id, "coherence", human)
        source = "text" if run_id == ordered[0] else "logprobs"
        store.set_scores({run_id: [Score("judge:coherence", float(score),
                                         f"judge:coherence|model:M|template:judge-rubric@x|"
                                         f"run:1|source:{source}|scale:1-5")]})
    report = stored_report(store, cid)
    assert report.judge is not None and "judge:coherence" in report.metrics
    (rubric,) = report.judge.rubric
    assert rubric.from_text == 1 and rubric.judge == "M with judge-rubric"
    agreement = rubric.agreement
    assert agreement is not None and agreement.kappa is not None
    assert agreement.kappa.mean == pytest.approx(cohen_kappa(people, judge, "quadratic"))
    n = len(people)
    observed = sum((h - j) ** 2 for h, j in zip(people, judge, strict=True)) / n
    chance = sum((h - j) ** 2 for h in people for j in judge) / n**2
    assert agreement.kappa.mean == pytest.approx(1 - observed / chance)
    assert agreement.standing == "good" and agreement.pairs == 12
    md = export(report, "md")
    assert "### Judge agreement" in md and "The judge agrees well" in md
    assert "read from the judge's sampled text" in md
    assert math.isfinite(agreement.kappa.low)


def test_a_failed_judge_run_leaves_an_n_a_with_its_error(store: Store) -> None:
    cid, runs = _judged(store)
    engine = FakeEngine()
    engine.script(Script(text="4", fail_after=0))
    spec = judge_spec(store, cid, _template("judge-rubric"), "", ["fluency"])
    events = list(run_judge(store, cid, spec, _pool(engine)))
    assert all(e.status == "failed" for e in events if isinstance(e, RunDone))
    score = store.run(runs["long", "row-2"]).score("judge:fluency")
    assert score is not None and score.value is None
    assert score.reason is not None and score.reason.startswith("the judge run failed")
