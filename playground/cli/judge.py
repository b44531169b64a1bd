"""``playground judge``: a judge model scores a saved comparison's outputs on a rubric, or
compares its variants' outputs pair by pair in both orders, and says what it found."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import TextIO

from playground.cli.history import find_stored
from playground.cli.output import ctrl_c_calls
from playground.cli.parser import load_options
from playground.cli.userdata import open_collection, open_store
from playground.comparison import ComparisonSpec
from playground.errors import PlaygroundError
from playground.evaluation.judge_report import judge_lines
from playground.evaluation.judge_scores import is_judge_metric
from playground.evaluation.report import ComparisonReport
from playground.evaluation.scales import column_label, describe
from playground.runs.eta import describe_eta
from playground.runs.history import stored_report
from playground.runs.judge_history import judges_to_rerun
from playground.runs.judge_plan import judge_mode, judge_spec, judge_template
from playground.runs.judge_runner import (
    JudgeScored,
    JudgeTally,
    rerun_judge,
    run_judge,
    stored_judge_spec,
)
from playground.runs.runner import (
    BackendPool,
    CancelToken,
    ComparisonFinished,
    Progress,
    RunDone,
    RunnerEvent,
)
from playground.storage.store import ComparisonRow, Store
from playground.terminal import escape_controls, raw
from playground.wording import plural

#: The library's judge templates, used when --template is not given.
DEFAULT_TEMPLATES = {"rubric": "judge-rubric", "pairwise": "judge-pairwise"}


def _resumable(store: Store, row: ComparisonRow) -> ComparisonRow:
    stopped = [j for j in store.judges(row.id) if j.status != "done"]
    if not stopped:
        raise PlaygroundError(f"{row.label} has no stopped judge to resume; run one without "
                              "--resume")
    return stopped[-1]


def summary_lines(report: ComparisonReport) -> list[str]:
    """Each judge metric's mean per variant, then what the judge said beyond its scores."""
    lines: list[str] = []
    for metric in (m for m in report.metrics if is_judge_metric(m)):
        lines.append(column_label(metric, "mean [95 % interval]") + ":")
        width = max(len(v.name) for v in report.variants)
        lines += [f"  {escape_controls(v.name):<{width}}  {describe(metric, v.metrics.get(metric))}"
                  for v in report.variants]
    if report.judge is not None:
        lines += [escape_controls(line) for line in judge_lines(report.judge)]
    return lines


def _follow(events: Iterator[RunnerEvent | JudgeScored], err: TextIO) -> str:
    """Show a judge's progress on stderr as it runs; its final status."""
    status, tally = "done", JudgeTally()
    for event in events:
        tally.add(event)
        if isinstance(event, RunDone) and event.status == "failed":
            err.write(f"\n  judge run failed: {event.error}\n")
        elif isinstance(event, Progress):
            left = describe_eta(event.eta_s, event.total - event.skipped - event.done)
            line = (f"  {event.done + event.skipped}/{event.total} judge runs"
                    + (f", {tally.not_applicable} N/A" if tally.not_applicable else "")
                    + (f", {left}" if left else ""))
            raw(err).write("\r" + line.ljust(56))
            err.flush()
        elif isinstance(event, ComparisonFinished):
            status = event.status
            err.write(f"\n{status}: {plural(event.done, 'judge run')} in "
                      f"{event.elapsed_s:.1f} s"
                      + ("; resume with --resume" if status == "cancelled" else "")
                      + "\n")
    return status


def _announce(spec: ComparisonSpec, err: TextIO) -> None:
    criteria = plural(len(spec.variants), "criterion", "criteria")
    err.write(f"{escape_controls(spec.name)}: {criteria} × "
              f"{plural(len(spec.inputs), 'judged item')}\n")


def _new_judge(args: argparse.Namespace, store: Store, row: ComparisonRow,
               err: TextIO) -> tuple[ComparisonSpec, int | None]:
    """The judge to run: the stopped one to resume, or a new one as the options ask."""
    if args.resume:
        judge = _resumable(store, row)
        return stored_judge_spec(judge), judge.id
    mode = "pairwise" if args.pairwise else "rubric"
    template = judge_template(open_collection(err), args.template or DEFAULT_TEMPLATES[mode])
    if args.pairwise and judge_mode(template) != "pairwise":
        raise PlaygroundError(f"--pairwise needs a pairwise judge template; "
                              f"{template.id} scores one output at a time")
    return judge_spec(store, row.id, template, args.model or "", args.criterion), None


def _check_rerun(args: argparse.Namespace) -> None:
    clashing = [flag for flag, given in (("--resume", args.resume), ("--pairwise", args.pairwise),
                                         ("--template", args.template), ("--model", args.model),
                                         ("--criterion", args.criterion)) if given]
    if clashing:
        raise PlaygroundError(f"--rerun runs the stored judges with their own settings; drop "
                              f"{', '.join(clashing)} (name one criterion as --rerun CRITERION)")


def cmd_judge(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    rerun: str | None = args.rerun
    if rerun is not None:
        _check_rerun(args)
    pool = BackendPool(load_options(args))
    cancel = CancelToken()
    status = "done"
    try:
        with open_store(args.db, err) as store:
            row = find_stored(store, args.number)
            with ctrl_c_calls(cancel.cancel):
                if rerun is not None:
                    for judge, criteria in judges_to_rerun(store, row.id, rerun or None):
                        _announce(stored_judge_spec(judge, criteria), err)
                        status = _follow(rerun_judge(store, judge.id, pool, criteria=criteria,
                                                     cancel=cancel), err)
                        if status == "cancelled":
                            break
                else:
                    spec, judge_id = _new_judge(args, store, row, err)
                    _announce(spec, err)
                    status = _follow(run_judge(store, row.id, spec, pool, judge_id=judge_id,
                                               cancel=cancel), err)
            report = stored_report(store, row.id)
    finally:
        pool.close()
    out.write(f"{row.label}: {escape_controls(row.name)}\n")
    out.write("\n".join(summary_lines(report)) + "\n")
    return 130 if status == "cancelled" else 0
