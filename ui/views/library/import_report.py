"""The verdict on an imported file, item by item.

An import is all-or-nothing, so when one item is wrong the person needs to see which one and
why, next to everything that was fine; when it is accepted, what arrived. The dialog is not
modal: it can stay open beside the library while the file is fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from playground.prompts.collection import KIND_LABELS
from playground.prompts.formats import ItemReport

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Kind", "Name", "Status", "Message")
STATUS_COLUMN = 2
_ERROR_COLOUR = QColor(190, 30, 30)


def whole_file_row(filename: str, message: str) -> ItemReport:
    """The one row for a file refused before its items could be read (not UTF-8, a duplicate
    key, NaN...): the report would otherwise be empty and say nothing."""
    return ItemReport("library", filename, "error", message)


class ImportReportModel(QAbstractTableModel):
    """One row per item of the imported document: kind, name, ok/error and the message."""

    def __init__(self, rows: Sequence[ItemReport] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[ItemReport, ...] = tuple(rows)

    def set_rows(self, rows: Sequence[ItemReport]) -> None:
        self.beginResetModel()
        self._rows = tuple(rows)
        self.endResetModel()

    def rows(self) -> tuple[ItemReport, ...]:
        return self._rows

    def error_count(self) -> int:
        return sum(1 for r in self._rows if r.status == "error")

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if column == 0:
                return KIND_LABELS.get(row.kind, row.kind).capitalize()
            if column == 1:
                return row.name
            if column == STATUS_COLUMN:
                return "OK" if row.status == "ok" else "Error"
            if column == 3:
                return row.message
        if role == Qt.ItemDataRole.ForegroundRole and row.status == "error":
            return QBrush(_ERROR_COLOUR)
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section] if 0 <= section < len(COLUMNS) else None
        return section + 1


class ImportReportDialog(QDialog):
    """The summary sentence above the table of items, with a filter for the refused ones and a
    button to copy the whole report as text (to paste into an issue or next to the file)."""

    def __init__(
        self,
        title: str,
        summary: str,
        rows: Sequence[ItemReport],
        *,
        accepted: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.accepted_import = accepted
        self.model = ImportReportModel(rows, self)
        self.summary = QLabel(summary)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if not accepted:
            self.summary.setStyleSheet(f"color: {_ERROR_COLOUR.name()};")

        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(STATUS_COLUMN)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # keep the file's order
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

        errors = self.model.error_count()
        self.only_errors = QCheckBox(f"Show only the items with errors ({errors})")
        self.only_errors.setEnabled(errors > 0)
        self.only_errors.toggled.connect(self._filter)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("Copy Report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self._copy)
        buttons.rejected.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.only_errors)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(860, 460)

    def _filter(self, only_errors: bool) -> None:
        self.proxy.setFilterFixedString("Error" if only_errors else "")

    def as_text(self) -> str:
        lines = [self.summary.text(), ""]
        for row in self.model.rows():
            label = KIND_LABELS.get(row.kind, row.kind)
            detail = f": {row.message}" if row.message else ""
            lines.append(f"[{row.status}] {label} {row.name}{detail}")
        return "\n".join(lines) + "\n"

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.as_text())
