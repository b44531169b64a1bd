"""The History tab's table of comparisons (or search matches) with what can be done to the
selected ones: open, export, delete, and load a further page."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from playground.runs.browsing import HistoryItem, HistoryPage
from playground.wording import plural
from ui.widgets.item_models import HistoryTableModel, RunTableModel


def history_table(
    model: HistoryTableModel | RunTableModel, widths: tuple[int, ...]
) -> QTableView:
    """A read-only table of whole rows, one line each, its columns this wide to start with."""
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    return table


class ComparisonsPanel(QWidget):
    """The history's rows, newest first, and the buttons (and keys) that act on a selection."""

    #: the current row changed (its HistoryItem, or None)
    current_changed = Signal(object)
    #: Open, Enter or a double-click
    open_requested = Signal()
    #: Delete… or the Delete key
    delete_requested = Signal()
    #: Export…
    export_requested = Signal()
    #: Load more
    more_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = HistoryTableModel(self)
        self.table = history_table(self.model, (100, 230, 120, 80, 75, 170, 150, 110))
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.doubleClicked.connect(lambda _: self.open_requested.emit())
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        self.count_label = QLabel()
        self.more_button = QPushButton("Load more")
        self.more_button.clicked.connect(self.more_requested)
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("A run opens in the Playground, a comparison in Compare")
        self.open_button.clicked.connect(self.open_requested)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_requested)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip(
            "Write a report of each selected comparison (CSV, JSONL, Markdown or HTML)"
        )
        self.export_button.clicked.connect(self.export_requested)
        actions = QHBoxLayout()
        actions.addWidget(self.count_label)
        actions.addWidget(self.more_button)
        actions.addStretch(1)
        for button in (self.open_button, self.export_button, self.delete_button):
            actions.addWidget(button)

        open_action = QAction("Open", self.table)
        open_action.setShortcuts([QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
        open_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        open_action.triggered.connect(self.open_requested)
        delete_action = QAction("Delete", self.table)
        delete_action.setShortcut(QKeySequence.StandardKey.Delete)
        delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete_action.triggered.connect(self.delete_requested)
        self.table.addActions([open_action, delete_action])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(actions)
        self._update_buttons()

    # -- content ----------------------------------------------------------------------------

    def show_page(self, page: HistoryPage, *, searching: bool, kind: str = "comparison") -> None:
        """Fill the table, counted as search matches, comparisons or Playground runs, and offer
        a further page."""
        self.model.set_items(page.items)
        self.more_button.setVisible(page.more)
        self.more_button.setEnabled(page.more)
        noun = "matching run" if searching else "Playground run" if kind == "run" else "comparison"
        other = "comparisons" if kind == "run" else "Playground runs"
        elsewhere = (f" · {plural(page.elsewhere, 'more match', 'more matches')} in {other}"
                     if searching and page.elsewhere else "")
        self.count_label.setText(
            plural(len(page.items), noun) + (" (more available)" if page.more else "")
            + elsewhere
        )
        self._update_buttons()

    def reselect(self, comparison_id: int, run_id: int | None) -> None:
        """Select the row of this comparison (and run) again after the table was refilled."""
        rows = [
            n for n, item in enumerate(self.model.items)
            if item.comparison.id == comparison_id
            and (run_id is None or item.run is None or item.run.id == run_id)
        ]
        if rows:
            self.select_row(rows[0])

    def select_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )

    # -- selection --------------------------------------------------------------------------

    def current_item(self) -> HistoryItem | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.item(index.row())

    def selected_items(self) -> list[HistoryItem]:
        """The selected rows, or the current one when nothing is selected."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        items = [self.model.item(r) for r in rows if r < self.model.rowCount()]
        if not items:
            current = self.current_item()
            items = [current] if current is not None else []
        return items

    def selected_comparison_ids(self) -> list[int]:
        return list(dict.fromkeys(item.comparison.id for item in self.selected_items()))

    def _update_buttons(self) -> None:
        has = bool(self.selected_items())
        for button in (self.open_button, self.delete_button, self.export_button):
            button.setEnabled(has)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_buttons()
        self.current_changed.emit(self.model.item(current.row()) if current.isValid() else None)
