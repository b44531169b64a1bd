"""The History tab's search field and filters: what the table is asked to show."""

from __future__ import annotations

from PySide6.QtCore import QSettings, QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QWidget

from playground.runs.browsing import KINDS, HistoryQuery, Kind
from playground.storage.store import COMPARISON_STATUSES

_KIND_LABELS = {"all": "Runs and comparisons", "run": "Runs", "comparison": "Comparisons"}
_KIND_KEY = "history/kind"


class HistoryFilterBar(QWidget):
    """A search over prompts and outputs, then the kind, the status and a model or template
    name to filter by."""

    #: a field or a filter changed (the table reads again once typing pauses)
    edited = Signal()
    #: Enter in the search field: read now, without waiting for the pause
    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search prompts and outputs…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.returnPressed.connect(self.submitted)
        self.kind_combo = QComboBox()
        for kind in KINDS:
            self.kind_combo.addItem(_KIND_LABELS[kind], kind)
        self.status_combo = QComboBox()
        self.status_combo.addItem("Any status", "")
        for status in COMPARISON_STATUSES:
            self.status_combo.addItem(status.capitalize(), status)
        self.contains_edit = QLineEdit()
        self.contains_edit.setPlaceholderText("Model or template contains…")
        self.contains_edit.setClearButtonEnabled(True)
        for edit in (self.search_edit, self.contains_edit):
            edit.textChanged.connect(self.edited)
        for combo in (self.kind_combo, self.status_combo):
            combo.currentIndexChanged.connect(self.edited)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search_edit, 3)
        layout.addWidget(self.kind_combo)
        layout.addWidget(self.status_combo)
        layout.addWidget(self.contains_edit, 2)

    @property
    def searching(self) -> bool:
        """Whether the table lists search matches rather than comparisons."""
        return bool(self.search_edit.text().strip())

    def query(self, want: int) -> HistoryQuery:
        """The filters as a query for the first ``want`` rows."""
        chosen = self.kind_combo.currentData()
        kind: Kind = next((k for k in KINDS if k == chosen), "all")
        return HistoryQuery(
            text=self.search_edit.text().strip(),
            kind=kind,
            status=str(self.status_combo.currentData() or ""),
            contains=self.contains_edit.text().strip(),
            want=want,
        )

    def restore(self, settings: QSettings) -> None:
        kind = self.kind_combo.findData(settings.value(_KIND_KEY, "all"))
        if kind >= 0:
            # Quietly: the first load, right after, reads the restored filter.
            with QSignalBlocker(self.kind_combo):
                self.kind_combo.setCurrentIndex(kind)

    def save(self, settings: QSettings) -> None:
        settings.setValue(_KIND_KEY, self.kind_combo.currentData())
