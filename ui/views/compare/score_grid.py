"""A column's scores in a compact grid (two per row) above its output, the best ones starred;
every metric named for a reader and shown on 0–1 (BLEU and chrF divided by 100)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from playground.evaluation.report import LOWER_IS_BETTER
from playground.evaluation.scales import format_interval, format_value, metric_label, unit
from playground.evaluation.stats import Estimate
from playground.evaluation.summary import BASE_METRICS, SCORE_NAMES, STAR, TIE, format_estimate


class ScoreGrid(QWidget):
    """One label per shown metric; which are best is decided by the view, across columns."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 2, 0, 2)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(1)
        self.labels: dict[str, QLabel] = {}
        self._best: set[str] = set()
        self._tied: set[str] = set()
        self.set_metrics(BASE_METRICS)

    def set_metrics(self, metrics: Sequence[str]) -> None:
        """The metrics to show (the same in every column, so they line up)."""
        if list(metrics) == list(self.labels):
            return
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.labels = {}
        for n, metric in enumerate(metrics):
            caption = QLabel(metric_label(metric))
            caption.setStyleSheet("color: palette(mid);")
            caption.setToolTip(f"{metric_label(metric)}, mean on {unit(metric)}")
            label = QLabel("–")
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.labels[metric] = label
            self.grid.addWidget(caption, n // 2, (n % 2) * 2)
            self.grid.addWidget(label, n // 2, (n % 2) * 2 + 1)
        self._best = set()
        self._tied = set()

    def show_scores(self, estimates: Mapping[str, Estimate | None], *, spread: bool) -> None:
        for metric, label in self.labels.items():
            estimate = estimates.get(metric)
            label.setText(format_estimate(metric, estimate, spread=spread)
                          if metric in estimates else "–")
            tip = ""
            if estimate is not None and estimate.n:
                name = SCORE_NAMES.get(metric, metric)
                tip = (f"{metric_label(metric)}: mean {format_value(name, estimate.mean)}, "
                       f"95 % interval {format_interval(name, estimate)}, n = {estimate.n}")
            label.setProperty("plainTip", tip)
            label.setToolTip(tip)
        self._restyle()

    def set_best(self, metrics: set[str] | frozenset[str],
                 tied: set[str] | frozenset[str] | None = None) -> None:
        """Star the metrics this column is best on; ``tied`` are those it shares the best
        mean of with another column (they say "tie")."""
        self._best = set(metrics) & set(self.labels)
        self._tied = set(tied or ()) & self._best
        self._restyle()

    def is_best(self, metric: str) -> bool:
        return metric in self._best

    def is_tied(self, metric: str) -> bool:
        return metric in self._tied

    def _restyle(self) -> None:
        for metric, label in self.labels.items():
            text = label.text().removeprefix(f"{STAR} ").removesuffix(TIE)
            font = QFont(label.font())
            best = metric in self._best
            tied = metric in self._tied
            font.setBold(best)
            label.setFont(font)
            label.setText(f"{STAR} {text}{TIE if tied else ''}" if best else text)
            tip = str(label.property("plainTip") or "")
            direction = " (lower is better)" if SCORE_NAMES.get(metric) in LOWER_IS_BETTER else ""
            tie = (", a tie: another column has the same mean at the digits shown"
                   if tied else "")
            label.setToolTip(f"best {metric_label(metric)}{direction}{tie}\n{tip}".strip()
                             if best else tip)
