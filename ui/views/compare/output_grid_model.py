"""The inputs × variants grid's table model and the delegate that paints its cells.

The model keeps the finished runs and the text streaming into cells, and asks the core
(:mod:`playground.evaluation.grid`) for each input's row: what a cell shows, its marks, the order
and the filter all come from there. The delegate paints a cell as a header line (sample, ★/tie,
score, ⚠ or the failure) above the wrapped output, so the marks stay visible however long the
output is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from playground.comparison import ComparisonSpec
from playground.evaluation import structured
from playground.evaluation.grid import Cell, Row, build_row, score_key
from playground.evaluation.report import LOW_CONFIDENCE, ReportRun, format_mean
from playground.evaluation.scales import metric_label
from playground.evaluation.summary import STAR, TIE, display_metrics, run_label
from ui.widgets.palette import ERROR
from ui.widgets.references import confidence_flag

Index = QModelIndex | QPersistentModelIndex

#: The header line of a cell (sample, marks, score); DisplayRole holds the body.
HEADER_ROLE = Qt.ItemDataRole.UserRole + 1
#: True where the header is drawn in red: a failed sample.
FAILED_ROLE = Qt.ItemDataRole.UserRole + 2
#: Output lines a row shows below its header line: at least three, as the issue asks.
BODY_LINES = 4
PADDING = 3
FAILED_COLOR = QColor(ERROR)
WAITING = "waiting…"
SAMPLE_ARROW = "▸"


def json_problem(run: ReportRun) -> str | None:
    """What is wrong with a run's JSON ("⚠ invalid at $.label: …"), when it was scored as JSON
    and fell short."""
    return structured.json_problem(run.scores, run.reasons) if run.status == "ok" else None


def row_height(metrics: QFontMetrics) -> int:
    """A header line and ``BODY_LINES`` of output, with the cell's padding."""
    return metrics.lineSpacing() * (1 + BODY_LINES) + 2 * PADDING + 2


