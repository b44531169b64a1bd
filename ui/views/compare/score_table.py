"""The Compare tab's score table: one row per variant of the current report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from playground.evaluation.report import ComparisonReport, mean_digits
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import STAR, TIE, p_against_best

Index = QModelIndex | QPersistentModelIndex
_NO_INDEX = QModelIndex()


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
        self._over = "inputs"

    def set_report(self, report: ComparisonReport | None,
                   estimates: Mapping[str, Mapping[str, Estimate | None]] | None = None) -> None:
        """``estimates`` (variant -> metric -> estimate) replace the report's intervals, as for
        one input, whose interval is over its samples."""
        self.beginResetModel()
        self._report = report
        self._estimates = estimates or {}
        self._metrics = report.table_metrics if report is not None else ()
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
        return p_against_best(self._report, name)

    def estimate(self, name: str, metric: str) -> Estimate | None:
        if name in self._estimates:
            return self._estimates[name].get(metric)
        assert self._report is not None
        summary = next(v for v in self._report.variants if v.name == name)
        return summary.metrics.get(metric)
