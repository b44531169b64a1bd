"""The Compare tab's score table: one row per variant of the current report, in few labelled
columns so it fits a laptop screen; the details are in tooltips."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from playground.evaluation.report import LOWER_IS_BETTER, ComparisonReport
from playground.evaluation.scales import (
    PERCENT_SCALE,
    SCALE_NOTE,
    column_label,
    format_interval,
    format_value,
    metric_label,
)
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import STAR, TIE, p_against_best, p_against_best_tip

Index = QModelIndex | QPersistentModelIndex
_NO_INDEX = QModelIndex()

#: Column headers that are not a metric's mean.
VARIANT = "variant"
RUNS = "runs"
INTERVAL = "95 % interval"
P_VS_BEST = "p vs best (paired, Holm)"


def wrapped(header: str) -> str:
    """A header on two lines, its parenthesis under the name, so columns stay narrow."""
    name, sep, rest = header.partition(" (")
    return f"{name}\n({rest}" if sep else header


class ScoreTableModel(QAbstractTableModel):
    """One row per variant: its runs, the primary metric's mean (the best in bold with ★,
    "tie" when several share it), that mean's 95 % interval, the Holm-adjusted paired p against
    the best variant (the first of tied ones), then every other metric's mean. Headers carry
    what a number is and its scale (every metric on 0–1, BLEU and chrF divided by 100); a
    cell's tooltip has its interval and what its number means."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._report: ComparisonReport | None = None
        self._estimates: Mapping[str, Mapping[str, Estimate | None]] = {}
        #: (header, metric or None) per column.
        self._columns: list[tuple[str, str | None]] = []
        self._over = "inputs"

    def set_report(self, report: ComparisonReport | None,
                   estimates: Mapping[str, Mapping[str, Estimate | None]] | None = None) -> None:
        """``estimates`` (variant -> metric -> estimate) replace the report's intervals, as for
        one input, whose interval is over its samples."""
        self.beginResetModel()
        self._report = report
        self._estimates = estimates or {}
        self._columns = self._layout(report)
        self._over = "samples of the one input" if report is not None and len(
            {r.input_id for r in report.runs}) == 1 else "inputs"
        self.endResetModel()

    @staticmethod
    def _layout(report: ComparisonReport | None) -> list[tuple[str, str | None]]:
        if report is None:
            return []
        columns: list[tuple[str, str | None]] = [(VARIANT, None), (RUNS, None)]
        primary = report.primary if report.primary in report.table_metrics else None
        if primary is not None:
            columns += [(column_label(primary), primary), (INTERVAL, None)]
            if len(report.variants) > 1:
                columns.append((P_VS_BEST, None))
        columns += [(column_label(m), m) for m in report.table_metrics if m != primary]
        return columns

    @property
    def report(self) -> ComparisonReport | None:
        return self._report

    def headers(self) -> list[str]:
        """The columns' labels on one line each."""
        return [header for header, _ in self._columns]

    def metric_at(self, column: int) -> str | None:
        """The stored metric whose means a column holds; None for the other columns."""
        return self._columns[column][1] if 0 <= column < len(self._columns) else None

    def rowCount(self, parent: Index = _NO_INDEX) -> int:
        if parent.isValid() or self._report is None:
            return 0
        return len(self._report.variants)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:
        if parent.isValid() or self._report is None:
            return 0
        return len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None
        if not 0 <= section < len(self._columns):
            return None
        header, metric = self._columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return wrapped(header)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._header_tip(header, metric)
        return None

    def _header_tip(self, header: str, metric: str | None) -> str:
        if metric is not None:
            direction = "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
            scale = f" {SCALE_NOTE}" if metric in PERCENT_SCALE else ""
            return (f"{metric_label(metric)}: the mean over the {self._over} ({direction}); "
                    f"the cell's tooltip has its 95 % interval.{scale}")
        if header == INTERVAL:
            primary = self._report.primary if self._report else None
            return (f"95 % confidence interval of the mean {metric_label(primary or '')}, "
                    f"bootstrapped over the {self._over}.")
        if header == P_VS_BEST:
            return ("How likely a difference this large would be if the variant were as good as "
                    "the best one: a paired test over the inputs both share, Holm-adjusted for "
                    "the number of pairs. Below 0.05: significantly different.")
        if header == RUNS:
            return "Runs of the variant, and how many of them failed."
        return ""

    def data(self, index: Index,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._report is None:
            return None
        if not 0 <= index.row() < len(self._report.variants):
            return None
        if not 0 <= index.column() < len(self._columns):
            return None
        name = self._report.variants[index.row()].name
        header, metric = self._columns[index.column()]
        mark = self._report.marked(metric, name) if metric is not None else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(name, header, metric, mark)
        if role == Qt.ItemDataRole.FontRole and mark is not None:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(name, header, metric, mark)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, name: str, header: str, metric: str | None, mark: str | None) -> str:
        assert self._report is not None
        summary = next(v for v in self._report.variants if v.name == name)
        if header == VARIANT:
            return name
        if header == RUNS:
            return str(summary.runs) + (f" · {summary.failed} failed" if summary.failed else "")
        if header == INTERVAL:
            primary = self._report.primary
            return "" if primary is None else format_interval(primary, self.estimate(name, primary))
        if header == P_VS_BEST:
            return p_against_best(self._report, name)
        assert metric is not None
        estimate = self.estimate(name, metric)
        text = "N/A" if estimate is None or estimate.n == 0 else format_value(metric, estimate.mean)
        if mark is None:
            return text
        return f"{STAR} {text}" + (TIE if mark == "tie" else "")

    def _tip(self, name: str, header: str, metric: str | None, mark: str | None) -> str | None:
        assert self._report is not None
        if header == P_VS_BEST:
            return p_against_best_tip(self._report, name) or None
        if metric is None:
            return None
        estimate = self.estimate(name, metric)
        lines = []
        if mark == "tie":
            lines.append(f"best {metric_label(metric)}, a tie: another variant has the same mean "
                         "at the digits shown")
        elif mark is not None:
            lines.append(f"best {metric_label(metric)}")
        if estimate is not None and estimate.n:
            lines.append(f"{metric_label(metric)}: mean {format_value(metric, estimate.mean)}, "
                         f"95 % interval {format_interval(metric, estimate)} over "
                         f"{estimate.n} {'samples' if self._over != 'inputs' else 'inputs'}")
        return "\n".join(lines) or None

    def estimate(self, name: str, metric: str) -> Estimate | None:
        if name in self._estimates:
            return self._estimates[name].get(metric)
        assert self._report is not None
        summary = next(v for v in self._report.variants if v.name == name)
        return summary.metrics.get(metric)
