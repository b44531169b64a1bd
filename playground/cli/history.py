"""Commands on what the database keeps: ``history`` lists and searches it, ``show`` and
``export`` report a saved comparison, ``replay`` runs a stored run again, ``judgements export``
writes people's pairwise verdicts as a preference dataset."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any, TextIO

from playground.cli.output import summary_md
from playground.cli.userdata import open_store
from playground.errors import PlaygroundError
from playground.evaluation.exports import export
from playground.evaluation.preferences import export_preferences
from playground.runs.history import comparison_judgements, stored_report
from playground.runs.replay import LoadOverrides, ReplayReport, replay
from playground.terminal import escape_controls, json_text


def cmd_history(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with open_store(args.db, err) as store:
        if args.search is not None:
            runs = store.search(args.search, limit=args.limit)
            if args.json:
                out.write(json_text([{"run_id": r.id, "comparison_id": r.comparison_id,
                            "status": r.status, "output": r.output, "created_at": r.created_at}
                           for r in runs]))
                out.write("\n")
                return 0
            for r in runs:
                text = escape_controls(" ".join((r.output or r.error or "").split()))
                out.write(f"run {r.id:>6}  comparison {r.comparison_id or '-':>5}  "
                          f"{r.created_at[:19]}  {text[:80]}\n")
            if not runs:
                out.write("no runs match\n")
            return 0
        rows = store.history(limit=args.limit)
    if args.json:
        out.write(json_text([{"id": c.id, "name": c.name, "created_at": c.created_at,
                              "status": c.status, "runs": c.run_count,
                              "expected_runs": c.expected_runs, "failed": c.failed_count}
                             for c in rows]))
        out.write("\n")
        return 0
    for c in rows:
        out.write(f"{c.id:>5}  {c.created_at[:19]}  {c.status:<9} "
                  f"{c.run_count}/{c.expected_runs} runs"
                  + (f", {c.failed_count} failed" if c.failed_count else "")
                  + f"  {escape_controls(c.name)}\n")
    if not rows:
        out.write("no comparisons saved yet; run `playground compare`\n")
    return 0


def cmd_show_or_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with open_store(args.db, err) as store:
        row = store.comparison(args.id)
        report = stored_report(store, args.id)
    if args.command == "show":
        out.write(f"comparison {row.id}: {row.name}  ({row.status}, {row.run_count} of "
                  f"{row.expected_runs} runs, {row.created_at[:19]})\n\n")
        out.write(summary_md(export(report, "md")))
        return 0
    text = export(report, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        err.write(f"exported comparison {row.id} to {args.output}\n")
    else:
        out.write(text)
    return 0


def cmd_replay(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    overrides = LoadOverrides(
        n_threads=args.threads,
        flash_attn=None if args.flash_attn is None else args.flash_attn == "on",
        n_batch=args.batch,
        n_gpu_layers=args.gpu_layers,
        n_ctx=args.n_ctx,
    )
    report: ReplayReport | None = None
    with open_store(args.db, err) as store:
        err.write(f"replaying run {args.run_id}…\n")
        for item in replay(store, args.run_id, overrides):
            if isinstance(item, ReplayReport):
                report = item
    assert report is not None
    if args.json:
        out.write(json_text(replay_json(report)) + "\n")
    else:
        out.write("\n".join(report.lines()) + "\n")
    return 0 if report.identical else 1


def replay_json(report: ReplayReport) -> dict[str, Any]:
    d = report.divergence
    return {
        "run_id": report.run_id,
        "identical": report.identical,
        "compared": report.compared,
        "divergence": None if d is None else dataclasses.asdict(d),
        "differences": list(report.differences),
        "notes": list(report.notes),
        "replayed_text": report.result.text,
    }


def cmd_judgements_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Ties are left out (a chosen/rejected pair cannot say "neither") and counted, so a file
    shorter than the number of judgements is explained."""
    with open_store(args.db, err) as store:
        store.comparison(args.id)
        judged = comparison_judgements(store, args.id)
    if not judged:
        raise PlaygroundError(f"comparison {args.id} has no judgements yet; judge its outputs "
                              "in the Evaluate tab first")
    text = export_preferences(judged)
    ties = sum(1 for j in judged if j.choice == "tie")
    pairs = len(judged) - ties
    if args.path == "-":
        out.write(text)
    else:
        try:
            Path(args.path).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise PlaygroundError(f"cannot write {args.path}: {exc.strerror or exc}") from exc
    where = "standard output" if args.path == "-" else args.path
    err.write(f"wrote {pairs} preference pair{'s' * (pairs != 1)} to {where}"
              + (f" ({ties} tie{'s' * (ties != 1)} left out)" if ties else "") + "\n")
    return 0
