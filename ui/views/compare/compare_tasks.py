"""The Compare tab's work off the GUI thread: build and run a comparison, reopen a stored one,
export a report.

Each is a generator started through :class:`~ui.services.tasks.TaskRunner`; the rules they
apply live in the core (:mod:`playground.runs.build`, :mod:`playground.evaluation.summary`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from playground.comparison import ComparisonSpec, Input, Variant
from playground.evaluation.exports import ExportFormat, export
from playground.evaluation.report import LOW_CONFIDENCE, ComparisonReport, ReportRun
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import shown_estimates, spec_report
from playground.prompts.collection import Collection
from playground.prompts.datasets import load_dataset
from playground.runs.build import build_comparison, library_dataset
from playground.runs.history import comparison_judgements, report_runs, with_judge
from playground.runs.runner import CancelToken, ComparisonFinished, RunDone, report_run
from playground.storage.store import ComparisonRow, Store
from ui.context import AppContext
from ui.services.jobs import TokenRelay, comparison_job

#: Where a comparison's inputs come from: ``("file", path)``, ``("library", library, name)``
#: or ``("stored", comparison id)`` (the inputs of a reopened comparison, run again).
DatasetChoice = tuple[str, ...]


@dataclass(frozen=True)
class RunRequest:
    """What "Run all" or "Resume" hands to the task. Either a complete spec, or variants and a
    dataset to load in the task (a file can be large)."""

    name: str
    spec: ComparisonSpec | None = None
    variants: tuple[Variant, ...] = ()
    dataset: DatasetChoice = ()
    stored_inputs: tuple[Input, ...] = ()
    rows: int = 0
    samples: int = 1
    seed: int = 1234
    resume_id: int | None = None


@dataclass(frozen=True)
class SpecReady:
    spec: ComparisonSpec


@dataclass(frozen=True)
class ReportReady:
    """The report and, per variant and metric, the estimate shown (see shown_estimates)."""

    comparison_id: int | None
    status: str
    spec: ComparisonSpec
    report: ComparisonReport
    estimates: Mapping[str, Mapping[str, Estimate | None]]


@dataclass(frozen=True)
class Opened:
    row: ComparisonRow
    ready: ReportReady


def dataset_inputs(collection: Collection, request: RunRequest) -> tuple[Input, ...]:
    kind = request.dataset[0]
    if kind == "stored":
        return request.stored_inputs
    if kind == "file":
        return load_dataset(Path(request.dataset[1])).inputs
    return library_dataset(collection, request.dataset[1], request.dataset[2]).inputs


def request_spec(collection: Collection, request: RunRequest) -> ComparisonSpec:
    """The comparison a request runs: the one given, or its variants over the dataset, built
    as the CLI builds it."""
    if request.spec is not None:
        return request.spec
    return build_comparison(request.variants, dataset_inputs(collection, request),
                            name=request.name, rows=request.rows or None,
                            samples=request.samples, seed=request.seed)


def _ready(comparison_id: int | None, status: str, spec: ComparisonSpec,
           runs: Sequence[ReportRun], below: float) -> ReportReady:
    report = spec_report(spec, runs, low_confidence_below=below)
    return ReportReady(comparison_id, status, spec, report, shown_estimates(spec, report))


def run_task(context: AppContext, collection: Collection, request: RunRequest,
             cancel: CancelToken, relay: TokenRelay,
             below: float = LOW_CONFIDENCE) -> Iterator[object]:
    spec = request_spec(collection, request)
    yield SpecReady(spec)
    finished: ComparisonFinished | None = None
    live: list[ReportRun] = []
    for event in comparison_job(context, spec, cancel, relay, resume_id=request.resume_id):
        if isinstance(event, RunDone):
            live.append(report_run(event))
        elif isinstance(event, ComparisonFinished):
            finished = event
        yield event
    if finished is None:
        return
    runs: Sequence[ReportRun] = live
    if finished.comparison_id is not None:
        # From the store: a resumed comparison's earlier runs count too, and the numbers match
        # what reopening it later shows.
        with Store(context.db_path) as store:
            runs = report_runs(store, finished.comparison_id)
    yield _ready(finished.comparison_id, finished.status, spec, runs, below)


def open_task(
    db_path: Path, comparison_id: int, below: float = LOW_CONFIDENCE
) -> Iterator[object]:
    with Store(db_path) as store:
        row = store.comparison(comparison_id)
        runs = report_runs(store, comparison_id)
        ready = _ready(comparison_id, row.status, row.to_spec(), runs, below)
        report = with_judge(store, comparison_id, ready.report, runs,
                            comparison_judgements(store, comparison_id))
    yield Opened(row, replace(ready, report=report))


def export_task(report: ComparisonReport, fmt: ExportFormat, path: str) -> Iterator[str]:
    Path(path).write_text(export(report, fmt), encoding="utf-8")
    yield path

