"""The Judge dialog: a judge template, the criteria and the judge model for a stored comparison,
then the judge's progress with Stop, and what it found in a line when it is done.

The judging is the core's (:mod:`playground.runs.judge_runner`); its scores reach Compare's
summary, grid and reports by reopening the comparison (``judged``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from playground.runs.eta import describe_eta
from playground.runs.judge_plan import default_criterion, judge_templates
from playground.runs.judge_runner import JudgeTally
from playground.runs.runner import CancelToken, ComparisonFinished, Progress
from playground.wording import plural
from ui.context import AppContext
from ui.services.tasks import Worker
from ui.views.compare.judge_tasks import JudgeRequest, judge_task

DEFAULT_MODEL = "Default model"


class JudgeDialog(QDialog):
    """Judge one stored comparison; emits ``judged`` with its id when the judge has finished
    or stopped with scores saved."""

    judged = Signal(int)

    def __init__(self, context: AppContext, comparison_id: int, label: str,
                 models: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.comparison_id = comparison_id
        self._worker: Worker | None = None
        self._cancel: CancelToken | None = None
        self._tally = JudgeTally()
        self.setWindowTitle(f"Judge comparison {label}")
        layout = QVBoxLayout(self)
        intro = QLabel("A judge model scores every output on each criterion (1–5, read from "
                       "its probabilities), or compares each pair of columns' outputs in both "
                       "orders. Its scores appear as judge columns.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.template_combo = QComboBox()
        for template, _ in judge_templates(context.collection()):
            self.template_combo.addItem(template.meta.name, template)
        self.template_combo.currentIndexChanged.connect(self._template_changed)
        form.addRow("Judge template", self.template_combo)
        self.criteria_edit = QLineEdit()
        self.criteria_edit.setPlaceholderText("coherence, fluency")
        self.criteria_edit.setToolTip("Criteria separated by commas; each is judged apart")
        form.addRow("Criteria", self.criteria_edit)
        self.model_combo = QComboBox()
        self.model_combo.addItem(DEFAULT_MODEL, "")
        for name, key in models:
            self.model_combo.addItem(name, key)
        form.addRow("Judge model", self.model_combo)
        layout.addLayout(form)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v / %m judge runs")
        layout.addWidget(self.progress)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.judge_button = QPushButton("Judge")
        self.judge_button.setDefault(True)
        self.judge_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        for button in (self.judge_button, self.stop_button, self.close_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self._template_changed()
        self.resize(520, self.sizeHint().height())

    @property
    def running(self) -> bool:
        return self._worker is not None

    def _template_changed(self) -> None:
        template = self.template_combo.currentData()
        if template is not None:
            self.criteria_edit.setText(default_criterion(template))
        self.judge_button.setEnabled(template is not None and not self.running)

    def start(self) -> None:
        template = self.template_combo.currentData()
        if template is None or self.running:
            return
        criteria = tuple(c.strip() for c in self.criteria_edit.text().split(",") if c.strip())
        request = JudgeRequest(self.comparison_id, template.id,
                               str(self.model_combo.currentData() or ""), criteria)
        self._cancel = CancelToken()
        self._tally = JudgeTally()
        self.status_label.setText("Waiting for the model…")
        self._worker = self.context.tasks.start(
            judge_task, self.context, self.context.collection(), request, self._cancel,
            on_event=self._on_event, on_error=self._on_error, on_done=self._on_done)
        self._set_running(True)

    def stop(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
            self.status_label.setText("Stopping…")

    def _set_running(self, running: bool) -> None:
        for widget in (self.template_combo, self.criteria_edit, self.model_combo,
                       self.judge_button):
            widget.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _on_event(self, event: object) -> None:
        self._tally.add(event)
        if isinstance(event, Progress):
            self.progress.setRange(0, max(event.total, 1))
            self.progress.setValue(event.done + event.skipped)
            left = describe_eta(event.eta_s, event.total - event.skipped - event.done)
            self.status_label.setText(self._tally.describe() + (f"; {left}" if left else ""))
        elif isinstance(event, ComparisonFinished):
            words = {"done": "Done", "cancelled": "Stopped"}.get(event.status, event.status)
            counts = self._tally.describe()
            self.status_label.setText(f"{words}: {plural(event.done, 'judge run')}"
                                      + (f" ({counts})" if counts else "")
                                      + ". The judge columns are in the comparison.")
            self.judged.emit(self.comparison_id)

    def _on_error(self, message: str) -> None:
        self.status_label.setText(f"The judge could not run: {message}")

    def _on_done(self) -> None:
        self._worker = None
        self._cancel = None
        self._set_running(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.stop()
        super().closeEvent(event)


def show_judge_dialog(
    current: JudgeDialog | None,
    context: AppContext,
    target: tuple[int, str],
    models: Sequence[tuple[str, str]],
    parent: QWidget,
    on_judged: Callable[[int], None],
) -> JudgeDialog:
    """The judge dialog for ``target``: the one already judging is brought forward rather than
    a second judge started beside it."""
    if current is not None and current.running:
        current.raise_()
        return current
    dialog = JudgeDialog(context, *target, models, parent)
    dialog.judged.connect(on_judged)
    dialog.show()
    return dialog


class JudgeButton(QPushButton):
    """Compare's "Judge…": opens the Judge dialog on the stored comparison shown, when one is
    shown and nothing runs."""

    judged = Signal(int)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Judge…", parent)
        self.context = context
        self.setToolTip("Score this comparison's outputs with a judge model")
        self.models: list[tuple[str, str]] = []
        self.dialog: JudgeDialog | None = None
        self._target: tuple[int, str] | None = None
        self.clicked.connect(self.open_dialog)
        self.setEnabled(False)

    def set_target(self, comparison_id: int | None, label: str | None, running: bool) -> None:
        """The stored comparison a judge would judge; None when there is none yet."""
        self._target = None if comparison_id is None else (comparison_id, label or "")
        self.setEnabled(self._target is not None and not running)

    def open_dialog(self) -> JudgeDialog | None:
        if self._target is None:
            return None
        self.dialog = show_judge_dialog(self.dialog, self.context, self._target, self.models,
                                        self.window(), self.judged.emit)
        return self.dialog
