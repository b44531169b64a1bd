"""Which comparison the Evaluate tab shows: the recent ones in a list, listed again when the
history changes."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from ui.context import AppContext
from ui.views.evaluate.lifetime import live
from ui.views.evaluate.tasks import list_comparisons


class ComparisonChooser(QWidget):
    """A list of the recent comparisons; choosing one asks for it to be shown."""

    #: a comparison other than the shown one was chosen (its id)
    picked = Signal(int)
    #: the comparisons could not be listed (the message)
    failed = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        #: The comparison the tab shows, which the list marks.
        self.shown: int | None = None
        self._listing = False
        self._again = False
        self.picker = QComboBox()
        self.picker.setMinimumContentsLength(40)
        self.picker.setPlaceholderText("Choose a comparison")
        self.picker.activated.connect(self._picked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Comparison:"))
        layout.addWidget(self.picker, 1)

    @property
    def listing(self) -> bool:
        return self._listing

    def reload(self) -> None:
        """List the recent comparisons again (once more after the listing in progress, when
        the history changed while it ran)."""
        if self._listing:
            self._again = True
            return
        self._listing = True
        self.context.tasks.start(
            list_comparisons, self.context.db_path, on_event=live(self, self._listed),
            on_error=live(self, lambda m: self.failed.emit(f"Could not list comparisons: {m}")),
            on_done=live(self, self._done))

    def show_comparison(self, comparison_id: int, name: str) -> None:
        """Mark the comparison now shown, listing it first when the list does not hold it."""
        self.shown = comparison_id
        if self.picker.findData(comparison_id) < 0:
            self.picker.insertItem(0, f"#{comparison_id}  {name}", comparison_id)
        self._select_shown()

    def _done(self) -> None:
        self._listing = False
        if self._again:
            self._again = False
            self.reload()

    def _listed(self, entries: list[tuple[int, str]]) -> None:
        self.picker.blockSignals(True)
        self.picker.clear()
        for comparison_id, label in entries:
            self.picker.addItem(label, comparison_id)
        self.picker.blockSignals(False)
        self._select_shown()

    def _select_shown(self) -> None:
        index = self.picker.findData(self.shown) if self.shown is not None else -1
        self.picker.blockSignals(True)
        self.picker.setCurrentIndex(index)
        self.picker.blockSignals(False)

    def _picked(self, index: int) -> None:
        comparison_id = self.picker.itemData(index)
        if isinstance(comparison_id, int) and comparison_id != self.shown:
            self.picked.emit(comparison_id)
