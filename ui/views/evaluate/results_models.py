"""The tables of the Results tab: the Bradley–Terry ranking and the Likert means."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from playground.evaluation import preferences as prefs
from playground.evaluation.report import HumanEvaluation
from playground.evaluation.stats import Estimate

Index = QModelIndex | QPersistentModelIndex
_NO_INDEX = QModelIndex()


def _interval(low: float, high: float, digits: int) -> str:
    return f"[{low:.{digits}f}, {high:.{digits}f}]"


class RankingModel(QAbstractTableModel):
    """The Bradley–Terry ranking, best first: strength with its bootstrap interval and record."""

    HEADERS = ("Rank", "Variant", "Strength", "95% interval", "Wins", "Losses", "Ties")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ratings: list[prefs.Rating] = []

    def set_ranking(self, ratings: Sequence[prefs.Rating]) -> None:
        self.beginResetModel()
        self._ratings = list(ratings)
        self.endResetModel()

    def rating(self, row: int) -> prefs.Rating:
        return self._ratings[row]

    def rowCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._ratings)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ratings):
            return None
        r, column = self._ratings[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = (str(index.row() + 1), r.variant, f"{r.strength:.2f}",
                      _interval(r.low, r.high, 2), str(r.wins), str(r.losses), str(r.ties))
            return values[column] if 0 <= column < len(values) else None
        if role == Qt.ItemDataRole.ToolTipRole and column in (2, 3):
            return ("Strengths have a geometric mean of 1; A beats B with probability "
                    "A / (A + B). The interval is a bootstrap over judgements.")
        if role == Qt.ItemDataRole.TextAlignmentRole and column != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class LikertModel(QAbstractTableModel):
    """Mean rating per variant and criterion with its interval (inputs are the unit)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._variants: list[str] = []
        self._criteria: list[str] = []
        self._human: HumanEvaluation | None = None

    def set_results(self, variants: Sequence[str], criteria: Sequence[str],
                    human: HumanEvaluation | None) -> None:
        self.beginResetModel()
        self._variants, self._criteria, self._human = list(variants), list(criteria), human
        self.endResetModel()

    def estimate(self, variant: str, criterion: str) -> Estimate | None:
        if self._human is None:
            return None
        return self._human.likert.get(variant, {}).get(criterion)

    def rowCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._variants)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else 2 + len(self._criteria)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        headers = ["Variant", "Rated outputs", *self._criteria]
        return headers[section] if 0 <= section < len(headers) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._variants):
            return None
        variant, column = self._variants[index.row()], index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == 0:
            return variant
        if column == 1:
            return str(self._human.rated_runs.get(variant, 0) if self._human else 0)
        if not 2 <= column < 2 + len(self._criteria):
            return None
        estimate = self.estimate(variant, self._criteria[column - 2])
        if estimate is None:
            return "—"
        return f"{estimate.mean:.2f} {_interval(estimate.low, estimate.high, 2)}"
