"""A judge model run over a stored comparison: every output scored on a rubric, or every pair
of variants' outputs compared in both orders.

The judge's generations are a comparison of their own, saved with ``judged_id`` pointing at
the comparison judged (migration m008): one variant per criterion (the judge template, the
judge model, the criterion as a value) and one input per judged output (rubric) or per pair and
order (pairwise). They run through :func:`~playground.runs.runner.run_comparison` with the same
backend pool, so they are saved with their settings and reproducibility records, resume after a
cancel and can be run again from the stored spec.

A rubric score is read from the judge run's log-probabilities
(:func:`~playground.evaluation.judge_scores.read_rubric`) and saved as ``judge:<criterion>`` on
the judged run, where reports, intervals and paired tests find it like any metric; a judge run
that failed leaves an N/A with its error. Pairwise verdicts stay as the judge's two answers and
are combined when read (:mod:`playground.runs.judge_results`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from hashlib import sha256

from playground.comparison import ComparisonSpec
from playground.evaluation.judge_scores import judge_metric, read_rubric
from playground.prompts.templates import parse_template
from playground.runs.judge_plan import (
    JUDGE_LOGPROBS,
    JudgeError,
    judge_mode,
    judge_model_name,
    judged_run_id,
)
from playground.runs.runner import (
    BackendPool,
    CancelToken,
    RunDone,
    RunnerEvent,
    run_comparison,
)
from playground.scores import Score
from playground.storage.store import ComparisonRow, Store
from playground.wording import plural

__all__ = [
    "JudgeScored",
    "JudgeTally",
    "judge_label",
    "rerun_judge",
    "rubric_score",
    "run_judge",
    "stored_judge_spec",
]


@dataclass(frozen=True)
class JudgeScored:
    """A rubric score saved on a judged run (value None: N/A, ``score.reason`` says why)."""

    judged_run_id: int
    score: Score


@dataclass
class JudgeTally:
    """A rubric judge's scores so far, as every progress line counts them."""

    scored: int = 0
    not_applicable: int = 0

    def add(self, event: object) -> None:
        """Count ``event`` when it is a score (any other event of the judge is left alone)."""
        if isinstance(event, JudgeScored):
            if event.score.value is None:
                self.not_applicable += 1
            else:
                self.scored += 1

    def describe(self) -> str:
        """``6 outputs scored, 1 N/A``; empty before the first score."""
        if not (self.scored or self.not_applicable):
            return ""
        return f"{plural(self.scored, 'output')} scored, {self.not_applicable} N/A"


def judge_label(model: str, template_id: str, template_source: str, run_id: int | None) -> str:
    """What made a rubric score, for its signature: model, template version, judge run."""
    version = sha256(template_source.encode("utf-8")).hexdigest()[:8]
    return f"model:{model}|template:{template_id}@{version}|run:{run_id}"


def _judge_label(done: RunDone) -> str:
    variant = done.planned.variant
    model = judge_model_name(done.result.model if done.result is not None else None,
                             variant.model)
    return judge_label(model, variant.template_id, variant.template_source, done.run_id)


def rubric_score(done: RunDone) -> Score:
    """The judged output's score from one finished judge run; N/A when the run failed."""
    criterion = done.planned.variant.name
    if done.status != "ok" or done.result is None:
        metric = judge_metric(criterion)
        return Score(metric, None, f"{metric}|{_judge_label(done)}",
                     f"the judge run failed: {done.error or done.status}")
    rubric = read_rubric(done.result.text, done.result.logprobs)
    return rubric.to_score(criterion, judge=_judge_label(done))


def run_judge(
    store: Store,
    comparison_id: int,
    spec: ComparisonSpec,
    pool: BackendPool,
    *,
    judge_id: int | None = None,
    cancel: CancelToken | None = None,
) -> Iterator[RunnerEvent | JudgeScored]:
    """Run (or resume, with ``judge_id``) a judge over a comparison, yielding the runner's
    events and, for a rubric judge, each score as it is saved on the judged run."""
    mode = judge_mode(parse_template(spec.variants[0].template_source,
                                     spec.variants[0].template_id))
    if judge_id is None:
        judge_id = store.save_comparison(spec, judged_id=comparison_id)
    elif store.comparison(judge_id).judged_id != comparison_id:
        raise JudgeError(f"that judge did not judge {store.comparison(comparison_id).label}")
    for event in run_comparison(spec, pool, store=store, comparison_id=judge_id, cancel=cancel,
                                perplexity=False):
        if isinstance(event, RunDone) and mode == "rubric":
            judged = judged_run_id(event.planned.input.id)
            if judged is None:
                raise JudgeError(f"a rubric judge input {event.planned.input.id!r} names no run")
            score = rubric_score(event)
            store.set_scores({judged: [score]})
            yield event
            yield JudgeScored(judged, score)
            continue
        yield event


def stored_judge_spec(judge: ComparisonRow, criteria: Sequence[str] = ()) -> ComparisonSpec:
    """A stored judge's spec to run again or resume: as saved, with only ``criteria`` when
    some are named."""
    if judge.judged_id is None:
        raise JudgeError(f"{judge.label} is not a judge's runs")
    spec = judge.to_spec()
    if spec.logprobs is None:  # judges saved before specs kept the alternatives they ask for
        spec = replace(spec, logprobs=JUDGE_LOGPROBS)
    if not criteria:
        return spec
    variants = tuple(v for v in spec.variants if v.name in criteria)
    if not variants:
        judged = ", ".join(v.name for v in spec.variants)
        raise JudgeError(f"that judge judged {judged}, not {', '.join(criteria)}")
    named = ", ".join(v.name for v in spec.variants)  # the name lists them as judge_spec does
    name = spec.name.replace(f": {named})", f": {', '.join(v.name for v in variants)})", 1)
    return replace(spec, name=name, variants=variants)


def rerun_judge(
    store: Store,
    judge_id: int,
    pool: BackendPool,
    *,
    criteria: Sequence[str] = (),
    cancel: CancelToken | None = None,
) -> Iterator[RunnerEvent | JudgeScored]:
    """Run a stored judge again (on ``criteria`` only, when named) as a new judge with the
    same settings: its spec as saved, so the same template, model, seeds and judged outputs.
    The new judge's runs are saved with their own records and its scores replace the older
    ones."""
    row = store.comparison(judge_id)
    spec = stored_judge_spec(row, criteria)
    if row.judged_id is None:
        raise JudgeError(f"{row.label} is not a judge's runs")
    return run_judge(store, row.judged_id, spec, pool, cancel=cancel)
