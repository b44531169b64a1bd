"""The judges of the comparison selected in History: one line each (model, criteria, when, what
it found), with Re-run and Delete for the chosen one and "Judge…" for a new one.

A judge's runs are a comparison of their own that History does not list (migration m008); here
they are shown under the comparison they judged. The dialog is Compare's, opened on the
selected comparison without going through Compare.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from playground.engine.models import ModelChoices
from playground.runs.judge_history import JudgeSummary
from playground.runs.judge_runner import JudgeTally
from playground.runs.runner import CancelToken, ComparisonFinished, Progress
from playground.wording import plural
from ui.context import AppContext
from ui.services.model_list import added_model_paths, model_choices_task, switched_off_sources
from ui.services.tasks import Worker
from ui.views.compare.judge_dialog import JudgeDialog, show_judge_dialog
from ui.views.history.judge_tasks import delete_judge_task, load_judges, rerun_task
from ui.widgets.heading import heading

#: Lines of judges shown before the list scrolls.
VISIBLE_JUDGES = 3


class JudgesPanel(QWidget):
    """The selected comparison's judges and what can be done with them."""

    #: the judges of a comparison were listed (its id)
    loaded = Signal(int)
    #: a judge ran, ran again or was deleted: the comparison's scores changed (its id)
    changed = Signal(int)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        #: Asked before deleting; returns whether to go ahead. Replaceable (scripts, tests).
        self.confirm: Callable[[str], bool] = self._ask
        self.models: list[tuple[str, str]] = []
        self.dialog: JudgeDialog | None = None
        self.judges: list[JudgeSummary] = []
        self._target: tuple[int, str] | None = None
        self._generation = 0
        self._worker: Worker | None = None
        self._cancel: CancelToken | None = None
        self._tally = JudgeTally()
        #: what the last re-run or deletion came to, shown beside the count of judges
        self._note = ""

        self.title_label = heading("Judges")
        self.status_label = QLabel()
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.judge_button = QPushButton("Judge…")
        self.judge_button.setToolTip("Score this comparison's outputs with a judge model")
        self.judge_button.clicked.connect(self.open_dialog)
        self.rerun_button = QPushButton("Re-run")
        self.rerun_button.setToolTip("Run the chosen judge again with its stored settings; "
                                     "its new scores replace the earlier ones")
        self.rerun_button.clicked.connect(self.rerun_selected)
        self.delete_button = QPushButton("Delete judge…")
        self.delete_button.clicked.connect(self.delete_selected)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.hide()
        self.judges_list = QListWidget()
        self.judges_list.setAlternatingRowColors(True)
        self.judges_list.currentRowChanged.connect(lambda _: self._update_buttons())
        rows = self.judges_list.fontMetrics().height() + 8
        self.judges_list.setMaximumHeight(rows * VISIBLE_JUDGES + 6)
        self.judges_list.hide()

        header = QHBoxLayout()
        header.addWidget(self.title_label)
        header.addWidget(self.status_label, 1)
        for button in (self.stop_button, self.rerun_button, self.delete_button,
                       self.judge_button):
            header.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.judges_list)
        self.show_comparison(None, "")

    @property
    def running(self) -> bool:
        return self._worker is not None

    # -- content ----------------------------------------------------------------------------

    def show_comparison(self, comparison_id: int | None, label: str) -> None:
        """List the judges of this comparison (none: nothing selected)."""
        self._generation += 1
        if comparison_id is None:
            self._target = None
            self._note = ""
            self._show([])
            return
        changed = self._target is None or self._target[0] != comparison_id
        self._target = (comparison_id, label)
        if changed:
            self._note = ""
            self._show([])
        generation = self._generation

        def event(result: tuple[int, list[JudgeSummary]]) -> None:
            if generation == self._generation:
                self._show(result[1])
                self.loaded.emit(result[0])

        def error(message: str) -> None:
            if generation == self._generation:
                self.status_label.setText(f"Could not read the judges: {message}")

        self.context.tasks.start(load_judges, self.context.db_path, comparison_id,
                                 on_event=event, on_error=error)

    def _show(self, judges: list[JudgeSummary]) -> None:
        chosen = self.selected_judge()
        self.judges = judges
        self.judges_list.clear()
        for judge in judges:
            item = QListWidgetItem(judge.describe())
            item.setData(Qt.ItemDataRole.UserRole, judge.id)
            item.setToolTip(judge.describe())
            self.judges_list.addItem(item)
        keep = next((n for n, j in enumerate(judges) if chosen and j.id == chosen.id), 0)
        if judges:
            self.judges_list.setCurrentRow(keep)
        self.judges_list.setVisible(bool(judges))
        if not self.running:
            self.status_label.setText(" · ".join(t for t in (self._summary(), self._note) if t))
        self._update_buttons()

    def _summary(self) -> str:
        if self._target is None:
            return ""
        if not self.judges:
            return "not judged yet"
        return plural(len(self.judges), "judge")

    def selected_judge(self) -> JudgeSummary | None:
        row = self.judges_list.currentRow()
        return self.judges[row] if 0 <= row < len(self.judges) else None

    def _update_buttons(self) -> None:
        has_judge = self.selected_judge() is not None
        self.judge_button.setEnabled(self._target is not None)
        self.rerun_button.setEnabled(has_judge and not self.running)
        self.delete_button.setEnabled(has_judge and not self.running)
        self.stop_button.setVisible(self.running)

    def showEvent(self, event: QShowEvent) -> None:
        """The models the dialog offers, listed again each time: files may have been added."""
        super().showEvent(event)
        settings = self.context.settings

        def found(listing: ModelChoices) -> None:
            self.models = [(m.name, m.key) for m in listing.usable()]

        self.context.tasks.start(model_choices_task, added_model_paths(settings),
                                 switched_off_sources(settings), on_event=found,
                                 on_error=lambda message: None)

    # -- a new judge ------------------------------------------------------------------------

    def open_dialog(self) -> JudgeDialog | None:
        """Compare's Judge dialog on the selected comparison."""
        if self._target is None:
            return None
        self.dialog = show_judge_dialog(self.dialog, self.context, self._target, self.models,
                                        self.window(), self._judged)
        return self.dialog

    def _judged(self, comparison_id: int) -> None:
        self.changed.emit(comparison_id)
        if self._target is not None and self._target[0] == comparison_id:
            self.show_comparison(*self._target)

    # -- re-run -----------------------------------------------------------------------------

    def rerun_selected(self) -> None:
        judge = self.selected_judge()
        if judge is None or self.running or self._target is None:
            return
        comparison_id = self._target[0]
        self._cancel = CancelToken()
        self._tally = JudgeTally()
        self.status_label.setText("Re-running the judge: waiting for the model…")

        def event(value: object) -> None:
            self._tally.add(value)
            if isinstance(value, Progress):
                self.status_label.setText(f"Re-running the judge: {value.done + value.skipped}"
                                          f" of {plural(value.total, 'judge run')}")
            elif isinstance(value, ComparisonFinished):
                words = {"done": "Re-run done", "cancelled": "Re-run stopped"}.get(
                    value.status, value.status)
                counts = self._tally.describe()
                self._note = (f"{words}: {plural(value.done, 'judge run')}"
                              + (f" ({counts})" if counts else ""))

        def error(message: str) -> None:
            self._note = f"The judge could not run again: {message}"

        def done() -> None:
            self._worker = self._cancel = None
            self.status_label.setText(self._note)
            self._update_buttons()
            self._judged(comparison_id)

        self._note = ""
        self._worker = self.context.tasks.start(rerun_task, self.context, judge.id, self._cancel,
                                                on_event=event, on_error=error, on_done=done)
        self._update_buttons()

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
            self.status_label.setText("Stopping…")

    # -- delete -----------------------------------------------------------------------------

    def _ask(self, text: str) -> bool:
        answer = QMessageBox.question(
            self, "Delete judge", text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    def delete_selected(self) -> None:
        judge = self.selected_judge()
        if judge is None or self.running:
            return
        text = (f"Delete the judge “{judge.describe()}” and its "
                f"{plural(judge.runs, 'judge run')}? Its scores give way to the comparison's "
                "other judges (with none left, they go). This cannot be undone.")
        if not self.confirm(text):
            return

        def event(comparison_id: int) -> None:
            self._note = "judge deleted"
            self._judged(comparison_id)

        def error(message: str) -> None:
            self.status_label.setText(f"Could not delete the judge: {message}")

        self.context.tasks.start(delete_judge_task, self.context.db_path, judge.id,
                                 on_event=event, on_error=error)
