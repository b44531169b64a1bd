"""A comparison's judges as History lists them, which judges a re-run runs again, and what
deleting one does to the scores the judges left on the judged runs.

The rule the judge's scores follow is the one :mod:`playground.runs.judge_results` reads
verdicts by (:func:`~playground.runs.judge_results.counting_judges`): for each criterion the
newest judge that judged it counts. A re-run is a new judge, so its
scores replace the older ones; a deleted judge's scores give way to what the judges still
stored said, as if it had never run (each remaining rubric judge's scores are read again from
its saved runs, oldest first, so a newer judge overwrites an older one run by run).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from playground.evaluation.judge_scores import judge_metric, read_rubric
from playground.runs.judge_plan import (
    JudgeError,
    JudgeMode,
    judge_criteria,
    judge_model_name,
    judged_run_id,
    stored_judge_model,
    stored_mode,
)
from playground.runs.judge_results import FINISHED, counting_judges, pairwise_verdicts
from playground.runs.judge_runner import judge_label
from playground.scores import Score
from playground.storage.store import ComparisonRow, Store
from playground.wording import human_time, plural

__all__ = [
    "JudgeSummary",
    "comparison_judges",
    "delete_judge",
    "judges_to_rerun",
]


@dataclass(frozen=True)
class JudgeSummary:
    """One judge of a comparison, counted from its own saved runs (so an older judge keeps
    what it found after a newer one replaced its scores)."""

    id: int
    #: None when the judge's stored template no longer reads as a judge template
    mode: JudgeMode | None
    model: str
    criteria: tuple[str, ...]
    created_at: str
    status: str
    #: outputs scored (rubric) or pairs given a verdict (pairwise)
    scored: int
    not_applicable: int
    #: pairwise: pairs whose verdict changed with the order (counted as ties)
    flips: int
    #: judge runs saved, of those planned
    runs: int
    planned: int
    #: criteria a newer judge judged again, whose scores are no longer this judge's
    replaced: tuple[str, ...]

    def describe(self, now: datetime | None = None) -> str:
        """``Judged by SmolLM2 on relevance, coherence · today 14:02 · 6 scored, 0 N/A``."""
        how = "pairwise " if self.mode == "pairwise" else ""
        parts = [f"Judged {how}by {self.model} on {', '.join(self.criteria)}",
                 human_time(self.created_at, now)]
        if self.mode == "pairwise":
            parts.append(f"{plural(self.scored, 'pair')} decided, {self.not_applicable} N/A, "
                         f"{plural(self.flips, 'flip')}")
        else:
            parts.append(f"{self.scored} scored, {self.not_applicable} N/A")
        if self.status != "done":
            stopped = "stopped" if self.status == "cancelled" else self.status
            parts.append(f"{stopped} at {self.runs} of {plural(self.planned, 'judge run')}")
        if self.replaced:
            which = ("" if set(self.replaced) >= set(self.criteria)
                     else " on " + ", ".join(self.replaced))
            parts.append(f"replaced by a newer judge{which}")
        return " · ".join(parts)


def _stored_scores(store: Store, judge: ComparisonRow,
                   criteria: Sequence[str]) -> dict[int, list[Score]]:
    """A rubric judge's scores read again from its saved runs, per judged run; a failed judge
    run is an N/A with its error, as when it ran."""
    variants = {v.id: v for v in store.variants(judge.id) if v.name in criteria}
    inputs = {i.id: i.input_key for i in store.inputs(judge.id)}
    out: dict[int, list[Score]] = {}
    for run in store.runs(judge.id):
        variant = variants.get(run.variant_id or 0)
        judged = judged_run_id(inputs.get(run.input_id or 0, ""))
        if variant is None or judged is None or run.status not in FINISHED:
            continue
        model = judge_model_name(run.model, variant.model)
        label = judge_label(model, variant.template_id, variant.template_source, run.id)
        metric = judge_metric(variant.name)
        if run.status == "ok":
            score = read_rubric(run.output or "", run.logprobs).to_score(variant.name, label)
        else:
            score = Score(metric, None, f"{metric}|{label}",
                          f"the judge run failed: {run.error or run.status}")
        out.setdefault(judged, []).append(score)
    return out


def _summary(store: Store, comparison_id: int, judge: ComparisonRow,
             newer: set[str]) -> JudgeSummary:
    runs = store.runs(judge.id)
    mode = stored_mode(judge)
    scored = not_applicable = flips = 0
    if mode == "pairwise":
        for pair in pairwise_verdicts(store, comparison_id, judge):
            scored += pair.verdict.choice is not None
            not_applicable += pair.verdict.choice is None
            flips += pair.verdict.flipped
    else:
        for scores in _stored_scores(store, judge, judge_criteria(judge)).values():
            scored += sum(s.value is not None for s in scores)
            not_applicable += sum(s.value is None for s in scores)
    criteria = judge_criteria(judge)
    return JudgeSummary(
        id=judge.id, mode=mode, model=stored_judge_model(judge, runs), criteria=criteria,
        created_at=judge.created_at, status=judge.status, scored=scored,
        not_applicable=not_applicable, flips=flips, runs=judge.run_count,
        planned=judge.expected_runs, replaced=tuple(c for c in criteria if c in newer))


def comparison_judges(store: Store, comparison_id: int) -> list[JudgeSummary]:
    """The comparison's judges, newest first, each with what it found and the criteria on
    which a newer judge's verdicts now count instead."""
    judges = store.judges(comparison_id)
    order = {judge.id: i for i, judge in enumerate(judges)}
    counting = counting_judges(store, comparison_id)
    out: list[JudgeSummary] = []
    for judge in reversed(judges):
        mode = stored_mode(judge)
        newer = {c for c in judge_criteria(judge)
                 if mode is not None and (mode, c) in counting
                 and order[counting[mode, c].id] > order[judge.id]}
        out.append(_summary(store, comparison_id, judge, newer))
    return out


