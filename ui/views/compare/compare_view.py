"""The Compare tab: two to six variants side by side on one shared input or on a dataset.

Each column is a variant. "Run all" turns the columns into a
:class:`~playground.comparison.ComparisonSpec` (variants × inputs × k samples) and runs it
through :func:`ui.services.jobs.comparison_job`, which saves it; tokens stream into their
column, and when it ends the report (built off the GUI thread) gives each column its scores, the
best per metric starred, and fills the score table, the winner sentence and the charts. A stored
comparison reopens into the columns; a cancelled one resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QFont, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground.comparison import ComparisonError, ComparisonSpec, Input, Variant
from playground.engine.endpoints import load_endpoints
from playground.engine.models import discover_models
from playground.errors import PlaygroundError
from playground.evaluation.report import (
    LOW_CONFIDENCE,
    ComparisonReport,
    ExportFormat,
    ReportRun,
    and_list,
    build_report,
    export,
    leaders,
    mean_digits,
)
from playground.evaluation.stats import Estimate, bootstrap_ci
from playground.events import Token
from playground.prompts.collection import Collection
from playground.prompts.datasets import LoadedDataset, dataset_from_library, load_dataset
from playground.prompts.templates import parse_template
from playground.runs.build import metrics_for
from playground.runs.history import report_runs
from playground.runs.runner import (
    CancelToken,
    ComparisonFinished,
    ComparisonStarted,
    PlannedRun,
    Progress,
    RunDone,
    report_run,
)
from playground.storage.store import ComparisonRow, Store
from ui.context import AppContext
from ui.services.jobs import TokenRelay, comparison_job
from ui.services.tasks import Worker
from ui.views.compare.compare_column import (
    BASE_METRICS,
    SCORE_NAMES,
    STAR,
    TIE,
    ColumnSetup,
    CompareColumn,
    input_variable,
)
from ui.widgets.charts import empty_chart, metric_bar_chart, sweep_chart
from ui.widgets.diff_dialog import DiffDialog
from ui.widgets.references import (
    CONFIDENCE_KEY,
    REFERENCE_HINT,
    confidence_threshold,
    join_references,
    split_references,
)

Index = QModelIndex | QPersistentModelIndex
_NO_INDEX = QModelIndex()
MIN_COLUMNS = 2
MAX_COLUMNS = 6
SETTINGS_KEY = "compare/state"
#: Task metrics a column shows when a template's task has one (beside ROUGE, BLEU and chrF).
TASK_DISPLAY_METRICS = ("accuracy", "exact_match", "token_f1", "entity_f1")
#: Settings a sweep may vary (one at a time, everything else equal).
SWEEPABLE = ("temperature", "top_k", "top_p", "min_p", "repeat_penalty", "presence_penalty",
             "frequency_penalty")
EXPORT_SUFFIXES: dict[str, ExportFormat] = {".csv": "csv", ".jsonl": "jsonl", ".md": "md",
                                            ".markdown": "md", ".html": "html", ".htm": "html"}
def detect_sweep(variants: Sequence[Variant]) -> str | None:
    """The one sampling setting the variants differ in, when everything else is equal: the
    comparison is then a sweep and gets a chart against that setting."""
    if len(variants) < 2:
        return None
    first = variants[0]
    if any(v.template_source != first.template_source or v.model != first.model
           or dict(v.values) != dict(first.values) or v.chat != first.chat
           for v in variants[1:]):
        return None
    settings = [v.params.to_dict() for v in variants]
    differing = {k for k in settings[0] if any(s[k] != settings[0][k] for s in settings[1:])}
    if len(differing) != 1:
        return None
    (param,) = differing
    values = [s[param] for s in settings]
    if param not in SWEEPABLE or len(set(values)) != len(values):
        return None
    return param


def display_metrics(spec: ComparisonSpec) -> list[str]:
    return [*BASE_METRICS, *(m for m in TASK_DISPLAY_METRICS if m in spec.metrics)]


def run_label(spec: ComparisonSpec, input_id: str, sample: int) -> str:
    """How a column's selector names a run: the sample on a shared input, the row on a
    dataset."""
    if len(spec.inputs) == 1:
        return f"sample {sample + 1}"
    if spec.samples == 1:
        return input_id
    return f"{input_id} · sample {sample + 1}"


# -- work done off the GUI thread ------------------------------------------------------------


@dataclass(frozen=True)
class RunRequest:
    """What "Run all" or "Resume" hands to the task. Either a complete spec, or variants and a
    dataset to load in the task (a file can be large)."""

    name: str
    spec: ComparisonSpec | None = None
    variants: tuple[Variant, ...] = ()
    dataset: tuple[str, ...] = ()
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


def _load_inputs(collection: Collection, request: RunRequest) -> tuple[Input, ...]:
    if request.dataset[0] == "stored":
        inputs = request.stored_inputs
    else:
        dataset: LoadedDataset
        if request.dataset[0] == "file":
            dataset = load_dataset(Path(request.dataset[1]))
        else:
            found = collection.library(request.dataset[1]).dataset(request.dataset[2])
            if found is None:
                raise ComparisonError(f"no dataset named {request.dataset[2]!r}")
            dataset = dataset_from_library(found)
        inputs = dataset.inputs
    if request.rows:
        inputs = inputs[: request.rows]
    if not inputs:
        raise ComparisonError("the dataset has no rows")
    return inputs


def dataset_spec(collection: Collection, request: RunRequest) -> ComparisonSpec:
    """Variants over every row of a dataset. Columns named like a template's variables fill
    them (a column's own value for such a variable is dropped, else it would override every
    row); a template whose main text variable is not a column gets the dataset's first
    column."""
    inputs = _load_inputs(collection, request)
    provided = list(dict.fromkeys(k for i in inputs for k in i.values))
    aliases: dict[str, str] = {}
    for variant in request.variants:
        main = input_variable(parse_template(variant.template_source, variant.template_id))
        if main is not None and main not in provided and provided:
            aliases[main] = provided[0]
    variants = [replace(v, values={k: x for k, x in v.values.items() if k not in provided})
                for v in request.variants]
    if aliases:
        inputs = tuple(
            replace(i, values={**i.values, **{a: i.values.get(src, "") for a, src in
                                              aliases.items()}})
            for i in inputs)
    return ComparisonSpec(request.name, tuple(variants), inputs, samples=request.samples,
                          base_seed=request.seed, metrics=metrics_for(variants),
                          sweep_param=detect_sweep(variants))


def _sorted_runs(spec: ComparisonSpec, runs: Sequence[ReportRun]) -> list[ReportRun]:
    """Runs in column order (the runner saves them in prompt order), so the report lists the
    variants as the columns do."""
    variants = {v.name: n for n, v in enumerate(spec.variants)}
    inputs = {i.id: n for n, i in enumerate(spec.inputs)}
    return sorted(runs, key=lambda r: (variants.get(r.variant, len(variants)),
                                       inputs.get(r.input_id, len(inputs)), r.sample))


def shown_estimates(
    spec: ComparisonSpec, report: ComparisonReport
) -> dict[str, dict[str, Estimate | None]]:
    """Per variant and stored metric, the estimate the view shows. Over a dataset: the
    report's, with its interval over inputs. On one shared input the report's interval has a
    single input to spread over, so the interval is over the k samples of that input instead
    (the mean is the same)."""
    if len(spec.inputs) > 1:
        return {v.name: dict(v.metrics) for v in report.variants}
    out: dict[str, dict[str, Estimate | None]] = {}
    for summary in report.variants:
        runs = [r for r in report.runs if r.variant == summary.name and r.status == "ok"]
        out[summary.name] = {
            metric: bootstrap_ci([v for r in runs if (v := r.scores.get(metric)) is not None])
            for metric in report.metrics
        }
    return out


def _report(
    spec: ComparisonSpec, runs: Sequence[ReportRun], below: float = LOW_CONFIDENCE
) -> ComparisonReport:
    return build_report(spec.name, _sorted_runs(spec, runs), language=spec.language,
                        sweep=spec.sweep_values(), sweep_param=spec.sweep_param,
                        low_confidence_below=below)


def run_task(context: AppContext, collection: Collection, request: RunRequest,
             cancel: CancelToken, relay: TokenRelay,
             below: float = LOW_CONFIDENCE) -> Iterator[object]:
    spec = request.spec if request.spec is not None else dataset_spec(collection, request)
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
    report = _report(spec, runs, below)
    yield ReportReady(finished.comparison_id, finished.status, spec, report,
                      shown_estimates(spec, report))


def open_task(
    db_path: Path, comparison_id: int, below: float = LOW_CONFIDENCE
) -> Iterator[object]:
    with Store(db_path) as store:
        row = store.comparison(comparison_id)
        runs = report_runs(store, comparison_id)
    spec = row.to_spec()
    report = _report(spec, runs, below)
    yield Opened(row, ReportReady(comparison_id, row.status, spec, report,
                                  shown_estimates(spec, report)))


def export_task(report: ComparisonReport, fmt: ExportFormat, path: str) -> Iterator[str]:
    Path(path).write_text(export(report, fmt), encoding="utf-8")
    yield path


def discover_task() -> Iterator[list[tuple[str, str]]]:
    models = [(m.name, str(m.path)) for m in discover_models()]
    # A damaged endpoints file is reported by the Models tab; the local models still list.
    with contextlib.suppress(PlaygroundError):
        models += [(f"remote:{name}", f"remote:{name}") for name in load_endpoints()]
    yield models


# -- the score table ---------------------------------------------------------------------------


class ScoreTableModel(QAbstractTableModel):
    """One row per variant: runs, failures, each metric's mean with its 95% interval (the best
    in bold with ★, and "tie" when several share it), and the paired p-value of the primary
    metric against the best variant (the first of tied ones)."""

    FIXED = ("variant", "runs", "failed")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._report: ComparisonReport | None = None
        self._estimates: Mapping[str, Mapping[str, Estimate | None]] = {}
        self._metrics: tuple[str, ...] = ()
        self._leaders: tuple[str, ...] = ()
        self._over = "inputs"

    def set_report(self, report: ComparisonReport | None,
                   estimates: Mapping[str, Mapping[str, Estimate | None]] | None = None) -> None:
        """``estimates`` (variant -> metric -> estimate) replace the report's intervals, as for
        one input, whose interval is over its samples."""
        self.beginResetModel()
        self._report = report
        self._estimates = estimates or {}
        self._metrics = report.table_metrics if report is not None else ()
        self._leaders = (report.best(report.primary)
                         if report is not None and report.primary else ())
        self._over = "samples" if report is not None and len(
            {r.input_id for r in report.runs}) == 1 else "inputs"
        self.endResetModel()

    @property
    def report(self) -> ComparisonReport | None:
        return self._report

    def _headers(self) -> list[str]:
        tail = [f"p vs best ({self._report.primary})"] if self._report and self._report.primary \
            else []
        return [*self.FIXED, *self._metrics, *tail]

    def rowCount(self, parent: Index = _NO_INDEX) -> int:
        if parent.isValid() or self._report is None:
            return 0
        return len(self._report.variants)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:
        if parent.isValid() or self._report is None:
            return 0
        return len(self._headers())

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None
        headers = self._headers()
        if not 0 <= section < len(headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return headers[section]
        if role == Qt.ItemDataRole.ToolTipRole and headers[section] in self._metrics:
            return f"mean [95% confidence interval over the {self._over}]"
        return None

    def data(self, index: Index,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._report is None:
            return None
        if not 0 <= index.row() < len(self._report.variants):
            return None
        summary = self._report.variants[index.row()]
        headers = self._headers()
        if not 0 <= index.column() < len(headers):
            return None
        column = headers[index.column()]
        metric = column if column in self._metrics else None
        mark = self._report.marked(metric, summary.name) if metric is not None else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(summary.name, column, metric, mark)
        if role == Qt.ItemDataRole.FontRole and mark is not None:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if mark == "tie":
                return (f"best {metric}, a tie: another variant has the same mean at the "
                        "digits shown")
            if mark is not None:
                return f"best {metric}"
            if column.startswith("p vs best"):
                return "paired test over inputs; Holm-adjusted p in brackets"
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, name: str, column: str, metric: str | None, mark: str | None) -> str:
        assert self._report is not None
        summary = next(v for v in self._report.variants if v.name == name)
        if column == "variant":
            return name
        if column == "runs":
            return str(summary.runs)
        if column == "failed":
            return str(summary.failed)
        if metric is not None:
            estimate = self.estimate(name, metric)
            text = "N/A" if estimate is None else estimate.describe(mean_digits(metric))
            if mark is None:
                return text
            return f"{STAR} {text}" + (TIE if mark == "tie" else "")
        return self.p_against_best(name)

    def estimate(self, name: str, metric: str) -> Estimate | None:
        if name in self._estimates:
            return self._estimates[name].get(metric)
        assert self._report is not None
        summary = next(v for v in self._report.variants if v.name == name)
        return summary.metrics.get(metric)

    def p_against_best(self, name: str) -> str:
        """``p = 0.031 (0.062)``: raw and Holm-adjusted p of the pair (best, ``name``)."""
        if self._report is None or not self._leaders:
            return ""
        if name in self._leaders:
            return "best" + (TIE if len(self._leaders) > 1 else "")
        for a, b, result in self._report.pairs:
            if {a, b} == {name, self._leaders[0]}:
                adjusted = "" if result.p_adjusted is None else f" ({result.p_adjusted:.3f})"
                return f"p = {result.p_value:.3f}{adjusted}"
        return ""


def winner_sentence(report: ComparisonReport) -> str:
    if report.primary is None:
        return "No scores: the input has no reference to compare the outputs with."
    if len(report.variants) < 2:
        return f"One variant; primary metric {report.primary}."
    n_inputs = len({r.input_id for r in report.runs})
    if report.winner:
        return (f"{report.winner} is best on {report.primary}, significantly better than every "
                f"other variant (paired test over {n_inputs} inputs, Holm-adjusted p < 0.05).")
    leaders = report.best(report.primary)
    why = ("one input cannot show a significant difference; use a dataset"
           if n_inputs < 2 else "Holm-adjusted p ≥ 0.05 for at least one pair")
    if len(leaders) > 1:
        return (f"{and_list(leaders)} tie for the highest mean {report.primary} (equal at the "
                f"digits shown), and no variant is significantly better ({why}).")
    return (f"{and_list(leaders)} has the highest mean {report.primary}, but no variant is "
            f"significantly better ({why}).")


# -- the view -------------------------------------------------------------------------------


class CompareView(QWidget):
    #: the comparison id of a finished run (None when nothing was run or saved)
    comparison_finished = Signal(object)
    #: a stored comparison was reopened into the columns
    comparison_opened = Signal(int)
    #: path, error message ("" when the file was written)
    export_finished = Signal(str, str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.columns: list[CompareColumn] = []
        self._models: list[tuple[str, str]] = []
        self._worker: Worker | None = None
        self._cancel: CancelToken | None = None
        self._relay: TokenRelay | None = None
        self._spec: ComparisonSpec | None = None
        self._comparison_id: int | None = None
        self._finished_id: int | None = None
        self._status: str | None = None
        self._report: ComparisonReport | None = None
        self._estimates: Mapping[str, Mapping[str, Estimate | None]] = {}
        self._dialogs: list[DiffDialog] = []
        #: inputs of reopened dataset comparisons, by comparison id, to run again
        self._stored_inputs: dict[str, tuple[Input, ...]] = {}

        layout = QVBoxLayout(self)
        layout.addLayout(self._build_header())
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #b00020;")
        self.message_label.setVisible(False)
        layout.addWidget(self.message_label)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._build_inputs())
        splitter.addWidget(self._build_columns())
        splitter.addWidget(self._build_results())
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([170, 520, 300])
        layout.addWidget(splitter, 1)
        self._build_actions()

        self._restore(context.settings)
        context.open_comparison.connect(self.open_comparison)
        context.library_changed.connect(self._library_changed)
        self._update_buttons()

    def showEvent(self, event: QShowEvent) -> None:
        """List the models again each time the tab is shown: files may have been added."""
        super().showEvent(event)
        self._refresh_models()

    # -- construction -------------------------------------------------------------------------

    def _build_header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.title_label = QLabel("New comparison")
        font = QFont(self.title_label.font())
        font.setBold(True)
        self.title_label.setFont(font)
        row.addWidget(self.title_label, 1)
        self.add_button = QPushButton("+ Column")
        self.add_button.setToolTip(f"Add a variant (at most {MAX_COLUMNS})")
        self.add_button.clicked.connect(self.add_column)
        self.run_button = QPushButton("Run all")
        self.run_button.setToolTip("Run every column (Ctrl+Shift+Enter)")
        self.run_button.clicked.connect(self.run_all)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Run what a stopped comparison has left")
        self.resume_button.clicked.connect(self.resume)
        self.diff_button = QPushButton("Diff…")
        self.diff_button.setToolTip("Word-level diff of two columns' outputs")
        self.diff_button.clicked.connect(lambda: self.open_diff())
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the report as CSV, JSONL, Markdown or HTML")
        self.export_button.clicked.connect(self._choose_export)
        for button in (self.add_button, self.run_button, self.stop_button, self.resume_button,
                       self.diff_button, self.export_button):
            row.addWidget(button)
        return row

    def _build_inputs(self) -> QGroupBox:
        box = QGroupBox("Input")
        layout = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Inputs"))
        self.dataset_combo = QComboBox()
        self.dataset_combo.setToolTip("The shared input below, or every row of a dataset")
        self.dataset_combo.currentIndexChanged.connect(self._mode_changed)
        row.addWidget(self.dataset_combo, 1)
        self.file_button = QPushButton("File…")
        self.file_button.setToolTip("A CSV, TSV, JSONL or JSON dataset")
        self.file_button.clicked.connect(self._choose_dataset_file)
        row.addWidget(self.file_button)
        self.rows_spin = QSpinBox()
        self.rows_spin.setRange(0, 100_000)
        self.rows_spin.setSpecialValueText("all")
        self.rows_spin.setPrefix("")
        self.rows_spin.setToolTip("How many rows of the dataset to run (all: 0)")
        row.addWidget(QLabel("rows"))
        row.addWidget(self.rows_spin)
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(1, 20)
        self.samples_spin.setToolTip("Samples per variant and input (k seeds); with k > 1 the "
                                     "scores show mean ± 95% CI")
        row.addWidget(QLabel("samples"))
        row.addWidget(self.samples_spin)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_000_000_000)
        self.seed_spin.setValue(1234)
        self.seed_spin.setToolTip("Seed of sample 1; sample k of every column uses the same "
                                  "seed, so the columns differ only by their setup")
        row.addWidget(QLabel("seed"))
        row.addWidget(self.seed_spin)
        self.confidence_spin = QDoubleSpinBox()
        self.confidence_spin.setRange(-20.0, 0.0)
        self.confidence_spin.setSingleStep(0.1)
        self.confidence_spin.setDecimals(2)
        self.confidence_spin.setValue(confidence_threshold(self.context.settings))
        self.confidence_spin.setToolTip(
            "Flag an output as low-confidence when the mean log-probability of its tokens is "
            "below this (a hint of guessing or hallucination)")
        self.confidence_spin.valueChanged.connect(self._confidence_changed)
        row.addWidget(QLabel("flag below"))
        row.addWidget(self.confidence_spin)
        layout.addLayout(row)
        texts = QHBoxLayout()
        self.shared_input = QPlainTextEdit()
        self.shared_input.setPlaceholderText(
            "Input text: fills each template's main text variable (dialogue, review, text, "
            "context, concept)")
        self.references = QPlainTextEdit()
        self.references.setPlaceholderText(
            f"Reference outputs to score against. {REFERENCE_HINT}")
        for edit in (self.shared_input, self.references):
            edit.setMinimumHeight(60)
            edit.setMaximumHeight(160)
        texts.addWidget(self.shared_input, 3)
        texts.addWidget(self.references, 2)
        layout.addLayout(texts)
        self.input_hint = QLabel("")
        self.input_hint.setStyleSheet("color: palette(mid);")
        layout.addWidget(self.input_hint)
        self._fill_datasets()
        return box

    def _build_columns(self) -> QScrollArea:
        self.columns_area = QScrollArea()
        self.columns_area.setWidgetResizable(True)
        inner = QWidget()
        self.columns_layout = QHBoxLayout(inner)
        self.columns_layout.setContentsMargins(0, 0, 0, 0)
        self.columns_area.setWidget(inner)
        return self.columns_area

    def _build_results(self) -> QWidget:
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m runs")
        row.addWidget(self.progress, 1)
        self.eta_label = QLabel("")
        row.addWidget(self.eta_label)
        layout.addLayout(row)
        self.winner_label = QLabel("")
        self.winner_label.setWordWrap(True)
        layout.addWidget(self.winner_label)
        self.results_tabs = QTabWidget()
        self.score_model = ScoreTableModel(self)
        self.score_table = QTableView()
        self.score_table.setModel(self.score_model)
        self.score_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.results_tabs.addTab(self.score_table, "Scores")
        chart_page = QWidget()
        self.chart_layout = QVBoxLayout(chart_page)
        self.chart_layout.setContentsMargins(0, 0, 0, 0)
        metric_row = QHBoxLayout()
        metric_row.addWidget(QLabel("Metric"))
        self.chart_metric_combo = QComboBox()
        self.chart_metric_combo.currentIndexChanged.connect(self._refresh_chart)
        metric_row.addWidget(self.chart_metric_combo, 1)
        self.chart_layout.addLayout(metric_row)
        self.chart_view = empty_chart()
        self.chart_layout.addWidget(self.chart_view, 1)
        self.results_tabs.addTab(chart_page, "Chart")
        self.sweep_view = empty_chart("Columns that differ in one sampling setting form a sweep")
        self.results_tabs.addTab(self.sweep_view, "Sweep")
        layout.addWidget(self.results_tabs, 1)
        return panel

    def _build_actions(self) -> None:
        self.run_action = QAction("Run all variants", self)
        self.run_action.setShortcuts([QKeySequence("Ctrl+Shift+Return"),
                                      QKeySequence("Ctrl+Shift+Enter")])
        self.run_action.triggered.connect(self.run_all)
        self.stop_action = QAction("Stop comparison", self)
        self.stop_action.triggered.connect(self.stop)
        self.export_action = QAction("Export Comparison Report…", self)
        self.export_action.triggered.connect(self._choose_export)
        self.export_action.setEnabled(False)

    def run_actions(self) -> list[QAction]:
        return [self.run_action, self.stop_action]

    def file_actions(self) -> list[QAction]:
        """The File menu's way to the report export (enabled with the Export button)."""
        return [self.export_action]

    # -- columns ------------------------------------------------------------------------------

    def _model_choices(self) -> list[tuple[str, str]]:
        current = self.context.hub.current
        choices = list(self._models)
        if current and all(key != current for _, key in choices):
            choices.insert(0, (Path(current).stem if not current.startswith("remote:")
                               else current, current))
        return choices

    def add_column(self, setup: ColumnSetup | None = None) -> CompareColumn | None:
        """A new column (None at the maximum); without a setup it copies the last column's
        template and model under a new name."""
        if len(self.columns) >= MAX_COLUMNS:
            return None
        column = CompareColumn(self.context.collection(), self._model_choices(),
                               self.context.hub.current)
        column.confidence_threshold = confidence_threshold(self.context.settings)
        if setup is None and self.columns:
            last = self.columns[-1].setup()
            setup = replace(last, name=self._free_name(last.template.rpartition("/")[2]))
        if setup is not None:
            column.apply_setup(setup)
        if not column.name_edit.text().strip() or self._name_taken(column.name_edit.text()):
            column.name_edit.setText(self._free_name(column.name_edit.text().strip() or "variant"))
        column.remove_requested.connect(self.remove_column)
        column.set_provided(self._dataset_columns())
        column.template_changed.connect(self._update_input_hint)
        self.columns.append(column)
        self.columns_layout.addWidget(column, 1)
        self._update_buttons()
        self._update_input_hint()
        return column

    def _name_taken(self, name: str) -> bool:
        return any(c.name_edit.text().strip() == name.strip() for c in self.columns)

    def _free_name(self, base: str) -> str:
        if not self._name_taken(base):
            return base
        n = 2
        while self._name_taken(f"{base} {n}"):
            n += 1
        return f"{base} {n}"

    def remove_column(self, column: object) -> bool:
        if (not isinstance(column, CompareColumn) or column not in self.columns
                or len(self.columns) <= MIN_COLUMNS or self.running):
            return False
        self.columns.remove(column)
        self.columns_layout.removeWidget(column)
        column.setParent(None)
        column.deleteLater()
        self._update_buttons()
        self._update_input_hint()
        return True

    def _set_column_count(self, count: int) -> None:
        count = min(max(count, MIN_COLUMNS), MAX_COLUMNS)
        while len(self.columns) < count:
            self.add_column()
        while len(self.columns) > count:
            self.remove_column(self.columns[-1])

    def _library_changed(self) -> None:
        collection = self.context.collection()
        for column in self.columns:
            column.set_collection(collection)
        self._fill_datasets()

    def _refresh_models(self) -> None:
        self.context.tasks.start(discover_task, on_event=self._models_found,
                                 on_error=lambda message: None)

    def _models_found(self, models: object) -> None:
        assert isinstance(models, list)
        self._models = models
        for column in self.columns:
            column.set_model_choices(self._model_choices())

    # -- inputs -------------------------------------------------------------------------------

    def _fill_datasets(self) -> None:
        keep = self.dataset_combo.currentData()
        self.dataset_combo.blockSignals(True)
        extra = [(self.dataset_combo.itemText(i), self.dataset_combo.itemData(i))
                 for i in range(self.dataset_combo.count())
                 if isinstance(self.dataset_combo.itemData(i), tuple)
                 and self.dataset_combo.itemData(i)[0] in ("file", "stored")]
        self.dataset_combo.clear()
        self.dataset_combo.addItem("Shared input (below)", None)
        for library in self.context.collection().libraries:
            for dataset in library.datasets:
                self.dataset_combo.addItem(
                    f"{library.name} / {dataset.name} ({len(dataset.rows)} rows)",
                    ("library", library.name, dataset.name))
        for text, data in extra:
            self.dataset_combo.addItem(text, data)
        index = self.dataset_combo.findData(keep) if keep is not None else 0
        self.dataset_combo.setCurrentIndex(max(index, 0))
        self.dataset_combo.blockSignals(False)
        self._mode_changed()

    def select_dataset(self, name: str) -> bool:
        """Choose a library dataset by name ("summarization") or a file by its path."""
        for i in range(self.dataset_combo.count()):
            data = self.dataset_combo.itemData(i)
            if isinstance(data, tuple) and name in (data[-1], str(data[1])):
                self.dataset_combo.setCurrentIndex(i)
                return True
        if Path(name).suffix:
            self.dataset_combo.addItem(f"File: {Path(name).name}", ("file", name))
            self.dataset_combo.setCurrentIndex(self.dataset_combo.count() - 1)
            return True
        return False

    def _choose_dataset_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a dataset", "", "Datasets (*.csv *.tsv *.jsonl *.json)")
        if path:
            self.select_dataset(path)

    def dataset_mode(self) -> bool:
        return self.dataset_combo.currentData() is not None

    def _mode_changed(self, *_: object) -> None:
        dataset = self.dataset_mode()
        self.shared_input.setEnabled(not dataset)
        self.references.setEnabled(not dataset)
        self.rows_spin.setEnabled(dataset)
        provided = self._dataset_columns()
        for column in self.columns:
            column.set_provided(provided)
        self._update_input_hint()

    def _dataset_columns(self) -> set[str]:
        """The variables a library dataset fills (a file's are known once it is read)."""
        data = self.dataset_combo.currentData()
        if not isinstance(data, tuple) or data[0] != "library":
            return set()
        try:
            dataset = self.context.collection().library(data[1]).dataset(data[2])
        except PlaygroundError:
            return set()
        if dataset is None:
            return set()
        return {k for row in dataset.rows for k in row if k != "references"}

    def _update_input_hint(self) -> None:
        if self.dataset_mode():
            self.input_hint.setText("Dataset columns fill the template variables of the same "
                                    "name; a template's main text variable missing from the "
                                    "dataset takes its first column.")
            return
        names = []
        for column in self.columns:
            template = column.template()
            var = input_variable(template) if template is not None else None
            names.append(f"{var or '(none)'} in {column.name_edit.text() or '?'}")
        self.input_hint.setText("The input fills: " + ", ".join(names) if names else "")

    # -- running ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker is not None

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def _variants(self) -> list[Variant]:
        """Each column as a variant; a column that cannot be built shows why in red and is
        left out, so the others still run."""
        variants = []
        for column in self.columns:
            column.clear_results()
            try:
                variants.append(column.variant())
            except PlaygroundError as exc:
                column.show_build_error(str(exc))
        return variants

    def _shared_spec(self, name: str, variants: list[Variant]) -> ComparisonSpec:
        text = self.shared_input.toPlainText()
        if not text.strip():
            raise ComparisonError("type the input text first (or choose a dataset)")
        values: dict[str, Any] = {}
        for variant in variants:
            var = input_variable(parse_template(variant.template_source, variant.template_id))
            if var is not None:
                values[var] = text
        inputs = (Input("input", values, split_references(self.references.toPlainText())),)
        return ComparisonSpec(name, tuple(variants), inputs, samples=self.samples_spin.value(),
                              base_seed=self.seed_spin.value(), metrics=metrics_for(variants),
                              sweep_param=detect_sweep(variants))

    def run_all(self) -> None:
        """Run every column on the shared input or the chosen dataset."""
        if self.running:
            return
        self._show_message("")
        variants = self._variants()
        if not variants:
            self._refuse("No column can run: see the message in each column.")
            return
        name = " vs ".join(v.name for v in variants)
        try:
            if self.dataset_mode():
                data = self.dataset_combo.currentData()
                stored = self._stored_inputs.get(str(data[1]), ()) if data[0] == "stored" \
                    else ()
                request = RunRequest(
                    f"{name} on {self.dataset_combo.currentText()}", variants=tuple(variants),
                    dataset=tuple(str(x) for x in data), stored_inputs=stored,
                    rows=self.rows_spin.value(), samples=self.samples_spin.value(),
                    seed=self.seed_spin.value())
            else:
                request = RunRequest(name, spec=self._shared_spec(name, variants))
        except PlaygroundError as exc:
            self._refuse(str(exc))
            return
        self._start(request)

    def _refuse(self, message: str) -> None:
        """Nothing runs: say why, and tell whoever waits for the run that it is over."""
        self._show_message(message)
        self.comparison_finished.emit(None)

    def resume(self) -> None:
        """Run the runs a stopped comparison has not finished, into the same comparison."""
        if self.running or self._spec is None or self._comparison_id is None:
            return
        self._show_message("")
        self._start(RunRequest(self._spec.name, spec=self._spec,
                               resume_id=self._comparison_id))

    def _start(self, request: RunRequest) -> None:
        self._cancel = CancelToken()
        self._relay = TokenRelay(self)
        self._relay.token.connect(self._on_token)
        self._finished_id = None
        if request.resume_id is None:
            self._comparison_id = None
            self._status = None
        self.progress.setRange(0, 0)
        self.eta_label.setText("waiting for the model…")
        self.title_label.setText("Starting…")
        self._worker = self.context.tasks.start(
            run_task, self.context, self.context.collection(), request, self._cancel,
            self._relay, self.confidence_spin.value(), on_event=self._on_event,
            on_error=self._on_error, on_done=self._on_done)
        self._update_buttons()

    def stop(self) -> None:
        """Cancel the run in flight (within a token) and the rest; what finished is kept and
        the comparison can be resumed."""
        if self._cancel is not None:
            self._cancel.cancel()
            self.title_label.setText("Stopping…")

    def _column(self, name: str) -> CompareColumn | None:
        return next((c for c in self.columns if c.name_edit.text().strip() == name), None)

    def _on_token(self, planned: object, token: object) -> None:
        if not isinstance(planned, PlannedRun) or self._spec is None:
            return
        column = self._column(planned.variant.name)
        if column is not None:
            column.stream(planned.input.id, planned.sample,
                          token.text if isinstance(token, Token) else "",
                          run_label(self._spec, planned.input.id, planned.sample))

    def _on_event(self, event: object) -> None:
        if isinstance(event, SpecReady):
            self._spec = event.spec
            for column in self.columns:
                column.set_metrics(display_metrics(event.spec))
        elif isinstance(event, ComparisonStarted):
            self._comparison_id = event.comparison_id
            self.progress.setRange(0, max(event.total, 1))
            self.progress.setValue(event.skipped)
            self._set_title("running")
        elif isinstance(event, RunDone) and self._spec is not None:
            target = self._column(event.planned.variant.name)
            if target is not None:
                target.add_result(report_run(event), run_label(
                    self._spec, event.planned.input.id, event.planned.sample))
        elif isinstance(event, Progress):
            self.progress.setValue(event.done + event.skipped)
            eta = f" · about {event.eta_s:.0f} s left" if event.eta_s is not None else ""
            failed = f" · {event.failed} failed" if event.failed else ""
            self.eta_label.setText(f"{event.done + event.skipped} of {event.total} runs"
                                   f"{failed}{eta}")
        elif isinstance(event, ComparisonFinished):
            self._status = event.status
            self._finished_id = event.comparison_id
            self._set_title(event.status)
            self.eta_label.setText(f"{event.done} runs in {event.elapsed_s:.1f} s"
                                   + (f" · {event.failed} failed" if event.failed else ""))
            if event.comparison_id is not None:
                self.context.history_changed.emit()
        elif isinstance(event, ReportReady):
            self._show_report(event)

    def _on_error(self, message: str) -> None:
        self._show_message(f"The comparison stopped: {message}")
        self.context.status.emit(f"Comparison failed: {message}")

    def _on_done(self) -> None:
        self._worker = None
        self._cancel = None
        if self._relay is not None:
            self._relay.deleteLater()
            self._relay = None
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
            self.eta_label.setText("")
        if self._finished_id is None:
            if self._comparison_id is not None and self._status is None:
                self._status = "running"  # stopped by an error: what was saved can resume
                self._set_title("stopped early")
            else:
                self._set_title(self._status)
        self._update_buttons()
        self.comparison_finished.emit(self._finished_id)

    def _set_title(self, status: str | None) -> None:
        if self._comparison_id is None:
            self.title_label.setText("New comparison" if status is None
                                     else f"Comparison (not saved) · {status}")
            return
        self.title_label.setText(f"Comparison #{self._comparison_id}"
                                 + (f" · {status}" if status else ""))

    def _update_buttons(self) -> None:
        running = self.running
        self.run_button.setEnabled(not running)
        self.run_action.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.stop_action.setEnabled(running)
        self.resume_button.setEnabled(
            not running and self._comparison_id is not None and self._spec is not None
            and self._status in ("cancelled", "running"))
        self.add_button.setEnabled(not running and len(self.columns) < MAX_COLUMNS)
        self.diff_button.setEnabled(not running and len(self.columns) >= 2)
        self.export_button.setEnabled(not running and self._report is not None)
        self.export_action.setEnabled(self.export_button.isEnabled())
        for column in self.columns:
            column.set_editing_enabled(not running)
            column.remove_button.setEnabled(not running and len(self.columns) > MIN_COLUMNS)
        for widget in (self.dataset_combo, self.file_button, self.samples_spin, self.seed_spin):
            widget.setEnabled(not running)
        self.rows_spin.setEnabled(not running and self.dataset_mode())

    # -- results ------------------------------------------------------------------------------

    def _show_report(self, ready: ReportReady) -> None:
        self._report = ready.report
        self._spec = ready.spec
        metrics = display_metrics(ready.spec)
        spread = len(ready.spec.inputs) > 1 or ready.spec.samples > 1
        for run in ready.report.runs:  # a resumed comparison's earlier runs, a reopened one's
            column = self._column(run.variant)
            if column is not None:
                column.add_result(run, run_label(ready.spec, run.input_id, run.sample),
                                  select=False)
        shown = {name: {m: by_metric.get(SCORE_NAMES[m]) for m in metrics}
                 for name, by_metric in ready.estimates.items()}
        for column in self.columns:
            column.set_metrics(metrics)
            name = column.name_edit.text().strip()
            if name in shown:
                column.show_scores(shown[name], spread=spread)
        self._mark_best(shown, metrics)
        self._estimates = ready.estimates
        self.score_model.set_report(ready.report, ready.estimates)
        note = ready.report.mixed_settings
        self.winner_label.setText(winner_sentence(ready.report) + (f"\n{note}" if note else ""))
        keep = self.chart_metric_combo.currentText()
        self.chart_metric_combo.blockSignals(True)
        self.chart_metric_combo.clear()
        self.chart_metric_combo.addItems(list(ready.report.table_metrics))
        wanted = keep if keep in ready.report.table_metrics else ready.report.primary
        if wanted:
            self.chart_metric_combo.setCurrentText(wanted)
        self.chart_metric_combo.blockSignals(False)
        self._refresh_chart()
        self._replace_sweep(sweep_chart(ready.report) if ready.report.sweep
                            else empty_chart("Columns that differ in one sampling setting "
                                             "form a sweep"))
        self._update_buttons()

    def _mark_best(self, estimates: Mapping[str, Mapping[str, Estimate | None]],
                   metrics: Sequence[str]) -> None:
        """Star the best column per metric; on a tie (equal at the digits shown, the report's
        rule) every tied column, each saying "tie"."""
        shown = {c.name_edit.text().strip(): estimates.get(c.name_edit.text().strip(), {})
                 for c in self.columns}
        best: dict[str, set[str]] = {name: set() for name in shown}
        tied: dict[str, set[str]] = {name: set() for name in shown}
        for metric in metrics:
            means = {name: e.mean for name, scores in shown.items()
                     if (e := scores.get(metric)) is not None and e.n > 0}
            if len(self.columns) < 2:
                continue
            top = leaders(means, SCORE_NAMES[metric])
            for name in top:
                best[name].add(metric)
                if len(top) > 1:
                    tied[name].add(metric)
        for column in self.columns:
            name = column.name_edit.text().strip()
            column.set_best(best.get(name, set()), tied.get(name, set()))

    def _refresh_chart(self, *_: object) -> None:
        metric = self.chart_metric_combo.currentText()
        view = empty_chart()
        if self._report is not None and metric:
            view = metric_bar_chart(self._report, metric, estimates={
                name: by_metric.get(metric) for name, by_metric in self._estimates.items()})
        self.chart_layout.replaceWidget(self.chart_view, view)
        self.chart_view.deleteLater()
        self.chart_view = view

    def _replace_sweep(self, view: Any) -> None:
        index = self.results_tabs.indexOf(self.sweep_view)
        self.results_tabs.removeTab(index)
        self.sweep_view.deleteLater()
        self.sweep_view = view
        self.results_tabs.insertTab(index, view, "Sweep")

    # -- diff ---------------------------------------------------------------------------------

    def open_diff(self, first: int = 0, second: int = 1) -> DiffDialog:
        """A word diff of two columns' shown outputs (the dialog can switch to any two)."""
        outputs = []
        for column in self.columns:
            label = column.name_edit.text().strip()
            if column.sample_combo.count() > 1:
                label += f" · {column.sample_combo.currentText()}"
            outputs.append((label, column.current_output()))
        dialog = DiffDialog(outputs, first, second, self)
        dialog.finished.connect(lambda _=0, d=dialog: self._forget_dialog(d))
        self._dialogs.append(dialog)
        dialog.show()
        return dialog

    def _forget_dialog(self, dialog: DiffDialog) -> None:
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)
        dialog.deleteLater()

    # -- export -------------------------------------------------------------------------------

    def _choose_export(self) -> None:
        name = f"comparison-{self._comparison_id or 'report'}.html"
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export the report", name,
            "HTML page (*.html);;Markdown (*.md);;CSV (*.csv);;JSON Lines (*.jsonl)")
        if not path:
            return
        if Path(path).suffix.lower() not in EXPORT_SUFFIXES:
            match = re.search(r"\*(\.\w+)", chosen)
            path += match.group(1) if match else ".html"
        self.export_report(path)

    def export_report(self, path: str) -> None:
        """Write the current report; the format follows the file's extension (.csv, .jsonl,
        .md, .html). ``export_finished`` tells when it is written or why it is not."""
        fmt = EXPORT_SUFFIXES.get(Path(path).suffix.lower())
        problem = ""
        if self._report is None:
            problem = "run or open a comparison first: there is no report to export"
        elif fmt is None:
            problem = f"{Path(path).name}: choose a .csv, .jsonl, .md or .html file"
        if problem or self._report is None or fmt is None:
            self._show_message(problem)
            self.export_finished.emit(path, problem)
            return

        def done(written: object) -> None:
            self.context.status.emit(f"Report written to {written}")
            self.export_finished.emit(path, "")

        def failed(message: str) -> None:
            self._show_message(f"Could not export the report: {message}")
            self.export_finished.emit(path, message)

        self.context.tasks.start(export_task, self._report, fmt, path, on_event=done,
                                 on_error=failed)

    # -- reopening ----------------------------------------------------------------------------

    def open_comparison(self, comparison_id: int) -> None:
        """Show a stored comparison in the columns, with its outputs and scores."""
        if self.running:
            self._show_message("Stop the running comparison before opening another one.")
            return
        self._show_message("")
        self.title_label.setText(f"Opening comparison #{comparison_id}…")

        def failed(message: str) -> None:
            self._set_title(self._status)
            self._show_message(f"Could not open comparison #{comparison_id}: {message}")

        self.context.tasks.start(open_task, self.context.db_path, comparison_id,
                                 self.confidence_spin.value(),
                                 on_event=self._opened, on_error=failed)

    def _opened(self, event: object) -> None:
        assert isinstance(event, Opened)
        spec = event.ready.spec
        self._spec = spec
        self._comparison_id = event.row.id
        self._status = event.row.status
        self._set_column_count(len(spec.variants))
        for column in self.columns:
            column.clear_results()
        for column, variant in zip(self.columns, spec.variants, strict=False):
            column.load_variant(variant)
        names = {v.name for v in spec.variants}
        for column in self.columns[len(spec.variants):]:
            if column.name_edit.text().strip() in names:
                column.name_edit.setText(self._free_name(column.name_edit.text().strip()))
        if len(spec.variants) > MAX_COLUMNS:
            self._show_message(f"Showing the first {MAX_COLUMNS} of {len(spec.variants)} "
                               "variants; the score table lists them all.")
        elif len(spec.variants) < MIN_COLUMNS:
            self.columns[-1].show_error("This comparison has a single variant.")
        self.samples_spin.setValue(spec.samples)
        self.seed_spin.setValue(min(spec.base_seed, self.seed_spin.maximum()))
        self._show_inputs(spec, event.row.id)
        self._set_title(event.row.status)
        self.progress.setRange(0, max(event.row.expected_runs, 1))
        self.progress.setValue(event.row.run_count)
        self.eta_label.setText(f"{event.row.run_count} of {event.row.expected_runs} runs")
        self._show_report(event.ready)
        self.comparison_opened.emit(event.row.id)

    def _show_inputs(self, spec: ComparisonSpec, comparison_id: int) -> None:
        if len(spec.inputs) == 1:
            item = spec.inputs[0]
            template = parse_template(spec.variants[0].template_source,
                                      spec.variants[0].template_id)
            var = input_variable(template)
            text = item.values.get(var) if var else None
            if not isinstance(text, str):
                text = next((v for v in item.values.values() if isinstance(v, str)), "")
            self.dataset_combo.setCurrentIndex(0)
            self.shared_input.setPlainText(text)
            self.references.setPlainText(join_references(item.references))
            return
        data = ("stored", str(comparison_id))
        self._stored_inputs[str(comparison_id)] = spec.inputs
        index = self.dataset_combo.findData(data)
        if index < 0:
            self.dataset_combo.addItem(
                f"Inputs of comparison #{comparison_id} ({len(spec.inputs)} rows)", data)
            index = self.dataset_combo.count() - 1
        self.dataset_combo.setCurrentIndex(index)
        self.rows_spin.setValue(0)

    def _confidence_changed(self, value: float) -> None:
        self.context.settings.setValue(CONFIDENCE_KEY, value)
        for column in self.columns:
            column.set_confidence_threshold(value)

    # -- settings -----------------------------------------------------------------------------

    def save_settings(self, settings: QSettings) -> None:
        state = {
            "columns": [c.setup().to_dict() for c in self.columns],
            "samples": self.samples_spin.value(),
            "seed": self.seed_spin.value(),
            "rows": self.rows_spin.value(),
            "input": self.shared_input.toPlainText(),
            "references": self.references.toPlainText(),
        }
        settings.setValue(SETTINGS_KEY, json.dumps(state, ensure_ascii=False))

    def _restore(self, settings: QSettings) -> None:
        raw = settings.value(SETTINGS_KEY)
        state: dict[str, Any] = {}
        if isinstance(raw, str):
            try:
                loaded = json.loads(raw)
            except ValueError:
                loaded = {}
            state = loaded if isinstance(loaded, dict) else {}
        setups = [ColumnSetup.from_dict(d) for d in state.get("columns") or []
                  if isinstance(d, dict)][:MAX_COLUMNS]
        defaults = [
            ColumnSetup("zero-shot", "Built-in/summarization-zero-shot", {}, {}, ""),
            ColumnSetup("few-shot", "Built-in/summarization-few-shot", {}, {}, ""),
        ]
        while len(setups) < MIN_COLUMNS:
            setups.append(defaults[len(setups)])
        for setup in setups:
            self.add_column(setup)
        for spin, key in ((self.samples_spin, "samples"), (self.seed_spin, "seed"),
                          (self.rows_spin, "rows")):
            value = state.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                spin.setValue(value)
        if isinstance(state.get("input"), str):
            self.shared_input.setPlainText(state["input"])
        if isinstance(state.get("references"), str):
            self.references.setPlainText(state["references"])
