"""Compare's dataset mode read as a grid: one row per input, one column per variant.

Each cell shows the variant's output on that input with its score, ★/tie among the row's
finished cells, ⚠ for a low-confidence output and failures in red; a cell with several samples
cycles through them, and double-click (or Enter) opens every sample at full length. Rows sort
and filter through :mod:`playground.evaluation.grid`; any two cells picked with Ctrl+click open
in the word diff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from playground.comparison import ComparisonSpec
from playground.evaluation.grid import RowFilter, RowOrder, filter_rows, score_key, sort_rows
from playground.evaluation.report import ReportRun
from playground.evaluation.scales import metric_label
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import format_estimate
from ui.views.compare.cell_dialog import CellDialog, cell_html
from ui.views.compare.output_grid_model import CellDelegate, OutputGridModel, row_height
from ui.widgets.diff_dialog import DiffDialog

Index = QModelIndex | QPersistentModelIndex

#: Streamed tokens repaint their cells at most this often.
STREAM_REPAINT_MS = 80
#: Width of the input column; variants share the rest.
INPUT_COLUMN_WIDTH = 260
FILTERS: tuple[tuple[str, RowFilter], ...] = (
    ("All inputs", RowFilter()),
    ("Failures only", RowFilter(failures_only=True)),
    ("Low confidence only", RowFilter(low_confidence_only=True)),
    ("Disagreement ≥ 0.1", RowFilter(min_disagreement=0.1)),
    ("Disagreement ≥ 0.25", RowFilter(min_disagreement=0.25)),
    ("10 that disagree most", RowFilter(top_disagreement=10)),
)


class OutputGrid(QWidget):
    """Inputs × variants. ``set_spec`` lays the grid out with every cell waiting, ``stream``
    and ``add_run`` fill it while a comparison runs, ``show_report`` shows the final state."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = OutputGridModel(self)
        self._dialogs: list[QWidget] = []
        self._estimates: Mapping[str, Mapping[str, Estimate | None]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_toolbar())
        self.table = QTableView()
        self.table.setModel(self.model)
        self.delegate = CellDelegate(self.table)
        self.table.setItemDelegate(self.delegate)
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setMinimumSectionSize(120)
        self.table.activated.connect(self.expand)
        layout.addWidget(self.table, 1)
        self._apply_row_height()
        self.table.selectionModel().selectionChanged.connect(self._update_diff_button)
        self.model.modelReset.connect(self._update_diff_button)
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(STREAM_REPAINT_MS)
        self._repaint.timeout.connect(self.model.flush)
        self._update_diff_button()

    def _build_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        self.sort_combo = QComboBox()
        self.sort_combo.setToolTip("Order of the rows")
        self.filter_combo = QComboBox()
        self.filter_combo.setToolTip("Which inputs are shown. Disagreement is the spread of the "
                                     "metric's scores across variants (0–1), or, for an input "
                                     "without a reference, how different the outputs read")
        for label, _ in FILTERS:
            self.filter_combo.addItem(label)
        self.metric_combo = QComboBox()
        self.metric_combo.setToolTip("The metric cells show first, star and sort by")
        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText("Search inputs and outputs")
        self.search_field.setClearButtonEnabled(True)
        self.diff_button = QPushButton("Diff selected")
        self.diff_button.setToolTip("Ctrl+click two output cells, then compare them word by word")
        self.count_label = QLabel("")
        bar.addWidget(QLabel("Sort"))
        bar.addWidget(self.sort_combo, 2)
        bar.addWidget(QLabel("Show"))
        bar.addWidget(self.filter_combo, 1)
        bar.addWidget(QLabel("Metric"))
        bar.addWidget(self.metric_combo)
        bar.addWidget(self.search_field, 2)
        bar.addWidget(self.count_label)
        bar.addWidget(self.diff_button)
        self.sort_combo.currentIndexChanged.connect(self.refresh_rows)
        self.filter_combo.currentIndexChanged.connect(self.refresh_rows)
        self.metric_combo.currentIndexChanged.connect(self._on_metric)
        self.search_field.textChanged.connect(self.refresh_rows)
        self.diff_button.clicked.connect(lambda: self.diff_selected())
        return bar

    # -- the API Compare calls ----------------------------------------------------------------

    def set_spec(self, spec: ComparisonSpec) -> None:
        """Columns for the variants, a row per input, every cell waiting."""
        self._estimates = {}
        self.model.set_spec(spec)
        self._fill_controls()
        self._apply_row_height()
        self._size_columns()
        self.refresh_rows()

    def add_run(self, run: ReportRun) -> None:
        """A finished run fills its cell (a failed one shows its error)."""
        self.model.add_run(run)
        if self._arranged():
            self.refresh_rows()

    def stream(self, variant_name: str, input_id: str, sample: int, text: str) -> None:
        """Text streaming into a cell; cells repaint at most every ``STREAM_REPAINT_MS``."""
        self.model.stream(variant_name, input_id, sample, text)
        if not self._repaint.isActive():
            self._repaint.start()

    def show_report(self, spec: ComparisonSpec, runs: Sequence[ReportRun],
                    estimates: Mapping[str, Mapping[str, Estimate | None]]) -> None:
        """The final state: every run in its cell; each column's header tells the variant's
        means over the inputs."""
        if self.model.spec != spec:
            self.set_spec(spec)
        known = list(self.model.metrics)
        self.model.add_runs(runs)
        if self.model.metrics != known:  # a judge's scores: metrics to choose as well
            self._fill_controls()
        self._estimates = estimates
        self._update_header_tips()
        self.refresh_rows()

    def clear(self) -> None:
        self._repaint.stop()
        self._estimates = {}
        self.model.set_spec(None)
        self._fill_controls()
        self.count_label.clear()

    def set_confidence_threshold(self, threshold: float) -> None:
        self.model.set_threshold(threshold)

    # -- controls -----------------------------------------------------------------------------

    def _fill_controls(self) -> None:
        for combo in (self.sort_combo, self.metric_combo):
            combo.blockSignals(True)
            combo.clear()
        for metric in self.model.metrics:
            self.metric_combo.addItem(metric_label(metric), metric)
        self.metric_combo.setCurrentIndex(max(self.metric_combo.findData(self.model.metric), 0))
        self._fill_sorts()
        for combo in (self.sort_combo, self.metric_combo):
            combo.blockSignals(False)

    def _fill_sorts(self) -> None:
        """The sort entries name the chosen metric, so they change with it."""
        current = self.sort_combo.currentIndex()
        self.sort_combo.blockSignals(True)
        self.sort_combo.clear()
        metric = metric_label(self.model.metric)
        if self.model.spec is not None:
            self.sort_combo.addItem("Input order", RowOrder("input", descending=False))
            self.sort_combo.addItem("Failures first", RowOrder("failures"))
            self.sort_combo.addItem(f"Disagreement on {metric}, most first",
                                    RowOrder("disagreement"))
            for variant in self.model.spec.variants:
                for descending, words in ((True, "highest first"), (False, "lowest first")):
                    self.sort_combo.addItem(f"{variant.name}: {metric} {words}",
                                            RowOrder("score", variant.name, descending))
        self.sort_combo.setCurrentIndex(max(current, 0) if current < self.sort_combo.count()
                                        else 0)
        self.sort_combo.blockSignals(False)

    def _on_metric(self, *_: object) -> None:
        self.model.set_metric(str(self.metric_combo.currentData()))
        self._fill_sorts()
        self._update_header_tips()
        self.refresh_rows()

    def order(self) -> RowOrder:
        data = self.sort_combo.currentData()
        return data if isinstance(data, RowOrder) else RowOrder("input", descending=False)

    def row_filter(self) -> RowFilter:
        index = max(self.filter_combo.currentIndex(), 0)
        return replace(FILTERS[index][1], search=self.search_field.text())

    def _arranged(self) -> bool:
        """Whether rows are sorted or filtered: a finished run may then move its row."""
        return (self.order() != RowOrder("input", descending=False)
                or self.row_filter() != RowFilter())

    def refresh_rows(self, *_: object) -> None:
        """Sort and filter the rows through the core."""
        rows = self.model.rows()
        metric = self.model.metric
        shown = filter_rows(sort_rows(rows, self.order(), metric), self.row_filter(), metric)
        self.model.set_shown([r.input_id for r in shown])
        self.count_label.setText(f"{len(shown)} of {len(rows)} inputs" if rows else "")

    def _update_header_tips(self) -> None:
        tips = {}
        for name, by_metric in self._estimates.items():
            lines = [f"{name}: mean over the inputs"]
            for metric in self.model.metrics:
                estimate = by_metric.get(score_key(metric))
                lines.append(f"{metric_label(metric)} "
                             f"{format_estimate(metric, estimate, spread=True)}")
            tips[name] = "\n".join(lines)
        self.model.set_header_tips(tips)

    # -- layout -------------------------------------------------------------------------------

    def _apply_row_height(self) -> None:
        """Every row shows a header line and at least three lines of output."""
        height = row_height(self.table.fontMetrics())
        header = self.table.verticalHeader()
        header.setMinimumSectionSize(height)
        header.setDefaultSectionSize(height)

    def _size_columns(self) -> None:
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        if self.model.columnCount() > 0:
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(0, INPUT_COLUMN_WIDTH)

    # -- expanding and diffing ----------------------------------------------------------------

    def expand(self, index: Index) -> CellDialog | None:
        """A cell at full length: the input, its references and every sample with scores."""
        row = self.model.row_at(index.row())
        if row is None:
            return None
        cell = self.model.cell_at(index)
        title = row.input_id if cell is None else f"{cell.variant} · {row.input_id}"
        dialog = CellDialog(title, cell_html(row, cell, self.model.score_line,
                                             self.model.threshold), self)
        self._keep(dialog)
        return dialog

    def selected_outputs(self) -> list[tuple[str, str]]:
        """(label, output shown) of each selected output cell, left to right, top to bottom."""
        out = []
        indexes = sorted(self.table.selectionModel().selectedIndexes(),
                         key=lambda i: (i.row(), i.column()))
        for index in indexes:
            cell = self.model.cell_at(index)
            run = self.model.shown_sample(cell) if cell is not None else None
            if cell is not None and run is not None:
                text = run.output if run.status == "ok" else (run.error or run.status)
                out.append((self.model.label(cell, run), text))
        return out

    def _update_diff_button(self, *_: object) -> None:
        count = len(self.selected_outputs())
        self.diff_button.setEnabled(count == 2)
        self.diff_button.setToolTip("Compare the two selected outputs word by word" if count == 2
                                    else "Ctrl+click two output cells, then compare them "
                                         "word by word")

    def diff_selected(self) -> DiffDialog | None:
        outputs = self.selected_outputs()
        if len(outputs) != 2:
            return None
        dialog = DiffDialog(outputs, 0, 1, self)
        self._keep(dialog)
        return dialog

    def _keep(self, dialog: CellDialog | DiffDialog) -> None:
        self._dialogs.append(dialog)
        dialog.finished.connect(lambda _=0, d=dialog: self._forget(d))
        dialog.show()

    def _forget(self, dialog: QWidget) -> None:
        if dialog in self._dialogs:
            self._dialogs.remove(dialog)
        dialog.deleteLater()
