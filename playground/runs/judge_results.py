"""A comparison's judges read back: rubric scores counted, pairwise verdicts combined from both
orders, the judge's ranking, and its agreement with the people who rated the same outputs.

Rubric scores are already on the judged runs (``judge:<criterion>``); this adds what a metric
cannot carry. Pairwise verdicts are combined here from the judge's two answers per pair, so a
judge resumed or read later gives the same verdicts. For each criterion the newest judge that
judged it counts (:func:`counting_judges`): a judge run again replaces the older one's verdicts,
as its rubric scores replace the older scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from playground.evaluation.agreement import (
    likert_agreement,
    likert_pairs,
    match_judgements,
    pairwise_agreement,
)
from playground.evaluation.judge_pairs import Verdict, as_judgement, pairwise_verdict, position_bias
from playground.evaluation.judge_report import (
    JudgeEvaluation,
    PairwiseSummary,
    RubricSummary,
    judge_name,
    rubric_summary,
)
from playground.evaluation.judge_scores import criterion_of, is_judge_metric
from playground.evaluation.preferences import bradley_terry
from playground.evaluation.report import ReportRun
from playground.ratings import Judgement, input_prompt
from playground.runs.judge_plan import (
    JudgeMode,
    judge_criteria,
    parse_pair_input,
    stored_judge_model,
    stored_mode,
)
from playground.storage.store import ComparisonRow, Store, run_model_name

__all__ = ["FINISHED", "JudgedPair", "counting_judges", "judge_evaluation", "pairwise_verdicts"]


@dataclass(frozen=True)
class JudgedPair:
    """A judge's verdict on two runs of the judged comparison, ``run_a`` shown first in the
    A/B order, with the verdict as a person's blind judgement (None: N/A)."""

    criterion: str
    run_a: int
    run_b: int
    verdict: Verdict
    judgement: Judgement | None


#: A judge run that finished, with an answer or an error: a verdict, or an N/A that says why.
#: A run stopped before it finished judged nothing.
FINISHED = ("ok", "failed")


def counting_judges(store: Store, comparison_id: int) -> dict[tuple[JudgeMode, str], ComparisonRow]:
    """For each way of judging and criterion, the judge whose verdicts count: the newest one
    that finished a judge run on it. A judge stopped before it judged a criterion replaces
    nothing there; the older judge's verdicts still count, in History as in the report."""
    out: dict[tuple[JudgeMode, str], ComparisonRow] = {}
    for judge in store.judges(comparison_id):  # oldest first: the newest wins
        mode = stored_mode(judge)
        if mode is None:  # a judge whose template no longer parses is left out
            continue
        names = {v.id: v.name for v in store.variants(judge.id)}
        judged = {names.get(r.variant_id or 0) for r in store.runs(judge.id)
                  if r.status in FINISHED}
        for criterion in judge_criteria(judge):
            if criterion in judged:
                out[mode, criterion] = judge
    return out


def pairwise_verdicts(store: Store, comparison_id: int, judge: ComparisonRow) -> list[JudgedPair]:
    """Every pair a pairwise judge answered in both orders (or tried to), combined; a pair
    whose runs were all stopped before they finished is not among them."""
    judged_runs = {r.id: r for r in store.runs(comparison_id)}
    variants = {v.id: v for v in store.variants(comparison_id)}
    inputs = {i.id: i for i in store.inputs(comparison_id)}
    judge_variants = {v.id: v.name for v in store.variants(judge.id)}
    judge_inputs = {i.id: i.input_key for i in store.inputs(judge.id)}
    answers: dict[tuple[str, int, int], dict[str, str | None]] = {}
    for run in store.runs(judge.id):
        key = judge_inputs.get(run.input_id or 0, "")
        parsed = parse_pair_input(key)
        if parsed is None or run.variant_id not in judge_variants or run.status not in FINISHED:
            continue
        a, b, order = parsed
        criterion = judge_variants[run.variant_id]
        answers.setdefault((criterion, a, b), {"ab": None, "ba": None})[order] = (
            run.output if run.status == "ok" else None)
    out: list[JudgedPair] = []
    for (criterion, a, b), both in answers.items():
        verdict = pairwise_verdict(both["ab"], both["ba"])
        run_a, run_b = judged_runs.get(a), judged_runs.get(b)
        judgement = None
        if run_a is not None and run_b is not None and run_a.variant_id in variants \
                and run_b.variant_id in variants and run_a.input_id in inputs:
            va, vb = variants[run_a.variant_id], variants[run_b.variant_id]
            judged_input = inputs[run_a.input_id]
            judgement = as_judgement(
                verdict, input_id=judged_input.input_key, prompt=input_prompt(judged_input.values),
                variant_a=va.name, output_a=run_a.output or "", variant_b=vb.name,
                output_b=run_b.output or "", model_a=run_model_name(run_a, va),
                model_b=run_model_name(run_b, vb))
        out.append(JudgedPair(criterion, a, b, verdict, judgement))
    return out


def _judge_names(store: Store, judge: ComparisonRow) -> str:
    """The judge's model as its runs recorded it (else as asked for) and its template."""
    variants = judge.spec.get("variants") or [{}]
    model = stored_judge_model(judge, store.runs(judge.id))
    return judge_name(f"model:{model}|template:{variants[0].get('template_id', '')}")


def _pairwise(
    store: Store, comparison_id: int, people: Sequence[Judgement], seed: int
) -> list[PairwiseSummary]:
    out: list[PairwiseSummary] = []
    verdicts: dict[int, list[JudgedPair]] = {}  # a judge's verdicts, read once for its criteria
    for (mode, criterion), judge in counting_judges(store, comparison_id).items():
        if mode != "pairwise":
            continue
        if judge.id not in verdicts:
            verdicts[judge.id] = pairwise_verdicts(store, comparison_id, judge)
        pairs = [p for p in verdicts[judge.id] if p.criterion == criterion]
        judged = [p.judgement for p in pairs if p.judgement is not None]
        ranking = tuple(bradley_terry(judged, seed=seed)) if judged else ()
        matched = match_judgements(people, judged) if people else []
        agreement = pairwise_agreement(criterion, matched, seed=seed) if matched else None
        out.append(PairwiseSummary(criterion, _judge_names(store, judge), len(judged),
                                   position_bias(p.verdict for p in pairs), ranking, agreement))
    return out


def judge_evaluation(
    store: Store,
    comparison_id: int,
    runs: Sequence[ReportRun],
    people: Sequence[Judgement] = (),
    *,
    seed: int = 0,
) -> JudgeEvaluation | None:
    """What the comparison's judges said beyond their scores; None when it was never judged.

    ``runs`` are the comparison's report runs (people's Likert ratings ride on them) and
    ``people`` its blind pairwise judgements: agreement is measured where both exist.
    """
    scores = [s for run in store.runs(comparison_id) for s in run.scores
              if is_judge_metric(s.metric)]
    rubric: list[RubricSummary] = []
    for criterion in sorted({criterion_of(s.metric) for s in scores}):
        pairs = likert_pairs(runs, criterion)
        agreement = likert_agreement(criterion, pairs, seed=seed) if pairs else None
        rubric.append(rubric_summary(criterion, scores, agreement))
    pairwise = _pairwise(store, comparison_id, people, seed)
    if not rubric and not pairwise:
        return None
    return JudgeEvaluation(tuple(rubric), tuple(pairwise))
