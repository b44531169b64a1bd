"""The Compare tab: two to six variants side by side on one shared input or on a dataset.

Each column is a variant. "Run all" turns the columns into a
:class:`~playground.comparison.ComparisonSpec` (variants × inputs × k samples), built by the
core as the CLI builds it, and runs it through :func:`ui.views.compare.compare_tasks.run_task`,
which saves it; tokens stream into their column, and when it ends the report (built off the GUI
thread) gives each column its scores, the best per metric starred, and fills the summary. A
stored comparison reopens into the columns; a cancelled one resumes where it stopped.

The view holds the layout and the wiring; the panels each do one job: the inputs strip
(:mod:`.inputs_panel`), the columns (:mod:`.columns_panel`: a row of compact variant headers,
and their outputs), and the results (:mod:`.results_area`: the Outputs tab, which takes most
of the height, and the Summary tab with :mod:`.summary_panel`). A dataset's outputs are read in
the inputs × variants grid (:mod:`.output_grid`), which gets the same events as the columns.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from PySide6.QtCharts import QChartView
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from playground.comparison import ComparisonSpec
from playground.engine.models import ModelChoices
from playground.errors import PlaygroundError
from playground.evaluation.exports import export_format
from playground.evaluation.report import ComparisonReport
from playground.events import Token
from playground.runs.build import build_comparison
from playground.runs.runner import (
    CancelToken,
    ComparisonFinished,
    ComparisonStarted,
    PlannedRun,
    Progress,
    RunDone,
    report_run,
)
from ui.context import AppContext
from ui.services.jobs import TokenRelay
from ui.services.model_list import (
    added_model_paths,
    model_choices_task,
    switched_off_sources,
)
from ui.services.tasks import Worker
from ui.views.compare.columns_panel import MAX_COLUMNS, MIN_COLUMNS, ColumnsPanel
from ui.views.compare.compare_column import ColumnSetup, CompareColumn
from ui.views.compare.compare_tasks import (
    Opened,
    ReportReady,
    RunRequest,
    SpecReady,
    export_task,
    open_task,
    run_task,
)
from ui.views.compare.inputs_panel import InputsPanel
from ui.views.compare.judge_dialog import JudgeButton
from ui.views.compare.output_grid import OutputGrid
from ui.views.compare.results_area import ResultsArea
from ui.views.compare.summary_panel import SummaryPanel
from ui.widgets.diff_dialog import DiffDialog
from ui.widgets.heading import heading
from ui.widgets.palette import ERROR_STYLE
from ui.widgets.references import CONFIDENCE_KEY, confidence_threshold
from ui.widgets.temperature_setting import temperature_top

SETTINGS_KEY = "compare/state"
DEFAULT_SETUPS = (
    ColumnSetup("zero-shot", "Built-in/summarization-zero-shot", {}, {}, ""),
    ColumnSetup("few-shot", "Built-in/summarization-few-shot", {}, {}, ""),
)


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
        self._worker: Worker | None = None
        self._cancel: CancelToken | None = None
        self._relay: TokenRelay | None = None
        self._spec: ComparisonSpec | None = None
        self._comparison_id: int | None = None
        #: the stored comparison's number as people read it ("#3")
        self._label: str | None = None
        self._finished_id: int | None = None
        self._status: str | None = None
        self._dialogs: list[DiffDialog] = []

        self.inputs = InputsPanel(context.collection(), confidence_threshold(context.settings))
        self.columns_area = ColumnsPanel(context)
        self.results = ResultsArea(self.columns_area.outputs)
        # A dataset's outputs: inputs × variants
        self.grid = OutputGrid()
        self.grid.set_confidence_threshold(self.inputs.confidence_spin.value())
        self.results.set_dataset_page(self.grid)
        self._expose_panels()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(self._build_header())
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(ERROR_STYLE)
        self.message_label.setVisible(False)
        layout.addWidget(self.message_label)
        layout.addWidget(self.inputs)
        layout.addWidget(self.columns_area)
        layout.addWidget(self.results, 1)
        self._build_actions()

        self.inputs.mode_changed.connect(self._mode_changed)
        self.inputs.confidence_spin.valueChanged.connect(self._confidence_changed)
        self.columns_area.columns_changed.connect(self._columns_changed)
        self._restore(context.settings)
        context.open_comparison.connect(self.open_comparison)
        context.library_changed.connect(self._library_changed)
        self._update_buttons()

    def _expose_panels(self) -> None:
        """The panels' widgets under the view's own names, as scripts and tests reach them."""
        inputs = self.inputs
        self.dataset_combo, self.file_button = inputs.dataset_combo, inputs.file_button
        self.rows_spin, self.samples_spin = inputs.rows_spin, inputs.samples_spin
        self.seed_spin, self.confidence_spin = inputs.seed_spin, inputs.confidence_spin
        self.shared_input, self.references = inputs.shared_input, inputs.references
        self.input_hint = inputs.input_hint
        self.outputs_tabs, self.outputs_stack = self.results.tabs, self.results.outputs_stack
        self.winner_line, self.summary_button = (self.results.winner_line,
                                                 self.results.summary_button)
        self._expose_summary()

    def _expose_summary(self) -> None:
        """The summary's widgets (a new run gets a new summary panel)."""
        summary = self.summary
        self.progress, self.eta_label = summary.progress, summary.eta_label
        self.winner_label, self.results_tabs = summary.winner_label, summary.results_tabs
        self.score_model, self.score_table = summary.score_model, summary.score_table
        self.chart_metric_combo = summary.chart_metric_combo

    @property
    def summary(self) -> SummaryPanel:
        return self.results.summary

    @property
    def columns(self) -> list[CompareColumn]:
        return self.columns_area.columns

    @property
    def chart_view(self) -> QChartView:
        return self.summary.chart_view

    @property
    def sweep_view(self) -> QChartView:
        return self.summary.sweep_view

    def showEvent(self, event: QShowEvent) -> None:
        """List the models again each time the tab is shown: files may have been added."""
        super().showEvent(event)
        self.columns_area.set_temperature_top(temperature_top(self.context.settings))
        settings = self.context.settings
        self.context.tasks.start(model_choices_task, added_model_paths(settings),
                                 switched_off_sources(settings), on_event=self._models_found,
                                 on_error=lambda message: None)

    # -- construction -------------------------------------------------------------------------

    def _build_header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.title_label = heading("New comparison")
        row.addWidget(self.title_label, 1)
        self.add_button = QPushButton("+ Column")
        self.add_button.setToolTip(f"Add a variant (at most {MAX_COLUMNS})")
        # clicked(checked) must not reach add_column as its setup
        self.add_button.clicked.connect(lambda: self.add_column())
        self.run_button = QPushButton("Run all")
        self.run_button.setToolTip("Run every column (Ctrl+Shift+R)")
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
        self.judge_button = JudgeButton(self.context, self)
        self.judge_button.judged.connect(self.open_comparison)
        for button in (self.add_button, self.run_button, self.stop_button, self.resume_button,
                       self.diff_button, self.judge_button, self.export_button):
            row.addWidget(button)
        return row

    def _build_actions(self) -> None:
        self.run_action = QAction("Run all variants", self)
        # Its own key (Ctrl+Shift+Return regenerates in the Playground), and only while the
        # Compare tab has focus: from another tab it would start a comparison out of sight.
        self.run_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.run_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.addAction(self.run_action)
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

    # -- wiring the panels --------------------------------------------------------------------

    def add_column(self, setup: ColumnSetup | None = None) -> CompareColumn | None:
        """A new column (None at the maximum); without a setup it copies the last column's
        template and model under a new name."""
        return self.columns_area.add_column(setup)

    def remove_column(self, column: object) -> bool:
        return self.columns_area.remove_column(column)

    def select_dataset(self, name: str) -> bool:
        """Choose a library dataset by name ("summarization") or a file by its path."""
        return self.inputs.select_dataset(name)

    def dataset_mode(self) -> bool:
        return self.inputs.dataset_mode()

    def _columns_changed(self) -> None:
        self.inputs.update_hint(self.columns_area.fills())
        self._update_buttons()

    def _mode_changed(self, provided: object) -> None:
        self.columns_area.set_provided(provided if isinstance(provided, set) else set())
        self.results.show_dataset(self.inputs.dataset_mode())
        self.inputs.update_hint(self.columns_area.fills())

    def _library_changed(self) -> None:
        collection = self.context.collection()
        self.columns_area.set_collection(collection)
        self.inputs.fill_datasets(collection)

    def _models_found(self, listing: ModelChoices) -> None:
        self.columns_area.set_models([(m.name, m.key) for m in listing.usable()])
        self.judge_button.models = [(m.name, m.key) for m in listing.usable()]

    def _confidence_changed(self, value: float) -> None:
        self.context.settings.setValue(CONFIDENCE_KEY, value)
        self.columns_area.set_confidence_threshold(value)
        self.grid.set_confidence_threshold(value)

    # -- running ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker is not None

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    def run_all(self) -> None:
        """Run every column on the shared input or the chosen dataset."""
        if self.running:
            return
        self._show_message("")
        variants = self.columns_area.variants()
        if not variants:
            self._refuse("No column can run: see the message in each column.")
            return
        name = " vs ".join(v.name for v in variants)
        inputs = self.inputs
        try:
            if inputs.dataset_mode():
                request = RunRequest(
                    f"{name} on {inputs.dataset_combo.currentText()}", variants=tuple(variants),
                    dataset=inputs.dataset_choice(), stored_inputs=inputs.stored_inputs(),
                    rows=inputs.rows_spin.value(), samples=inputs.samples_spin.value(),
                    seed=inputs.seed_spin.value())
            else:
                spec = build_comparison(variants, (inputs.shared(variants),), name=name,
                                        samples=inputs.samples_spin.value(),
                                        seed=inputs.seed_spin.value())
                request = RunRequest(name, spec=spec)
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
            self._label = None
            self._status = None
            self.grid.clear()
        # Nothing of the previous comparison stays on screen while this one runs.
        self.results.fresh_summary()
        self._expose_summary()
        self.results.show_outputs()
        self.summary.starting()
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

    def _on_token(self, planned: object, token: object) -> None:
        if not isinstance(planned, PlannedRun) or self._spec is None:
            return
        text = token.text if isinstance(token, Token) else ""
        self.columns_area.stream(planned.variant.name, planned.input.id, planned.sample, text,
                                 self._spec)
        self.grid.stream(planned.variant.name, planned.input.id, planned.sample, text)

    def _on_event(self, event: object) -> None:
        if isinstance(event, SpecReady):
            self._spec = event.spec
            self.columns_area.set_metrics(event.spec)
            self.grid.set_spec(event.spec)
        elif isinstance(event, ComparisonStarted):
            self._comparison_id = event.comparison_id
            self._label = event.label
            self.summary.started(event.total, event.skipped)
            self._set_title("running")
        elif isinstance(event, RunDone) and self._spec is not None:
            run = report_run(event)
            self.columns_area.add_run(run, self._spec)
            self.grid.add_run(run)
        elif isinstance(event, Progress):
            self.summary.advanced(event.done + event.skipped, event.total, event.failed,
                                  event.eta_s)
        elif isinstance(event, ComparisonFinished):
            self._status = event.status
            self._finished_id = event.comparison_id
            self._set_title(event.status)
            self.summary.finished(event.done, event.elapsed_s, event.failed)
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
        self.summary.stopped()
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
        label = self._label or f"#{self._comparison_id}"
        self.title_label.setText(f"Comparison {label}" + (f" · {status}" if status else ""))

    def _update_buttons(self) -> None:
        running = self.running
        self.run_button.setEnabled(not running)
        self.run_action.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.stop_action.setEnabled(running)
        self.resume_button.setEnabled(
            not running and self._comparison_id is not None and self._spec is not None
            and self._status in ("cancelled", "running"))
        self.add_button.setEnabled(self.columns_area.can_add() and not running)
        self.diff_button.setEnabled(not running and len(self.columns) >= 2)
        self.export_button.setEnabled(not running and self.summary.report is not None)
        self.export_action.setEnabled(self.export_button.isEnabled())
        self.judge_button.set_target(self._comparison_id, self._label, running)
        self.columns_area.set_running(running)
        self.inputs.set_running(running)

    def _show_report(self, ready: ReportReady) -> None:
        self._spec = ready.spec
        self.columns_area.show_report(ready.spec, ready.report.runs, ready.estimates)
        self.grid.show_report(ready.spec, ready.report.runs, ready.estimates)
        self.summary.show_report(ready.report, ready.estimates)
        self.results.show_winner()
        self._update_buttons()

    # -- diff ---------------------------------------------------------------------------------

    def open_diff(self, first: int = 0, second: int = 1) -> DiffDialog:
        """A word diff of two columns' shown outputs (the dialog can switch to any two)."""
        dialog = DiffDialog(self.columns_area.shown_outputs(), first, second, self)
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
        number = (self._label or "").lstrip("#")
        name = f"comparison-{number or 'report'}.html"
        path, chosen = QFileDialog.getSaveFileName(
            self, "Export the report", name,
            "HTML page (*.html);;Markdown (*.md);;CSV (*.csv);;JSON Lines (*.jsonl)")
        if not path:
            return
        if export_format(path) is None:
            match = re.search(r"\*(\.\w+)", chosen)
            path += match.group(1) if match else ".html"
        self.export_report(path)

    def export_report(self, path: str) -> None:
        """Write the current report; the format follows the file's extension (.csv, .jsonl,
        .md, .html). ``export_finished`` tells when it is written or why it is not."""
        fmt = export_format(path)
        report: ComparisonReport | None = self.summary.report
        problem = ""
        if report is None:
            problem = "run or open a comparison first: there is no report to export"
        elif fmt is None:
            problem = f"{Path(path).name}: choose a .csv, .jsonl, .md or .html file"
        if problem or report is None or fmt is None:
            self._show_message(problem)
            self.export_finished.emit(path, problem)
            return

        def done(written: object) -> None:
            self.context.status.emit(f"Report written to {written}")
            self.export_finished.emit(path, "")

        def failed(message: str) -> None:
            self._show_message(f"Could not export the report: {message}")
            self.export_finished.emit(path, message)

        self.context.tasks.start(export_task, report, fmt, path, on_event=done,
                                 on_error=failed)

    # -- reopening ----------------------------------------------------------------------------

    def open_comparison(self, comparison_id: int) -> None:
        """Show a stored comparison in the columns, with its outputs and scores."""
        if self.running:
            self._show_message("Stop the running comparison before opening another one.")
            return
        self._show_message("")
        self.title_label.setText("Opening the comparison…")

        def failed(message: str) -> None:
            self._set_title(self._status)
            self._show_message(f"Could not open the comparison: {message}")

        self.context.tasks.start(open_task, self.context.db_path, comparison_id,
                                 self.confidence_spin.value(),
                                 on_event=self._opened, on_error=failed)

    def _opened(self, event: object) -> None:
        assert isinstance(event, Opened)
        spec = event.ready.spec
        self._spec = spec
        self._comparison_id = event.row.id
        self._label = event.row.label
        self._status = event.row.status
        self.columns_area.load_variants(spec.variants)
        if len(spec.variants) > MAX_COLUMNS:
            self._show_message(f"Showing the first {MAX_COLUMNS} of {len(spec.variants)} "
                               "variants; the score table lists them all.")
        self.inputs.show_inputs(spec, event.row.id, event.row.label)
        self._set_title(event.row.status)
        self.summary.show_stored(event.row.run_count, event.row.expected_runs)
        self._show_report(event.ready)
        self.comparison_opened.emit(event.row.id)

    # -- settings -----------------------------------------------------------------------------

    def save_settings(self, settings: QSettings) -> None:
        state = {"columns": [s.to_dict() for s in self.columns_area.setups()],
                 **self.inputs.state()}
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
        while len(setups) < MIN_COLUMNS:
            setups.append(DEFAULT_SETUPS[len(setups)])
        for setup in setups:
            self.add_column(setup)
        self.inputs.restore(state)
