"""The Compare tab's summary: progress while a comparison runs, then the winner sentence (the
method in its tooltip), a "too few inputs" note when the data call for one, the score table, a
bar chart per metric and the sweep chart."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCharts import QChartView
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground.evaluation.report import ComparisonReport
from playground.evaluation.scales import metric_label
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import method_note, too_few_inputs_note, winner_sentence
from playground.runs.eta import describe_eta
from playground.wording import plural
from ui.views.compare.score_table import ScoreTableModel
from ui.widgets.charts import empty_chart, metric_bar_chart, sweep_chart
from ui.widgets.palette import WARNING_STYLE

NO_SWEEP = "Columns that differ in one sampling setting form a sweep"
FEW_INPUTS_STYLE = f"{WARNING_STYLE} font-weight: 600;"


class SummaryPanel(QWidget):
    """Progress, then what the report says; it shows whatever report it is given."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._report: ComparisonReport | None = None
        self._estimates: Mapping[str, Mapping[str, Estimate | None]] = {}
        layout = QVBoxLayout(self)
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
        self.winner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.winner_label)
        self.few_inputs_label = QLabel("")
        self.few_inputs_label.setWordWrap(True)
        self.few_inputs_label.setStyleSheet(FEW_INPUTS_STYLE)
        self.few_inputs_label.setVisible(False)
        layout.addWidget(self.few_inputs_label)
        self.results_tabs = QTabWidget()
        self.score_model = ScoreTableModel(self)
        self.score_table = QTableView()
        self.score_table.setModel(self.score_model)
        self.score_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.score_table.verticalHeader().setVisible(False)
        self.score_table.setWordWrap(False)
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
        self.chart_view: QChartView = empty_chart()
        self.chart_layout.addWidget(self.chart_view, 1)
        self.results_tabs.addTab(chart_page, "Chart")
        self.sweep_view: QChartView = empty_chart(NO_SWEEP)
        self.results_tabs.addTab(self.sweep_view, "Sweep")
        layout.addWidget(self.results_tabs, 1)

    @property
    def report(self) -> ComparisonReport | None:
        return self._report

    # -- progress -----------------------------------------------------------------------------

    def starting(self) -> None:
        self.clear_report()
        self.progress.setRange(0, 0)
        self.eta_label.setText("waiting for the model…")

    def started(self, total: int, skipped: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(skipped)

    def advanced(self, done: int, total: int, failed: int, eta_s: float | None) -> None:
        self.progress.setValue(done)
        left = describe_eta(eta_s, total - done)
        eta = f" · {left}" if left else ""
        failures = f" · {failed} failed" if failed else ""
        self.eta_label.setText(f"{done} of {plural(total, 'run')}{failures}{eta}")

    def finished(self, done: int, elapsed_s: float, failed: int) -> None:
        self.eta_label.setText(f"{plural(done, 'run')} in {elapsed_s:.1f} s"
                               + (f" · {failed} failed" if failed else ""))

    def stopped(self) -> None:
        """The task ended without starting: no busy bar left behind."""
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
            self.eta_label.setText("")

    def show_stored(self, run_count: int, expected_runs: int) -> None:
        self.progress.setRange(0, max(expected_runs, 1))
        self.progress.setValue(run_count)
        self.eta_label.setText(f"{run_count} of {plural(expected_runs, 'run')}")

    # -- the report ---------------------------------------------------------------------------

    def clear_report(self) -> None:
        """A new comparison is starting: the last one's verdict, table and charts go."""
        self._report = None
        self._estimates = {}
        self.score_model.set_report(None)
        self.winner_label.setText("")
        self.winner_label.setToolTip("")
        self.few_inputs_label.setText("")
        self.few_inputs_label.setVisible(False)
        self.chart_metric_combo.blockSignals(True)
        self.chart_metric_combo.clear()
        self.chart_metric_combo.blockSignals(False)
        self._refresh_chart()
        self._replace_sweep(empty_chart(NO_SWEEP))

    def show_report(self, report: ComparisonReport,
                    estimates: Mapping[str, Mapping[str, Estimate | None]]) -> None:
        self._report = report
        self._estimates = estimates
        self.score_model.set_report(report, estimates)
        note = report.mixed_settings
        self.winner_label.setText(winner_sentence(report) + (f"\n{note}" if note else ""))
        self.winner_label.setToolTip(method_note(report))
        few = too_few_inputs_note(report)
        self.few_inputs_label.setText(few or "")
        self.few_inputs_label.setToolTip(method_note(report) if few else "")
        self.few_inputs_label.setVisible(few is not None)
        keep = self.chart_metric_combo.currentData()
        self.chart_metric_combo.blockSignals(True)
        self.chart_metric_combo.clear()
        for metric in report.table_metrics:
            self.chart_metric_combo.addItem(metric_label(metric), metric)
        wanted = keep if keep in report.table_metrics else report.primary
        if wanted:
            self.chart_metric_combo.setCurrentIndex(self.chart_metric_combo.findData(wanted))
        self.chart_metric_combo.blockSignals(False)
        self._refresh_chart()
        self._replace_sweep(sweep_chart(report) if report.sweep else empty_chart(NO_SWEEP))

    def _refresh_chart(self, *_: object) -> None:
        metric = self.chart_metric_combo.currentData()
        view = empty_chart()
        if self._report is not None and isinstance(metric, str) and metric:
            view = metric_bar_chart(self._report, metric, estimates={
                name: by_metric.get(metric) for name, by_metric in self._estimates.items()})
        self.chart_layout.replaceWidget(self.chart_view, view)
        self.chart_view.deleteLater()
        self.chart_view = view

    def _replace_sweep(self, view: QChartView) -> None:
        index = self.results_tabs.indexOf(self.sweep_view)
        self.results_tabs.removeTab(index)
        self.sweep_view.deleteLater()
        self.sweep_view = view
        self.results_tabs.insertTab(index, view, "Sweep")
