"""The Results tab: the Bradley–Terry ranking with its intervals, how far each automatic
metric agrees with it, the Likert means, and the export of the judgements as a preference
dataset. Kept apart from the judging, so a judge does not watch the ranking move and guess
which side was which."""

from __future__ import annotations

import html
import math
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from playground.evaluation.judge_report import judge_lines
from playground.evaluation.report import HumanEvaluation
from ui.views.evaluate.results_models import LikertModel, RankingModel
from ui.views.evaluate.tasks import Results


class ResultsPanel(QWidget):
    """The ranking, the agreement, the Likert means and the export button."""

    #: a file to export the preference dataset to was chosen (its path)
    export_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results: Results | None = None
        self.export_file_dialog: QFileDialog | None = None
        self.ranking_model = RankingModel(self)
        self.ranking_table = _table(self.ranking_model, stretch=1)
        self.likert_model = LikertModel(self)
        self.likert_table = _table(self.likert_model, stretch=0)
        self.summary_label = QLabel()
        self.agreement_label = QLabel()
        self.agreement_label.setWordWrap(True)
        self.export_button = QPushButton("Export preference dataset…")
        self.export_button.setToolTip("The judgements as JSONL of prompt, chosen and rejected, "
                                      "the format reward-model and DPO training read; ties are "
                                      "left out")
        self.export_button.clicked.connect(self._ask_export)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Blind pairwise preference</b> (Bradley–Terry)"))
        layout.addWidget(self.summary_label)
        layout.addWidget(self.ranking_table, 2)
        layout.addWidget(self.agreement_label)
        layout.addWidget(QLabel("<b>Likert ratings</b> (mean [95% interval], 1–5)"))
        layout.addWidget(self.likert_table, 2)
        self.judge_label = QLabel()  # the judge model's ranking, bias and agreement
        self.judge_label.setWordWrap(True)
        layout.addWidget(self.judge_label)
        export_row = QHBoxLayout()
        export_row.addStretch(1)
        export_row.addWidget(self.export_button)
        layout.addLayout(export_row)
        self.show_results(None)

    def show_results(self, results: Results | None) -> None:
        self.results = results
        human = results.human if results is not None else None
        self.ranking_model.set_ranking(human.ranking if human else ())
        self.likert_model.set_results(results.variants if results else (),
                                      results.criteria if results else (), human)
        self.export_button.setEnabled(bool(human and human.judgements))
        if human is None or not human.judgements:
            self.summary_label.setText("No judgements yet: judge pairs in the Pairwise tab.")
        else:
            self.summary_label.setText(
                f"{human.judgements} judgement{'s' * (human.judgements != 1)}, "
                f"{human.ties} tie{'s' * (human.ties != 1)}. Strengths have a geometric mean "
                "of 1; A beats B with probability A / (A + B).")
        self.agreement_label.setText(agreement_text(human))
        judge = results.judge if results is not None else None
        self.judge_label.setText("<b>Judge model</b><br>" + "<br>".join(
            html.escape(line) for line in judge_lines(judge)) if judge else "")
        self.judge_label.setVisible(judge is not None)

    def _ask_export(self) -> None:
        """Ask where to write the dataset; the window stays responsive while the dialog is
        open."""
        shown = self.results.comparison_id if self.results is not None else None
        dialog = QFileDialog(self, "Export preference dataset", str(Path.home()),
                             "JSON Lines (*.jsonl);;All files (*)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.selectFile(f"comparison-{shown}-preferences.jsonl")
        dialog.fileSelected.connect(self.export_chosen)
        dialog.finished.connect(dialog.deleteLater)
        self.export_file_dialog = dialog
        dialog.open()


def agreement_text(human: HumanEvaluation | None) -> str:
    if human is None or len(human.ranking) < 2:
        return "Agreement with the automatic metrics shows once two variants have been judged."
    if not human.agreement:
        return "No automatic metric scored these outputs, so there is nothing to compare with."
    parts = [f"{metric} {'N/A' if math.isnan(tau) else format(tau, '+.2f')}"
             for metric, tau in human.agreement.items()]
    return ("Agreement of each automatic metric with this ranking (Kendall's τ-b: +1 same "
            "order, −1 reversed): " + " · ".join(parts))


def _table(model: QAbstractTableModel, *, stretch: int) -> QTableView:
    """A read-only table whose ``stretch`` column (the variant names) takes the spare width."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(False)

    def stretch_names() -> None:
        if stretch < model.columnCount():
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)

    model.modelReset.connect(stretch_names)
    stretch_names()
    return view
