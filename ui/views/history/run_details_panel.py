"""The runs of the selected comparison, and the chosen run in full: its facts, output and
prompt, with the bar that rates it and replays it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground.events import count_text
from playground.runs.browsing import RunDetail, format_scores, model_label
from playground.storage.store import RatingRow, RunRow
from playground.wording import plural, sample_label
from ui.views.history.comparisons_panel import history_table
from ui.views.history.rating_bar import RatingBar
from ui.widgets.heading import heading
from ui.widgets.item_models import RunTableModel


def run_facts(run: RunRow) -> str:
    """Which run (its id, as ``playground replay`` takes it), how it went, its scores and its
    error, in a few lines."""
    facts = [f"run id {run.id}", sample_label(run.sample), run.status, f"seed {run.seed}"]
    if run.completion_tokens is not None:
        facts.append(plural(run.completion_tokens, "token"))
        prompt = run.prompt_tokens
        facts.append("prompt " + (plural(prompt, "token") if prompt is not None
                                  else f"{count_text(prompt)} tokens"))
    if run.tokens_per_second:
        facts.append(f"{run.tokens_per_second:.1f} tok/s")
    if run.finish_reason:
        facts.append(f"finished: {run.finish_reason}")
    if run.model and (run.model.get("path") or run.model.get("name")):
        # The one name every list uses, not the file header's own (often a training label).
        path = run.model.get("path")
        facts.append(model_label(str(path)) if path else str(run.model["name"]))
    scores = format_scores(run, 8)
    text = " · ".join(facts) + (f"\nScores: {scores}" if scores else "")
    if run.error:
        text += f"\nError: {run.error}"
    return text


class RunDetailsPanel(QWidget):
    """A comparison's runs in a table; the current one shown whole below its rating bar."""

    #: a run was double-clicked, to be opened in the Playground (its id)
    open_run = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs_model = RunTableModel(self)
        self.runs_table = history_table(self.runs_model, (140, 110, 60, 80, 380, 230))
        self.runs_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs_table.selectionModel().currentRowChanged.connect(self._run_changed)
        self.runs_table.doubleClicked.connect(self._open_run_at)
        self.runs_table.setToolTip("Double-click a run to open it in the Playground")

        # The runs' own heading, so that the judges' line above does not read as this table's.
        self.title_label = heading()
        self._count_runs(0)

        self.rating_bar = RatingBar()
        self.run_label = QLabel()
        self.run_label.setWordWrap(True)
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.output_text = QPlainTextEdit()
        self.output_text.setReadOnly(True)
        self.prompt_text = QPlainTextEdit()
        self.prompt_text.setReadOnly(True)
        self.text_tabs = QTabWidget()
        self.text_tabs.addTab(self.output_text, "Output")
        self.text_tabs.addTab(self.prompt_text, "Prompt")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.runs_table, 2)
        layout.addWidget(self.rating_bar)
        layout.addWidget(self.run_label)
        layout.addWidget(self.text_tabs, 3)
        self.show_run(None)

    # -- content ----------------------------------------------------------------------------

    def show_rows(self, rows: Sequence[RunDetail], select_run: int | None) -> None:
        """List these runs and show run ``select_run`` (else the first)."""
        self.runs_model.set_rows(rows)
        self._count_runs(len(rows))
        row = self.runs_model.row_of_run(select_run) if select_run is not None else None
        if row is None and rows:
            row = 0
        if row is not None:
            self.runs_table.selectionModel().setCurrentIndex(
                self.runs_model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        else:
            self.show_run(None)

    def clear(self) -> None:
        self.runs_model.set_rows([])
        self._count_runs(0)
        self.show_run(None)

    def _count_runs(self, n: int) -> None:
        self.title_label.setText(f"Runs ({n:,})" if n else "Runs")

    def selected_run(self) -> RunRow | None:
        index = self.runs_table.selectionModel().currentIndex()
        if not index.isValid() or index.row() >= self.runs_model.rowCount():
            return None
        return self.runs_model.detail(index.row()).run

    def show_run(self, run: RunRow | None) -> None:
        """The full output and prompt of one run, with its rating in the controls."""
        self.rating_bar.set_run_shown(run is not None)
        if run is None:
            self.output_text.clear()
            self.prompt_text.clear()
            self.run_label.clear()
            self.rating_bar.show_rating(None)
            self.rating_bar.note_edit.clear()
            return
        self.output_text.setPlainText(run.output or "")
        self.prompt_text.setPlainText(run.rendered_prompt or "")
        self.run_label.setText(run_facts(run))
        self.rating_bar.show_rating(run.rating)
        self.rating_bar.show_note(run.rating)

    def rating_saved(self, run_id: int, rating: RatingRow | None, *, cleared: bool) -> None:
        """A saved rating shows in the table, and in the bar while its run is shown."""
        self.runs_model.update_rating(run_id, rating)
        current = self.selected_run()
        if current is not None and current.id == run_id:
            self.rating_bar.show_rating(rating)
            if cleared:
                self.rating_bar.note_edit.clear()

    # -- signals ----------------------------------------------------------------------------

    def _run_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.show_run(self.runs_model.detail(current.row()).run if current.isValid() else None)

    def _open_run_at(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_run.emit(self.runs_model.detail(index.row()).run.id)
