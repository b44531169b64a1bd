"""Commands that score outputs: ``compare`` runs prompt variants over a dataset and reports on
them, ``score`` scores one text against references."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from playground.cli.constraints import constraint_from_args
from playground.cli.history import find_stored
from playground.cli.output import ctrl_c_calls, summary_md
from playground.cli.parser import load_options
from playground.cli.userdata import open_collection, open_store
from playground.comparison import ComparisonSpec
from playground.errors import PlaygroundError
from playground.evaluation.exports import export
from playground.evaluation.report import LOW_CONFIDENCE, ReportRun, build_report
from playground.prompts.collection import Collection
from playground.prompts.formats import load_yaml_strict
from playground.runs.eta import describe_eta
from playground.runs.history import report_runs
from playground.runs.runner import (
    BackendPool,
    CancelToken,
    ComparisonFinished,
    ComparisonStarted,
    Progress,
    RunDone,
    make_scorer,
    report_run,
    run_comparison,
)
from playground.terminal import raw
from playground.wording import plural


def _param_value(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise PlaygroundError(f"--param takes NAME=VALUE, got {text!r}")
    value: Any = raw
    for convert in (int, float):
        try:
            value = convert(raw)
            break
        except ValueError:
            continue
    return name.replace("-", "_"), value


def _compare_spec(args: argparse.Namespace, collection: Collection) -> ComparisonSpec:
    from playground.runs import build
    from playground.runs import spec as specs

    if args.spec:
        if constraint_from_args(args) != build.FROM_TEMPLATE:
            raise PlaygroundError("a spec file sets each variant's output format ('output:'); "
                                  "the output format flags go with --template")
        path = Path(args.spec)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise PlaygroundError(f"{path}: cannot read the spec ({exc})") from exc
        data = load_yaml_strict(text, str(path))
        overrides = {"samples": args.samples, "rows": args.rows, "model": args.model,
                     "name": args.name}
        data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
        if args.param:
            data["params"] = {**(data.get("params") or {}), **dict(map(_param_value, args.param))}
        return specs.spec_from_mapping(data, collection, base_dir=path.parent)
    if not args.template or not args.dataset:
        raise PlaygroundError("give --spec FILE, or --template ID (one or more) and --dataset")
    params = dict(_param_value(p) for p in args.param)
    output = constraint_from_args(args)
    variants = [build.build_variant(collection, t, model=args.model or "", params=params,
                                    output=output)
                for t in args.template]
    dataset = build.resolve_dataset(collection, args.dataset)
    return build.build_comparison(variants, dataset.inputs,
                                  name=args.name or ", ".join(args.template), rows=args.rows,
                                  samples=args.samples or 1)


def cmd_compare(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    store = None if args.no_save else open_store(args.db, err)
    resume_id: int | None = None
    if args.resume is not None:
        if store is None:
            raise PlaygroundError("--resume needs the database; drop --no-save")
        resumed = find_stored(store, args.resume)
        resume_id, spec = resumed.id, resumed.to_spec()
    else:
        spec = _compare_spec(args, open_collection(err))
    pool = BackendPool(load_options(args, reuse_prefix=not args.no_prefix_reuse,
                                    parallel=args.parallel))
    token = CancelToken()
    runs: list[ReportRun] = []
    status = "done"
    try:
        with ctrl_c_calls(token.cancel):
            events = run_comparison(
                spec, pool, store=store, comparison_id=resume_id,
                scorer=make_scorer(spec.metrics, spec.language), cancel=token,
                prefix_order=not args.plain_order, perplexity=not args.no_perplexity,
                concurrency=args.concurrency,
            )
            for event in events:
                if isinstance(event, ComparisonStarted):
                    where = ("comparison" if store is None or event.comparison_id is None
                             else store.comparison(event.comparison_id).label)
                    err.write(f"{where}: {plural(event.total, 'run')}"
                              + (f", {event.skipped} already done" if event.skipped else "")
                              + "\n")
                elif isinstance(event, RunDone):
                    runs.append(report_run(event))
                    if event.status == "failed":
                        err.write(f"  failed: {event.planned.variant.name} on "
                                  f"{event.planned.input.id}: {event.error}\n")
                elif isinstance(event, Progress):
                    left = describe_eta(event.eta_s, event.total - event.skipped - event.done)
                    eta = f", {left}" if left else ""
                    # The progress line's own carriage return: the one control not escaped.
                    # Padded: a shorter line must cover the longer one it overwrites.
                    line = f"  {event.done + event.skipped}/{event.total} runs{eta}"
                    raw(err).write("\r" + line.ljust(48))
                    err.flush()
                elif isinstance(event, ComparisonFinished):
                    status = event.status
                    err.write(f"\n{status}: {plural(event.done, 'run')} in {event.elapsed_s:.1f} s"
                              + (f", {event.failed} failed" if event.failed else "") + "\n")
                    if event.comparison_id is not None and store is not None:
                        saved = store.comparison(event.comparison_id)
                        err.write(f"saved as {saved.label}"
                                  + (f"; resume with --resume {saved.number}"
                                     if status == "cancelled" else "") + "\n")
                        runs = report_runs(store, event.comparison_id)
    finally:
        pool.close()
        if store is not None:
            store.close()
    report = build_report(spec.name, runs, language=spec.language, sweep=spec.sweep_values(),
                          sweep_param=spec.sweep_param,
                          low_confidence_below=(LOW_CONFIDENCE if args.flag_below is None
                                                else args.flag_below))
    text = export(report, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        err.write(f"report written to {args.output}\n")
    else:
        out.write(text if args.format != "md" else summary_md(text))
    return 130 if status == "cancelled" else 0
