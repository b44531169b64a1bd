"""The History tab's search field and filters: what the table is asked to show."""

from __future__ import annotations

from PySide6.QtCore import QSettings, QSignalBlocker, Signal
from PySide6.QtWidgets import QButtonGroup, QComboBox, QHBoxLayout, QLineEdit, QPushButton, QWidget

from playground.runs.browsing import HistoryQuery, Kind
from playground.storage.store import COMPARISON_STATUSES

#: The two lists History switches between, each numbered on its own (#1…, Run 1…).
_KIND_LABELS: dict[Kind, str] = {"comparison": "Comparisons", "run": "Playground runs"}
_KIND_TIPS: dict[Kind, str] = {
    "comparison": "Comparisons made in Compare or with `playground compare`: #1, #2…",
    "run": "Runs made in the Playground: Run 1, Run 2…",
}
_KIND_KEY = "history/kind"


class HistoryFilterBar(QWidget):
    """Which list (comparisons or Playground runs), a search over prompts and outputs, then the
    status and a model or template name to filter by."""

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
        self.kind_buttons: dict[Kind, QPushButton] = {}
        self._kind_group = QButtonGroup(self)
        self._kind_group.setExclusive(True)
        for kind, label in _KIND_LABELS.items():
            button = QPushButton(label)
            button.setCheckable(True)
            button.setToolTip(_KIND_TIPS[kind])
            self._kind_group.addButton(button)
            self.kind_buttons[kind] = button
        self.kind_buttons["comparison"].setChecked(True)
        self._kind_group.buttonToggled.connect(
            lambda _button, checked: self.edited.emit() if checked else None)
        self.status_combo = QComboBox()
        self.status_combo.addItem("Any status", "")
        for status in COMPARISON_STATUSES:
            self.status_combo.addItem(status.capitalize(), status)
        self.contains_edit = QLineEdit()
        self.contains_edit.setPlaceholderText("Model or template contains…")
        self.contains_edit.setClearButtonEnabled(True)
        for edit in (self.search_edit, self.contains_edit):
            edit.textChanged.connect(self.edited)
        self.status_combo.currentIndexChanged.connect(self.edited)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        switch = QHBoxLayout()
        switch.setSpacing(0)  # one control of two halves
        for button in self.kind_buttons.values():
            switch.addWidget(button)
        layout.addLayout(switch)
        layout.addWidget(self.search_edit, 3)
        layout.addWidget(self.status_combo)
        layout.addWidget(self.contains_edit, 2)

    @property
    def searching(self) -> bool:
        """Whether the table lists search matches rather than comparisons."""
        return bool(self.search_edit.text().strip())

    @property
    def kind(self) -> Kind:
        """The list shown: comparisons, or Playground runs."""
        return "run" if self.kind_buttons["run"].isChecked() else "comparison"

    def query(self, want: int) -> HistoryQuery:
        """The filters as a query for the first ``want`` rows."""
        return HistoryQuery(
            text=self.search_edit.text().strip(),
            kind=self.kind,
            status=str(self.status_combo.currentData() or ""),
            contains=self.contains_edit.text().strip(),
            want=want,
        )

    def restore(self, settings: QSettings) -> None:
        """The list last shown; "all" (both in one list, as before) opens on comparisons."""
        kind: Kind = "run" if settings.value(_KIND_KEY, "comparison") == "run" else "comparison"
        # Quietly: the first load, right after, reads the restored list.
        with QSignalBlocker(self._kind_group):
            self.kind_buttons[kind].setChecked(True)

    def save(self, settings: QSettings) -> None:
        settings.setValue(_KIND_KEY, self.kind)