def judges_to_rerun(
    store: Store, comparison_id: int, criterion: str | None = None
) -> list[tuple[ComparisonRow, tuple[str, ...]]]:
    """The judges a re-run runs again, oldest first, each with the criteria to run: for every
    criterion (and way of judging) the judge whose verdicts count, so a judge replaced by a
    newer one is not run again (where no judge finished a run, the newest that was asked);
    only ``criterion`` when one is named."""
    judges = store.judges(comparison_id)
    newest: dict[tuple[JudgeMode | None, str], ComparisonRow] = {}
    for judge in judges:
        for name in judge_criteria(judge):
            newest[stored_mode(judge), name] = judge
    for key, judge in counting_judges(store, comparison_id).items():
        newest[key] = judge
    chosen: dict[int, list[str]] = {}
    for (_, name), judge in newest.items():
        if criterion is None or name == criterion.strip():
            chosen.setdefault(judge.id, []).append(name)
    if not chosen:
        label = store.comparison(comparison_id).label
        if not judges:
            raise JudgeError(f"{label} has not been judged yet; judge it first")
        known = ", ".join(sorted({name for _, name in newest}))
        raise JudgeError(f"no judge of {label} judged {criterion!r}; its judges judged {known}")
    return [(judge, tuple(sorted(chosen[judge.id], key=judge_criteria(judge).index)))
            for judge in judges if judge.id in chosen]


def delete_judge(store: Store, judge_id: int) -> int:
    """Delete a judge with its runs; its rubric scores give way to those of the comparison's
    remaining judges (none left: the scores go). Returns the judged comparison's id."""
    judge = store.comparison(judge_id)
    if judge.judged_id is None:
        raise JudgeError(f"{judge.label} is not a judge's runs")
    cid = judge.judged_id
    criteria = judge_criteria(judge) if stored_mode(judge) == "rubric" else ()
    store.delete_comparison(judge_id)
    if criteria:
        scores: dict[tuple[int, str], Score] = {}
        for other in store.judges(cid):  # oldest first: a newer judge's score wins
            if stored_mode(other) != "rubric":
                continue
            for run_id, found in _stored_scores(store, other, criteria).items():
                scores.update(((run_id, s.metric), s) for s in found)
        by_run: dict[int, list[Score]] = {}
        for (run_id, _), score in scores.items():
            by_run.setdefault(run_id, []).append(score)
        store.reset_scores([r.id for r in store.runs(cid)],
                           [judge_metric(c) for c in criteria], by_run)
    return cid