class OutputGridModel(QAbstractTableModel):
    """Column 0 is the input; column ``n`` the spec's ``n``-th variant."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec: ComparisonSpec | None = None
        self.metrics: list[str] = []
        self.metric = ""
        self.threshold = LOW_CONFIDENCE
        self._runs: dict[str, list[ReportRun]] = {}
        self._rows: dict[str, Row] = {}
        self.shown: list[str] = []
        #: (variant, input id) → (sample, text so far) of the run in flight.
        self._streams: dict[tuple[str, str], tuple[int, str]] = {}
        self._dirty: set[tuple[str, str]] = set()
        #: (variant, input id) → which finished sample the cell shows.
        self._sample: dict[tuple[str, str], int] = {}
        #: variant → header tooltip with its mean over the inputs (from the report).
        self._header_tips: dict[str, str] = {}

    # -- filling ------------------------------------------------------------------------------

    def set_spec(self, spec: ComparisonSpec | None) -> None:
        self.beginResetModel()
        self.spec = spec
        self.metrics = display_metrics(spec) if spec is not None else []
        if self.metric not in self.metrics:
            self.metric = next((m for m in ("rougeL", *self.metrics) if m in self.metrics), "")
        self._runs = {}
        self._streams = {}
        self._dirty = set()
        self._sample = {}
        self._header_tips = {}
        self._rows = {} if spec is None else {
            i.id: build_row(spec, i, (), self.metrics, threshold=self.threshold)
            for i in spec.inputs}
        self.shown = [] if spec is None else [i.id for i in spec.inputs]
        self.endResetModel()

    def add_run(self, run: ReportRun) -> None:
        if self._keep(run):
            self._rebuild(run.input_id)

    def add_runs(self, runs: Sequence[ReportRun]) -> None:
        """Many finished runs at once (a report): each row is rebuilt once."""
        if self.spec is not None:  # a judge's scores are metrics no spec names
            self.metrics = display_metrics(self.spec, {*self.metrics,
                                                       *(m for r in runs for m in r.scores)})
        touched = {run.input_id for run in runs if self._keep(run)}
        for input_id in touched:
            self._rebuild(input_id, signal=False)
        self._changed_all()

    def _keep(self, run: ReportRun) -> bool:
        if self.spec is None or run.input_id not in self._rows:
            return False
        runs = self._runs.setdefault(run.input_id, [])
        runs[:] = [r for r in runs if (r.variant, r.sample) != (run.variant, run.sample)]
        runs.append(run)
        key = (run.variant, run.input_id)
        if self._streams.get(key, (-1, ""))[0] == run.sample:
            del self._streams[key]
        return True

    def _rebuild(self, input_id: str, *, signal: bool = True) -> None:
        assert self.spec is not None
        input_ = next(i for i in self.spec.inputs if i.id == input_id)
        self._rows[input_id] = build_row(self.spec, input_, self._runs.get(input_id, ()),
                                         self.metrics, threshold=self.threshold)
        if signal and input_id in self.shown:
            n = self.shown.index(input_id)
            self.dataChanged.emit(self.index(n, 0), self.index(n, self.columnCount() - 1))

    def stream(self, variant: str, input_id: str, sample: int, text: str) -> None:
        """Keep the text; :meth:`flush` repaints the cells that changed."""
        key = (variant, input_id)
        current = self._streams.get(key)
        before = current[1] if current is not None and current[0] == sample else ""
        self._streams[key] = (sample, before + text)
        self._dirty.add(key)

    def flush(self) -> None:
        if self.spec is None:
            return
        columns = {v.name: n + 1 for n, v in enumerate(self.spec.variants)}
        for variant, input_id in self._dirty:
            if input_id in self.shown and variant in columns:
                index = self.index(self.shown.index(input_id), columns[variant])
                self.dataChanged.emit(index, index)
        self._dirty = set()

    def set_threshold(self, threshold: float) -> None:
        self.threshold = threshold
        for input_id in list(self._rows):
            self._rebuild(input_id, signal=False)
        self._changed_all()

    def set_metric(self, metric: str) -> None:
        self.metric = metric
        self._changed_all()

    def set_header_tips(self, tips: Mapping[str, str]) -> None:
        self._header_tips = dict(tips)
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.columnCount() - 1)

    def set_shown(self, input_ids: Sequence[str]) -> None:
        self.beginResetModel()
        self.shown = [i for i in input_ids if i in self._rows]
        self.endResetModel()

    def _changed_all(self) -> None:
        if self.shown:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self.shown) - 1, self.columnCount() - 1))

    # -- reading ------------------------------------------------------------------------------

    def rows(self) -> list[Row]:
        """Every input's row, in dataset order."""
        return [self._rows[i.id] for i in self.spec.inputs] if self.spec is not None else []

    def row_at(self, row: int) -> Row | None:
        return self._rows.get(self.shown[row]) if 0 <= row < len(self.shown) else None

    def cell_at(self, index: Index) -> Cell | None:
        row = self.row_at(index.row())
        if row is None or not 1 <= index.column() <= len(row.cells):
            return None
        return row.cells[index.column() - 1]

    def shown_sample(self, cell: Cell) -> ReportRun | None:
        """The finished sample the cell shows (the first until the person cycles)."""
        if not cell.runs:
            return None
        return cell.runs[self._sample.get((cell.variant, cell.input_id), 0) % len(cell.runs)]

    def cycle_sample(self, index: Index) -> None:
        cell = self.cell_at(index)
        if cell is None or len(cell.runs) < 2:
            return
        key = (cell.variant, cell.input_id)
        self._sample[key] = (self._sample.get(key, 0) + 1) % len(cell.runs)
        self.dataChanged.emit(index, index)

    def label(self, cell: Cell, run: ReportRun) -> str:
        assert self.spec is not None
        return f"{cell.variant} · {run_label(self.spec, cell.input_id, run.sample)}"

    def score_line(self, scores: Mapping[str, float | None]) -> str:
        """Every shown metric with its value, the chosen one first."""
        parts = []
        for metric in sorted(self.metrics, key=lambda m: m != self.metric):
            value = scores.get(metric)
            if value is not None:
                parts.append(f"{metric_label(metric)} {format_mean(score_key(metric), value)}")
        return " · ".join(parts) if parts else "no score"

    # -- Qt -----------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.shown)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() or self.spec is None:
            return 0
        return 1 + len(self.spec.variants)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or self.spec is None:
            return None
        name = "Input" if section == 0 else self.spec.variants[section - 1].name
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.ToolTipRole:
            return ("The input and its references" if section == 0
                    else self._header_tips.get(name) or name)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row())
        if row is None:
            return None
        if index.column() == 0:
            return self._input_data(row, role)
        cell = self.cell_at(index)
        return None if cell is None else self._cell_data(cell, role)

    def _input_data(self, row: Row, role: int) -> Any:
        if role == HEADER_ROLE:
            return row.input_id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            refs = "".join(f"\nreference: {ref}" for ref in row.references)
            return row.text + refs
        return None

    def _cell_data(self, cell: Cell, role: int) -> Any:
        run = self.shown_sample(cell)
        if role == FAILED_ROLE:
            return run is not None and run.status == "failed"
        if role == HEADER_ROLE:
            return self._header(cell, run)
        if role == Qt.ItemDataRole.DisplayRole:
            if run is None:
                stream = self._streams.get((cell.variant, cell.input_id))
                return stream[1] if stream is not None else ""
            return (run.error or run.status) if run.status == "failed" else run.output
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(cell, run)
        return None

    def _header(self, cell: Cell, run: ReportRun | None) -> str:
        if run is None:
            stream = self._streams.get((cell.variant, cell.input_id))
            if stream is None:
                return WAITING
            return f"sample {stream[0] + 1} · generating…"
        parts = []
        if cell.expected > 1:
            arrow = f" {SAMPLE_ARROW}" if len(cell.runs) > 1 else ""
            parts.append(f"sample {run.sample + 1}/{cell.expected}{arrow}")
        mark = cell.mark(self.metric)
        value = cell.score(self.metric)
        if value is not None:  # the summary's marks: "★ rougeL 0.412", "… · tie"
            parts.append(("" if mark is None else f"{STAR} ") + f"{metric_label(self.metric)} "
                         + format_mean(score_key(self.metric), value)
                         + (TIE if mark == "tie" else ""))
        if cell.low_confidence:
            parts.append("⚠")
        problem = json_problem(run)
        if problem:  # "⚠ invalid at $.label", "⚠ truncated": the whole reason is in the tooltip
            parts.append(problem.partition(":")[0])
        if cell.failed:
            parts.append(f"✗ {cell.failures} failed" if cell.expected > 1 else "✗ failed")
        if not cell.finished:
            parts.append(f"{len(cell.runs)} of {cell.expected} done")
        return " · ".join(parts) if parts else "no score"

    def _tooltip(self, cell: Cell, run: ReportRun | None) -> str:
        if run is None:
            return "Not finished yet"
        lines = [self.label(cell, run), self.score_line(cell.scores)
                 + (" (mean over samples)" if len(cell.runs) > 1 else "")]
        mark = cell.mark(self.metric)
        if mark == "best":
            lines.append(f"{STAR} best {metric_label(self.metric)} in this row")
        elif mark == "tie":
            lines.append(f"{STAR} tie: best {metric_label(self.metric)} in this row, shared with "
                         "another "
                         "variant (equal at the digits shown)")
        for sample in sorted(cell.low_confidence_samples):
            low = next(r for r in cell.runs if r.sample == sample)
            lines.append(f"sample {sample + 1}: "
                         + confidence_flag(low.scores.get("mean_logprob"), self.threshold))
        for each in cell.runs:
            problem = json_problem(each)
            if problem:
                lines.append(f"sample {each.sample + 1}: {problem}" if len(cell.runs) > 1
                             else problem)
        for failed in cell.runs:
            if failed.status == "failed":
                lines.append(f"sample {failed.sample + 1} failed: {failed.error or 'no reason'}")
        if len(cell.runs) > 1:
            lines.append(f"Click “{SAMPLE_ARROW}” for the next sample; double-click for all.")
        else:
            lines.append("Double-click for the full text.")
        return "\n".join(lines)


