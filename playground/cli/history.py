"""Commands on what the database keeps: ``history`` lists and searches it, ``show`` and
``export`` report a saved comparison, ``replay`` runs a stored run again, ``judgements export``
writes people's pairwise verdicts as a preference dataset."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from playground.cli.userdata import open_store
from playground.engine.models import model_display_name
from playground.errors import PlaygroundError
from playground.storage.store import ComparisonRow, RunRow, StorageError, Store
from playground.terminal import escape_controls, json_text
from playground.wording import human_time, parse_reference, plural, sample_label

if TYPE_CHECKING:  # reports, exports and replays are imported by the commands that make them,
    # so that listing the history starts at once
    from playground.runs.replay import ReplayReport


def find_stored(store: Store, number: str | list[str]) -> ComparisonRow:
    """The comparison or Playground run a person named as History lists it: ``3``, ``#3``;
    ``r3``, ``run 3``. A bare number that no comparison has finds the Playground run of that
    number: before runs were numbered apart, ``history`` listed them with the comparisons, and
    an upgraded database never gives an old number to anything else."""
    text = " ".join(number) if isinstance(number, list) else number
    kind, n = parse_reference(text)
    try:
        return store.comparison_by_number(kind, n)
    except StorageError:
        if not text.strip().isdigit():
            raise
        try:
            return store.comparison_by_number("run", n)
        except StorageError:
            pass
        raise


def _models(row: ComparisonRow) -> str:
    """The models a comparison ran on, by the one name every list uses."""
    variants = row.spec.get("variants", [])
    keys = dict.fromkeys(str(v.get("model", "")) for v in variants if isinstance(v, dict))
    return ", ".join(model_display_name(k) for k in keys)


def _search(store: Store, args: argparse.Namespace, out: TextIO) -> None:
    """Runs found by their words: the run id ``replay`` takes, and where the run belongs."""
    runs = store.search(args.search, limit=args.limit)
    owners: dict[int, ComparisonRow] = {}
    for r in runs:
        if r.comparison_id is not None and r.comparison_id not in owners:
            owners[r.comparison_id] = store.comparison(r.comparison_id)

    def owner(r: RunRow) -> ComparisonRow | None:
        return owners.get(r.comparison_id) if r.comparison_id is not None else None

    if args.json:
        records = []
        for r in runs:
            o = owner(r)
            records.append({"run_id": r.id, "comparison_id": r.comparison_id,
                            "comparison_kind": o.kind if o else None,
                            "comparison_number": o.number if o else None, "sample": r.sample,
                            "status": r.status, "output": r.output,
                            "created_at": r.created_at})
        out.write(json_text(records) + "\n")
        return
    for r in runs:
        text = escape_controls(" ".join((r.output or r.error or "").split()))
        o = owner(r)
        where = o.label if o else "-"
        sample = f", {sample_label(r.sample)}" if o is not None and o.samples > 1 else ""
        out.write(f"run id {r.id:>6}  in {where + sample:<18} {human_time(r.created_at):<18} "
                  f"{text[:80]}\n")
    if not runs:
        out.write("no runs match\n")


def cmd_history(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    with open_store(args.db, err) as store:
        if args.search is not None:
            _search(store, args, out)
            return 0
        rows = store.history(limit=args.limit, kind="run" if args.runs else "comparison")
    if args.json:
        out.write(json_text([{"id": c.id, "kind": c.kind, "number": c.number, "name": c.name,
                              "created_at": c.created_at, "status": c.status,
                              "runs": c.run_count, "expected_runs": c.expected_runs,
                              "failed": c.failed_count, "models": _models(c)}
                             for c in rows]))
        out.write("\n")
        return 0
    for c in rows:
        out.write(f"{c.label:>8}  {human_time(c.created_at):<18} {c.status:<9} "
                  f"{c.run_count}/{plural(c.expected_runs, 'run')}"
                  + (f", {c.failed_count} failed" if c.failed_count else "")
                  + f"  {escape_controls(c.name)}  ({escape_controls(_models(c))})\n")
    if not rows:
        out.write("no Playground runs saved yet\n" if args.runs
                  else "no comparisons saved yet; run `playground compare`\n")
    return 0


def cmd_show_or_export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from playground.cli.output import summary_md
    from playground.evaluation.exports import export
    from playground.runs.history import stored_report

    with open_store(args.db, err) as store:
        row = find_stored(store, args.number)
        report = stored_report(store, row.id)
    if args.command == "show":
        out.write(f"{row.label}: {escape_controls(row.name)}  ({row.status}, {row.run_count} "
                  f"of {plural(row.expected_runs, 'run')}, {human_time(row.created_at)}; "
                  f"{escape_controls(_models(row))})\n\n")
        out.write(summary_md(export(report, "md")))
        return 0
    text = export(report, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        err.write(f"exported {row.label} to {args.output}\n")
    else:
        out.write(text)
    return 0


def cmd_replay(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from playground.runs.replay import LoadOverrides, ReplayReport, replay

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
    from playground.evaluation.preferences import export_preferences
    from playground.runs.history import comparison_judgements

    with open_store(args.db, err) as store:
        row = find_stored(store, args.number)
        judged = comparison_judgements(store, row.id)
    if not judged:
        named = f"comparison {row.label}" if row.kind == "comparison" else row.label
        raise PlaygroundError(f"{named} has no judgements yet; judge its outputs "
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
    err.write(f"wrote {plural(pairs, 'preference pair')} to {where}"
              + (f" ({plural(ties, 'tie')} left out)" if ties else "") + "\n")
    return 0
