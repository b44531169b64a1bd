"""A variant's output as the Outputs page shows it: its name, the sample picker, the streamed or
finished text taking the height, and its scores under it (the best ones starred).

The pane shows what it is handed; which run is best, and routing, belong to the panel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from playground.evaluation.report import LOW_CONFIDENCE, ReportRun
from playground.evaluation.stats import Estimate
from ui.views.compare.output_grid_model import json_problem
from ui.views.compare.score_grid import ScoreGrid
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.palette import ERROR_STYLE
from ui.widgets.references import confidence_flag


class OutputPane(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # The same share of the row for every pane, whatever its text (see VariantHeader).
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.setMinimumWidth(150)
        self._runs: dict[tuple[str, int], ReportRun] = {}
        self._streaming: tuple[str, int] | None = None
        self.confidence_threshold = LOW_CONFIDENCE

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 3, 4, 3)
        layout.setSpacing(2)
        row = QHBoxLayout()
        self.title_label = ElidedLabel()
        bold = QFont(self.title_label.font())
        bold.setBold(True)
        self.title_label.setFont(bold)
        row.addWidget(self.title_label, 1)
        self.sample_combo = QComboBox()
        self.sample_combo.setToolTip("Which output to show (samples, and rows of a dataset)")
        self.sample_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.sample_combo.setMinimumContentsLength(8)
        self.sample_combo.setVisible(False)
        self.sample_combo.currentIndexChanged.connect(self._show_selected)
        row.addWidget(self.sample_combo)
        layout.addLayout(row)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet("color: palette(mid);")
        self.status_label.setVisible(False)
        layout.addWidget(self.status_label)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("Output appears here")
        layout.addWidget(self.output, 1)
        self.scores = ScoreGrid()
        layout.addWidget(self.scores)

    def _set_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def set_title(self, name: str) -> None:
        self.title_label.set_full_text(name)

    # -- results ------------------------------------------------------------------------------

    def clear_results(self) -> None:
        self._runs.clear()
        self._streaming = None
        self.output.clear()
        self.error_label.clear()
        self.error_label.setVisible(False)
        self._set_status("")
        self.sample_combo.blockSignals(True)
        self.sample_combo.clear()
        self.sample_combo.blockSignals(False)
        self.sample_combo.setVisible(False)
        self.scores.show_scores({}, spread=False)
        self.scores.set_best(set())

    def show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(True)

    def stream(self, input_id: str, sample: int, text: str, label: str) -> None:
        """A streamed token of the run in flight; a new run starts a fresh output."""
        if self._streaming != (input_id, sample):
            self._streaming = (input_id, sample)
            self.output.clear()
            self._set_status(f"generating {label}…")
        cursor = self.output.textCursor()
        cursor.movePosition(cursor.MoveOperation.End)
        cursor.insertText(text)

    def add_result(self, run: ReportRun, label: str, *, select: bool = True) -> None:
        """A finished run: listed in the selector and, with ``select``, shown; a failed run
        shows its error in red."""
        key = (run.input_id, run.sample)
        new = key not in self._runs
        self._runs[key] = run
        self._streaming = None
        if new:
            self.sample_combo.addItem(label, key)  # the first item selects (and shows) itself
        self.sample_combo.setVisible(self.sample_combo.count() > 1)
        index = self.sample_combo.findData(key)
        if select and self.sample_combo.currentIndex() != index:
            self.sample_combo.setCurrentIndex(index)
        elif self.sample_combo.currentIndex() == index:
            self._show_selected()

    def set_confidence_threshold(self, threshold: float) -> None:
        self.confidence_threshold = threshold
        self._show_selected()

    def outputs(self) -> list[tuple[str, str]]:
        """(label, output) of every finished run, in selector order."""
        out = []
        for i in range(self.sample_combo.count()):
            run = self._runs.get(self.sample_combo.itemData(i))
            if run is not None:
                out.append((self.sample_combo.itemText(i), run.output))
        return out

    def current_output(self) -> str:
        run = self._runs.get(self.sample_combo.currentData())
        return run.output if run is not None else self.output.toPlainText()

    def _show_selected(self, *_: object) -> None:
        run = self._runs.get(self.sample_combo.currentData())
        if run is None:
            return
        self.output.setPlainText(run.output)
        failed = sum(r.status == "failed" for r in self._runs.values())
        if run.status == "ok":
            self.error_label.setVisible(False)
            tps = run.tokens_per_second
            speed = "" if not tps else f" · {tps:.{0 if tps >= 10 else 1}f} tok/s"
            flag = confidence_flag(run.scores.get("mean_logprob"), self.confidence_threshold)
            problem = json_problem(run)
            self._set_status(f"{self.sample_combo.currentText()}{speed}"
                             + (f" · {flag}" if flag else "")
                             + (f" · {problem}" if problem else ""))
        else:
            self.show_error(run.error or run.status)
            self._set_status(f"{self.sample_combo.currentText()}: {run.status}")
        if failed and run.status == "ok":
            self.show_error(f"{failed} of {len(self._runs)} runs failed")

    # -- scores -------------------------------------------------------------------------------

    def set_metrics(self, metrics: Sequence[str]) -> None:
        self.scores.set_metrics(metrics)

    def show_scores(self, estimates: Mapping[str, Estimate | None], *, spread: bool) -> None:
        self.scores.show_scores(estimates, spread=spread)