class CellDelegate(QStyledItemDelegate):
    """A bold header line above the word-wrapped output; a click on the header's sample
    counter shows the cell's next sample."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        rect: QRect = opt.rect.adjusted(PADDING + 1, PADDING, -PADDING - 1, -PADDING)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = opt.palette
        text_color = palette.color(QPalette.ColorRole.HighlightedText if selected
                                   else QPalette.ColorRole.Text)
        failed = bool(index.data(FAILED_ROLE))
        header = str(index.data(HEADER_ROLE) or "")
        body = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        font = QFont(opt.font)
        painter.save()
        painter.setClipRect(opt.rect)
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        if failed and not selected:
            painter.setPen(FAILED_COLOR)
        elif header == WAITING and not selected:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        else:
            painter.setPen(text_color)
        line = QFontMetrics(bold).lineSpacing()
        shown = QFontMetrics(bold).elidedText(header, Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), shown)
        painter.setFont(font)
        body_rect = QRect(rect.left(), rect.top() + line, rect.width(), rect.height() - line)
        painter.drawText(body_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
                                        | Qt.TextFlag.TextWordWrap), body)
        painter.restore()

    def sample_counter_rect(self, option: QStyleOptionViewItem, index: Index) -> QRect | None:
        """Where the header's ``sample i/n ▸`` is drawn (None when the cell has one sample)."""
        header = str(index.data(HEADER_ROLE) or "")
        if not header.startswith("sample ") or SAMPLE_ARROW not in header.split(" · ")[0]:
            return None
        bold = QFont(option.font)
        bold.setBold(True)
        metrics = QFontMetrics(bold)
        rect: QRect = option.rect
        width = metrics.horizontalAdvance(header.split(" · ")[0]) + 2 * PADDING
        return QRect(rect.left(), rect.top(), width + PADDING, metrics.lineSpacing() + PADDING)

    def editorEvent(self, event: QEvent, model: QAbstractItemModel,
                    option: QStyleOptionViewItem, index: Index) -> bool:
        if (event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent)
                and isinstance(model, OutputGridModel)
                and event.button() == Qt.MouseButton.LeftButton
                and not event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            counter = self.sample_counter_rect(option, index)
            if counter is not None and counter.contains(event.position().toPoint()):
                model.cycle_sample(index)
                return True
        return super().editorEvent(event, model, option, index)
