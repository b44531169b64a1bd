"""Stored comparisons read back as reports: what History, Evaluate, Compare and the CLI show.

A report made from the database (after a resume, or later) must match the one made while the
comparison ran, so every face of the app builds it here, from the rows the store keeps.
"""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from playground.evaluation.report import ComparisonReport, ReportRun, build_report
from playground.ratings import Choice, Judgement, input_prompt
from playground.storage.store import Store, run_model_name


def stored_report(store: Store, comparison_id: int) -> ComparisonReport:
    """The full report of a saved comparison (metrics, sweep, Likert ratings, pairwise
    ranking): the one every face of the app shows and exports for a stored comparison."""
    row = store.comparison(comparison_id)
    spec = row.to_spec()
    runs = report_runs(store, comparison_id)
    people = comparison_judgements(store, comparison_id)
    report = build_report(
        row.name,
        runs,
        language=row.language,
        sweep=spec.sweep_values(),
        sweep_param=spec.sweep_param,
        criteria=store.criteria(comparison_id),
        judgements=people,
    )
    return with_judge(store, comparison_id, report, runs, people)


def with_judge(
    store: Store,
    comparison_id: int,
    report: ComparisonReport,
    runs: list[ReportRun],
    people: list[Judgement],
) -> ComparisonReport:
    """``report`` with what a judge said beyond its scores (for exports), where one judged."""
    from playground.runs.judge_results import judge_evaluation

    judge = judge_evaluation(store, comparison_id, runs, people)
    return report if judge is None else replace(report, judge=judge)


def report_runs(store: Store, comparison_id: int) -> list[ReportRun]:
    """A saved comparison in the shape the report builds from, so a report made from the
    database (after a resume, or later) matches one made while the comparison ran."""
    variants = {v.id: v.name for v in store.variants(comparison_id)}
    inputs = {i.id: i for i in store.inputs(comparison_id)}
    ratings: dict[int, dict[str, int]] = {}
    for rating in store.criterion_ratings(comparison_id):
        ratings.setdefault(rating.run_id, {})[rating.criterion] = rating.score
    runs = []
    for run in store.runs(comparison_id):
        input_row = inputs.get(run.input_id) if run.input_id is not None else None
        runs.append(
            ReportRun(
                variant=variants.get(run.variant_id, "") if run.variant_id is not None else "",
                input_id=input_row.input_key if input_row else "",
                sample=run.sample,
                seed=run.seed,
                status=run.status,
                prompt=run.rendered_prompt or "",
                output=run.output or "",
                references=input_row.references if input_row else (),
                scores={s.metric: s.value for s in run.scores},
                tokens_per_second=run.tokens_per_second,
                total_s=run.total_s,
                ttft_s=run.ttft_s,
                error=run.error,
                run_id=run.id,
                criteria=ratings.get(run.id, {}),
                record=run.record,
                reasons={s.metric: s.reason for s in run.scores if s.reason},
            )
        )
    return runs


def comparison_judgements(store: Store, comparison_id: int) -> list[Judgement]:
    """A comparison's saved judgements with the texts, variants and models they were about:
    what the ranking is fitted on and the preference dataset is written from."""
    variants = {v.id: v for v in store.variants(comparison_id)}
    inputs = {i.id: i for i in store.inputs(comparison_id)}
    runs = {r.id: r for r in store.runs(comparison_id)}
    out: list[Judgement] = []
    for row in store.judgements(comparison_id):
        run_a, run_b = runs[row.run_a], runs[row.run_b]
        variant_a = variants[run_a.variant_id] if run_a.variant_id is not None else None
        variant_b = variants[run_b.variant_id] if run_b.variant_id is not None else None
        if variant_a is None or variant_b is None:
            continue  # not possible for a saved judgement; skipped rather than guessed
        input_row = inputs[row.input_id]
        out.append(
            Judgement(
                input_id=input_row.input_key,
                prompt=input_prompt(input_row.values),
                variant_a=variant_a.name,
                output_a=run_a.output or "",
                variant_b=variant_b.name,
                output_b=run_b.output or "",
                choice=cast(Choice, row.choice),
                model_a=run_model_name(run_a, variant_a),
                model_b=run_model_name(run_b, variant_b),
            )
        )
    return out
