"""Where the Compare tab shows what a comparison gives: a one-line status (progress, then the
winner sentence and a way to the summary) above two tabs, **Outputs** first and **Summary**
one click away.

Outputs is a stack of pages: the variants' output panes side by side for a shared input, the
inputs × variants grid for a dataset. Summary is the summary panel as it is (winner sentence,
score table, charts). A new run gets a fresh summary panel, so nothing of the previous
comparison stays on screen while the next one runs; its progress bar is shown in the status
line, where it is seen from either tab.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.views.compare.summary_panel import SummaryPanel
from ui.widgets.elided_label import ElidedLabel

OUTPUTS_TAB, SUMMARY_TAB = 0, 1


class ResultsArea(QWidget):
    def __init__(self, outputs_row: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.status_row = QHBoxLayout()
        self.winner_line = ElidedLabel()
        self.summary_button = QPushButton("Summary ›")
        self.summary_button.setToolTip("The score table, the chart and the sweep")
        self.summary_button.clicked.connect(self.show_summary)
        self.summary_button.setVisible(False)
        layout.addLayout(self.status_row)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.outputs_stack = QStackedWidget()
        self.outputs_stack.addWidget(outputs_row)
        self._shared_page = outputs_row
        self._dataset_page: QWidget | None = None
        self.tabs.addTab(self.outputs_stack, "Outputs")
        self.summary = SummaryPanel()
        self.tabs.addTab(self.summary, "Summary")
        layout.addWidget(self.tabs, 1)
        self._place_progress()

    def _place_progress(self) -> None:
        """The summary panel's progress bar and its words, moved into the status line."""
        row = self.status_row
        while row.count():
            row.takeAt(0)
        self.summary.progress.setMaximumWidth(220)
        row.addWidget(self.summary.progress)
        row.addWidget(self.summary.eta_label)
        row.addWidget(self.winner_line, 1)
        row.addWidget(self.summary_button, 0, Qt.AlignmentFlag.AlignRight)

    # -- the summary --------------------------------------------------------------------------

    def fresh_summary(self) -> SummaryPanel:
        """An empty summary panel in place of the last one (a new run is starting)."""
        old = self.summary
        self.summary = SummaryPanel()
        current = self.tabs.currentIndex()
        self.tabs.removeTab(SUMMARY_TAB)
        self.tabs.insertTab(SUMMARY_TAB, self.summary, "Summary")
        self.tabs.setCurrentIndex(current)
        self._place_progress()
        for widget in (old.progress, old.eta_label, old):
            widget.setParent(None)
            widget.deleteLater()
        self.show_winner()
        return self.summary

    def show_winner(self) -> None:
        """The first line of the summary's winner sentence above the outputs (nothing when
        there is no report)."""
        text = self.summary.winner_label.text().strip().split("\n")[0] if (
            self.summary.report is not None) else ""
        self.winner_line.set_full_text(text)
        self.summary_button.setVisible(bool(text))

    def show_summary(self) -> None:
        self.tabs.setCurrentIndex(SUMMARY_TAB)

    def show_outputs(self) -> None:
        self.tabs.setCurrentIndex(OUTPUTS_TAB)

    # -- the outputs --------------------------------------------------------------------------

    def set_dataset_page(self, page: QWidget) -> None:
        """The page a dataset comparison's outputs are shown on (the inputs × variants grid)."""
        self._dataset_page = page
        self.outputs_stack.addWidget(page)

    def show_dataset(self, dataset: bool) -> None:
        page = self._dataset_page if dataset and self._dataset_page is not None \
            else self._shared_page
        self.outputs_stack.setCurrentWidget(page)
