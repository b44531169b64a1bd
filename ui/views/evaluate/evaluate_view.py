"""The Evaluate tab: people rate and judge a comparison's outputs, and see what that says.

Two ways of judging, each blind (no variant names, outputs in a shuffled order) so that nobody
favours the prompt they wrote:

* **Likert**: one output at a time, rated 1–5 on the comparison's criteria, with a note;
* **Pairwise**: two outputs of the same input side by side, in random order; 1, 2 or 3 says
  which is better, and the next pair follows at once.

The **Results** tab (kept apart so that a judge does not watch the ranking move and guess which
side was which) shows the Bradley–Terry ranking with its intervals, how far each automatic
metric agrees with it, the Likert means, and exports the judgements as a preference dataset.

Every database access runs in a task with its own Store; writes go one at a time, in the order
they were made, so "undo" always removes the judgement the judge last gave.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from playground.errors import PlaygroundError
from playground.evaluation import preferences as prefs
from playground.evaluation.preferences import BlindPair
from playground.evaluation.report import HumanEvaluation, build_report
from playground.evaluation.stats import Estimate
from playground.ratings import PreferenceError, input_prompt
from playground.runs.history import comparison_judgements, report_runs
from playground.storage.store import JudgementRow, Store, run_model_name
from ui.context import AppContext

Index = QModelIndex | QPersistentModelIndex
_NO_INDEX = QModelIndex()

#: How many recent comparisons the picker offers.
HISTORY_LIMIT = 100
_SETTINGS_KEY = "evaluate/comparison"
_SCORE_KEYS: dict[int, int] = {int(getattr(Qt.Key, f"Key_{n}")): n for n in range(1, 6)}
_PAIR_KEYS: dict[int, str] = {int(Qt.Key.Key_1): "1", int(Qt.Key.Key_2): "2",
                              int(Qt.Key.Key_3): "3"}


# -- what the tasks hand back ---------------------------------------------------------------------


@dataclass
class RunItem:
    """One output to rate, as the Likert panel shows it (its variant stays hidden)."""

    run_id: int
    input_key: str
    sample: int
    prompt: str
    output: str
    note: str
    ratings: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Loaded:
    comparison_id: int
    name: str
    criteria: tuple[str, ...]
    items: tuple[RunItem, ...]
    pairs: tuple[BlindPair, ...]
    #: (variant, pair key) → run id: how a blind pair is saved as two runs.
    pair_runs: dict[tuple[str, str], int]
    #: {run, run} → how many judgements the two runs already have.
    judged: Counter[frozenset[int]]


@dataclass(frozen=True)
class Results:
    comparison_id: int
    human: HumanEvaluation | None
    variants: tuple[str, ...]
    criteria: tuple[str, ...]


@dataclass(frozen=True)
class Exported:
    path: str
    pairs: int
    ties: int


# -- tasks (run on a pool thread; each opens and closes its own Store) ---------------------------


def _history_job(db_path: Path) -> Any:
    with Store(db_path) as store:
        rows = store.history(limit=HISTORY_LIMIT)
    yield [(row.id, f"#{row.id}  {row.name}  ({row.created_at[:16].replace('T', ' ')}, "
                    f"{row.ok_count} outputs)") for row in rows]


def _results(store: Store, comparison_id: int) -> Results:
    row = store.comparison(comparison_id)
    criteria = store.criteria(comparison_id)
    report = build_report(row.name, report_runs(store, comparison_id), language=row.language,
                          criteria=criteria,
                          judgements=comparison_judgements(store, comparison_id))
    return Results(comparison_id, report.human, tuple(v.name for v in report.variants), criteria)


def _load_job(db_path: Path, comparison_id: int) -> Any:
    with Store(db_path) as store:
        row = store.comparison(comparison_id)
        variants = {v.id: v for v in store.variants(comparison_id)}
        inputs = {i.id: i for i in store.inputs(comparison_id)}
        runs = [r for r in store.runs(comparison_id) if r.status == "ok"
                and r.variant_id in variants and r.input_id in inputs]
        criteria = store.criteria(comparison_id)
        ratings: dict[int, dict[str, int]] = {}
        for rating in store.criterion_ratings(comparison_id):
            ratings.setdefault(rating.run_id, {})[rating.criterion] = rating.score
        judged = Counter(frozenset((j.run_a, j.run_b)) for j in store.judgements(comparison_id))
        results = _results(store, comparison_id)
    items: list[RunItem] = []
    by_variant: dict[str, dict[str, str]] = {}
    prompts: dict[str, str] = {}
    models: dict[str, str] = {}
    pair_runs: dict[tuple[str, str], int] = {}
    for run in runs:
        assert run.variant_id is not None and run.input_id is not None
        variant, input_row = variants[run.variant_id], inputs[run.input_id]
        prompt = input_prompt(input_row.values)
        items.append(RunItem(run.id, input_row.input_key, run.sample, prompt, run.output or "",
                             (run.rating.note if run.rating else None) or "",
                             ratings.get(run.id, {})))
        # Pairs compare the same sample (the same seed) of two variants on one input.
        key = (input_row.input_key if row.samples == 1
               else f"{input_row.input_key} · sample {run.sample + 1}")
        by_variant.setdefault(variant.name, {})[key] = run.output or ""
        prompts[key] = prompt
        models.setdefault(variant.name, run_model_name(run, variant))
        pair_runs[variant.name, key] = run.id
    # Variants interleaved in a fixed order per comparison: nothing about the position of an
    # output tells which prompt wrote it, and reopening the comparison gives the same order.
    random.Random(comparison_id).shuffle(items)
    pairs = prefs.blind_pairs(by_variant, seed=comparison_id, prompts=prompts, models=models)
    yield Loaded(comparison_id, row.name, criteria, tuple(items), tuple(pairs), pair_runs, judged)
    yield results


def _results_job(db_path: Path, comparison_id: int) -> Any:
    with Store(db_path) as store:
        results = _results(store, comparison_id)
    yield results


def _write_job(db_path: Path, operation: Callable[[Store], Any]) -> Any:
    with Store(db_path) as store:
        value = operation(store)
    yield value


def _export_job(db_path: Path, comparison_id: int, path: str) -> Any:
    with Store(db_path) as store:
        judged = comparison_judgements(store, comparison_id)
    if not judged:
        raise PlaygroundError("there are no judgements to export yet: judge some pairs first")
    text = prefs.export_preferences(judged)
    records = prefs.read_preferences(text)  # never write a file a trainer would refuse
    Path(path).write_text(text, encoding="utf-8")
    yield Exported(path, len(records), sum(1 for j in judged if j.choice == "tie"))


# -- item models ----------------------------------------------------------------------------------


def _interval(low: float, high: float, digits: int) -> str:
    return f"[{low:.{digits}f}, {high:.{digits}f}]"



class RankingModel(QAbstractTableModel):
    """The Bradley–Terry ranking, best first: strength with its bootstrap interval and record."""

    HEADERS = ("Rank", "Variant", "Strength", "95% interval", "Wins", "Losses", "Ties")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ratings: list[prefs.Rating] = []

    def set_ranking(self, ratings: Sequence[prefs.Rating]) -> None:
        self.beginResetModel()
        self._ratings = list(ratings)
        self.endResetModel()

    def rating(self, row: int) -> prefs.Rating:
        return self._ratings[row]

    def rowCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._ratings)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ratings):
            return None
        r, column = self._ratings[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            values = (str(index.row() + 1), r.variant, f"{r.strength:.2f}",
                      _interval(r.low, r.high, 2), str(r.wins), str(r.losses), str(r.ties))
            return values[column] if 0 <= column < len(values) else None
        if role == Qt.ItemDataRole.ToolTipRole and column in (2, 3):
            return ("Strengths have a geometric mean of 1; A beats B with probability "
                    "A / (A + B). The interval is a bootstrap over judgements.")
        if role == Qt.ItemDataRole.TextAlignmentRole and column != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class LikertModel(QAbstractTableModel):
    """Mean rating per variant and criterion with its interval (inputs are the unit)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._variants: list[str] = []
        self._criteria: list[str] = []
        self._human: HumanEvaluation | None = None

    def set_results(self, variants: Sequence[str], criteria: Sequence[str],
                    human: HumanEvaluation | None) -> None:
        self.beginResetModel()
        self._variants, self._criteria, self._human = list(variants), list(criteria), human
        self.endResetModel()

    def estimate(self, variant: str, criterion: str) -> Estimate | None:
        if self._human is None:
            return None
        return self._human.likert.get(variant, {}).get(criterion)

    def rowCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._variants)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else 2 + len(self._criteria)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        headers = ["Variant", "Rated outputs", *self._criteria]
        return headers[section] if 0 <= section < len(headers) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._variants):
            return None
        variant, column = self._variants[index.row()], index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == 0:
            return variant
        if column == 1:
            return str(self._human.rated_runs.get(variant, 0) if self._human else 0)
        if not 2 <= column < 2 + len(self._criteria):
            return None
        estimate = self.estimate(variant, self._criteria[column - 2])
        if estimate is None:
            return "—"
        return f"{estimate.mean:.2f} {_interval(estimate.low, estimate.high, 2)}"


# -- the Likert panel -----------------------------------------------------------------------------


class LikertPanel(QWidget):
    """One output at a time, a 1–5 row per criterion, a note, and the criteria themselves.

    Keys: 1–5 rate the marked criterion and mark the next one, Up/Down move the mark,
    Left/Right (or Page Up/Down) go to the previous/next output.
    """

    rated = Signal(int, str, int)  # run id, criterion, score
    note_edited = Signal(int, str)  # run id, note
    criteria_edited = Signal(object, object)  # new names, {old name: new name}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.items: list[RunItem] = []
        self.criteria: tuple[str, ...] = ()
        self.position = -1
        self.current_criterion = 0
        self.score_groups: dict[str, QButtonGroup] = {}
        self._criterion_labels: list[QLabel] = []

        self.title = QLabel("Choose a comparison to rate its outputs.")
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.unrated_only = QCheckBox("Unrated only")
        self.unrated_only.setToolTip("Skip outputs already rated on every criterion")
        for widget in (self.prev_button, self.next_button, self.unrated_only):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.unrated_only.toggled.connect(self._unrated_toggled)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.unrated_only)
        top.addWidget(self.prev_button)
        top.addWidget(self.next_button)

        self.input_view = _reader("The input")
        self.output_view = _reader("The output to rate")

        self.scores_box = QGroupBox("Ratings (1 = poor, 5 = excellent)")
        self.scores_grid = QGridLayout(self.scores_box)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("A note on this output (saved when you leave the field)")
        self.note_edit.editingFinished.connect(self._note_finished)
        self.hint = QLabel("Keys: 1–5 rate the marked criterion · ↑/↓ choose the criterion · "
                           "←/→ previous/next output")
        self.hint.setEnabled(False)

        self.criteria_list = QListWidget()
        self.criteria_list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked)
        self.criteria_list.itemChanged.connect(self._criterion_renamed)
        self.add_criterion_button = QPushButton("Add")
        self.remove_criterion_button = QPushButton("Remove")
        self.add_criterion_button.clicked.connect(self._add_criterion)
        self.remove_criterion_button.clicked.connect(self._remove_criterion)
        criteria_box = QGroupBox("Criteria of this comparison")
        criteria_layout = QVBoxLayout(criteria_box)
        criteria_layout.addWidget(QLabel("Double-click a name to rename it."))
        criteria_layout.addWidget(self.criteria_list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_criterion_button)
        buttons.addWidget(self.remove_criterion_button)
        criteria_layout.addLayout(buttons)
        criteria_box.setMaximumWidth(260)

        texts = QSplitter(Qt.Orientation.Vertical)
        texts.addWidget(self.input_view)
        texts.addWidget(self.output_view)
        texts.setStretchFactor(0, 1)
        texts.setStretchFactor(1, 3)
        texts.setSizes([120, 360])
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(texts, 1)
        left.addWidget(self.scores_box)
        left.addWidget(self.note_edit)
        left.addWidget(self.hint)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(criteria_box)
        self._show()

    # -- content ----------------------------------------------------------------------------

    def load(self, items: Sequence[RunItem], criteria: Sequence[str], *,
             keep_run: int | None = None) -> None:
        """Show these outputs from the first, or from run ``keep_run`` when it is among them."""
        self.items = list(items)
        self.position = next((n for n, item in enumerate(self.items) if item.run_id == keep_run),
                             0 if self.items else -1)
        self.set_criteria(criteria)
        if self.unrated_only.isChecked():
            self._skip_rated()
        self._show()

    def set_criteria(self, criteria: Sequence[str]) -> None:
        self.criteria = tuple(criteria)
        self.current_criterion = min(self.current_criterion, max(len(self.criteria) - 1, 0))
        self._build_score_rows()
        self.criteria_list.blockSignals(True)
        self.criteria_list.clear()
        for name in self.criteria:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.criteria_list.addItem(item)
        self.criteria_list.blockSignals(False)
        self._show()

    @property
    def current_item(self) -> RunItem | None:
        return self.items[self.position] if 0 <= self.position < len(self.items) else None

    def is_rated(self, item: RunItem) -> bool:
        return all(c in item.ratings for c in self.criteria)

    def _build_score_rows(self) -> None:
        while self.scores_grid.count():
            taken = self.scores_grid.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        for group in self.score_groups.values():
            group.deleteLater()
        self.score_groups = {}
        self._criterion_labels = []
        for row, name in enumerate(self.criteria):
            label = QLabel(name)
            self.scores_grid.addWidget(label, row, 0)
            self._criterion_labels.append(label)
            group = QButtonGroup(self)
            for score in range(1, 6):
                button = QRadioButton(str(score))
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                group.addButton(button, score)
                self.scores_grid.addWidget(button, row, score)
            group.idClicked.connect(
                lambda score, row=row: self._rate(self.criteria[row], score, row))
            self.score_groups[name] = group
        self.scores_grid.setColumnStretch(6, 1)

    def _show(self) -> None:
        item = self.current_item
        has_item = item is not None
        for widget in (self.scores_box, self.note_edit, self.prev_button, self.next_button):
            widget.setEnabled(has_item)
        if item is None:
            self.title.setText("No outputs to rate: choose a comparison with finished runs."
                               if not self.criteria else "This comparison has no outputs yet.")
            self.input_view.setPlainText("")
            self.output_view.setPlainText("")
            self.note_edit.setText("")
            self._show_scores(None)
            return
        rated = sum(1 for i in self.items if self.is_rated(i))
        sample = f" · sample {item.sample + 1}" if any(i.sample for i in self.items) else ""
        self.title.setText(f"Output {self.position + 1} of {len(self.items)} · input "
                           f"{item.input_key}{sample} · {rated} fully rated")
        self.input_view.setPlainText(item.prompt)
        self.output_view.setPlainText(item.output)
        self.note_edit.setText(item.note)
        self._show_scores(item)

    def _show_scores(self, item: RunItem | None) -> None:
        for row, name in enumerate(self.criteria):
            group = self.score_groups[name]
            score = item.ratings.get(name) if item is not None else None
            group.setExclusive(False)
            for button in group.buttons():
                button.setChecked(group.id(button) == score)
            group.setExclusive(True)
            label = self._criterion_labels[row]
            marked = row == self.current_criterion
            label.setText(("▸ " if marked else "   ") + name)
            font = QFont(label.font())
            font.setBold(marked)
            label.setFont(font)

    # -- actions ----------------------------------------------------------------------------

    def step(self, direction: int) -> None:
        """The previous or next output; with "unrated only", the nearest one not fully rated."""
        self._commit_note()
        if not self.items:
            return
        position = self.position
        while True:
            position += direction
            if not 0 <= position < len(self.items):
                return
            if not self.unrated_only.isChecked() or not self.is_rated(self.items[position]):
                break
        self.position = position
        self.current_criterion = 0
        self._show()

    def rate(self, score: int) -> None:
        """Rate the marked criterion of the shown output (what the keys 1–5 do)."""
        if self.current_item is None or not self.criteria:
            return
        row = self.current_criterion
        self._rate(self.criteria[row], score, row)

    def _rate(self, criterion: str, score: int, row: int) -> None:
        item = self.current_item
        if item is None:
            return
        item.ratings[criterion] = score
        # The mark moves on, so a person rates every criterion with a run of key presses.
        self.current_criterion = min(row + 1, len(self.criteria) - 1)
        self._show()
        self.rated.emit(item.run_id, criterion, score)

    def mark(self, delta: int) -> None:
        if self.criteria:
            self.current_criterion = max(0, min(len(self.criteria) - 1,
                                                self.current_criterion + delta))
            self._show_scores(self.current_item)

    def _unrated_toggled(self, on: bool) -> None:
        if on:
            self._skip_rated()
        self._show()

    def _skip_rated(self) -> None:
        item = self.current_item
        if item is not None and self.is_rated(item):
            following = [n for n in range(len(self.items)) if not self.is_rated(self.items[n])]
            later = [n for n in following if n > self.position]
            if later or following:
                self.position = (later or following)[0]
                self.current_criterion = 0

    def _note_finished(self) -> None:
        self._commit_note()

    def _commit_note(self) -> None:
        item = self.current_item
        text = self.note_edit.text().strip()
        if item is None or text == item.note:
            return
        item.note = text
        self.note_edited.emit(item.run_id, text)

    # -- criteria ---------------------------------------------------------------------------

    def _names(self) -> list[str]:
        return [self.criteria_list.item(n).text() for n in range(self.criteria_list.count())]

    def _criterion_renamed(self, item: QListWidgetItem) -> None:
        old = str(item.data(Qt.ItemDataRole.UserRole))
        new = item.text().strip()
        if new == old:
            return
        self.criteria_edited.emit(self._names(), {old: new})

    def _add_criterion(self) -> None:
        taken = {name.casefold() for name in self.criteria}
        n = len(self.criteria) + 1
        while f"criterion {n}" in taken:
            n += 1
        self.criteria_edited.emit([*self.criteria, f"criterion {n}"], {})

    def _remove_criterion(self) -> None:
        row = self.criteria_list.currentRow()
        if 0 <= row < len(self.criteria):
            self.criteria_edited.emit([c for n, c in enumerate(self.criteria) if n != row], {})

    # -- keys -------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if plain and key in _SCORE_KEYS:
            self.rate(_SCORE_KEYS[key])
        elif plain and key == Qt.Key.Key_Up:
            self.mark(-1)
        elif plain and key == Qt.Key.Key_Down:
            self.mark(1)
        elif plain and key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp):
            self.step(-1)
        elif plain and key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown):
            self.step(1)
        else:
            super().keyPressEvent(event)
            return
        event.accept()


# -- the pairwise panel ---------------------------------------------------------------------------


class PairwisePanel(QWidget):
    """Two outputs of one input, sides hidden and shuffled; 1, 2 or 3 gives the verdict."""

    chosen = Signal(str)  # "1" (A is better), "2" (B is better) or "3" (tie)
    undo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.progress = QLabel("Choose a comparison to judge its outputs in pairs.")
        self.undo_button = QPushButton("Undo last (Backspace)")
        self.undo_button.clicked.connect(self.undo_requested)
        top = QHBoxLayout()
        top.addWidget(self.progress, 1)
        top.addWidget(self.undo_button)
        self.input_view = _reader("The input both outputs answer")
        self.input_view.setMaximumHeight(110)
        self.left_view = _reader("Output A")
        self.right_view = _reader("Output B")
        sides = QHBoxLayout()
        for title, view in (("A", self.left_view), ("B", self.right_view)):
            box = QGroupBox(title)
            inner = QVBoxLayout(box)
            inner.addWidget(view)
            sides.addWidget(box)
        self.a_button = QPushButton("A is better  [1]")
        self.tie_button = QPushButton("Tie  [3]")
        self.b_button = QPushButton("B is better  [2]")
        self.a_button.clicked.connect(lambda: self.chosen.emit("1"))
        self.b_button.clicked.connect(lambda: self.chosen.emit("2"))
        self.tie_button.clicked.connect(lambda: self.chosen.emit("3"))
        choices = QHBoxLayout()
        for button in (self.a_button, self.tie_button, self.b_button, self.undo_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        choices.addWidget(self.a_button)
        choices.addWidget(self.tie_button)
        choices.addWidget(self.b_button)
        hint = QLabel("Keys: 1 = A is better · 2 = B is better · 3 = tie · Backspace = undo. "
                      "Which prompt wrote which side is hidden, and the sides are shuffled.")
        hint.setWordWrap(True)
        hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.input_view)
        layout.addLayout(sides, 1)
        layout.addLayout(choices)
        layout.addWidget(hint)
        self._enable(False, False)

    def _enable(self, choices: bool, undo: bool) -> None:
        for button in (self.a_button, self.b_button, self.tie_button):
            button.setEnabled(choices)
        self.undo_button.setEnabled(undo)

    def show_pair(self, pair: BlindPair | None, judged: int, total: int) -> None:
        self._enable(pair is not None, judged > 0)
        if pair is None:
            self.progress.setText(
                f"All {total} pairs judged." if total else
                "No pairs to judge: a comparison needs two variants with outputs for the same "
                "inputs.")
            for view in (self.input_view, self.left_view, self.right_view):
                view.setPlainText("")
            return
        self.progress.setText(f"Pair {judged + 1} of {total}")
        self.input_view.setPlainText(pair.prompt)
        self.left_view.setPlainText(pair.left)
        self.right_view.setPlainText(pair.right)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if plain and key in _PAIR_KEYS:
            if self.a_button.isEnabled():
                self.chosen.emit(_PAIR_KEYS[key])
        elif (plain and key == Qt.Key.Key_Backspace) or (
                key == Qt.Key.Key_Z and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            if self.undo_button.isEnabled():
                self.undo_requested.emit()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


def _reader(placeholder: str) -> QPlainTextEdit:
    """Read-only text that never takes the keyboard, so the panel keeps getting the keys."""
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setPlaceholderText(placeholder)
    view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return view


# -- the view -------------------------------------------------------------------------------------


class EvaluateView(QWidget):
    """Likert ratings, blind pairwise judgements and their results for one comparison."""

    #: a judgement was saved (a playground.ratings.Judgement)
    judged = Signal(object)
    #: a comparison was loaded and is shown (its id)
    loaded = Signal(int)
    #: the ranking and the Likert means were recomputed
    results_updated = Signal()
    #: the preference dataset was written (the path)
    exported = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.comparison_id: int | None = None
        self.current_pair: BlindPair | None = None
        self.results: Results | None = None
        self._pairs: list[BlindPair] = []
        self._pending: list[BlindPair] = []
        self._pair_runs: dict[tuple[str, str], int] = {}
        self._judged: Counter[frozenset[int]] = Counter()
        self._writes: list[tuple[Callable[[Store], Any], Callable[[Any], None],
                                 Callable[[], None]]] = []
        self._writing = False
        self._loading = 0  # the newest load's number; results of older ones are dropped
        self._load_running = False
        self._results_running = False
        self._results_stale = False
        self._history_running = False
        self._history_again = False

        self.picker = QComboBox()
        self.picker.setMinimumContentsLength(40)
        self.picker.setPlaceholderText("Choose a comparison")
        self.picker.activated.connect(self._picked)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a00")
        self.message.hide()
        top = QHBoxLayout()
        top.addWidget(QLabel("Comparison:"))
        top.addWidget(self.picker, 1)

        self.likert_widget = LikertPanel()
        self.likert_widget.rated.connect(self._rate)
        self.likert_widget.note_edited.connect(self._note)
        self.likert_widget.criteria_edited.connect(self._edit_criteria)
        self.pairwise_widget = PairwisePanel()
        self.pairwise_widget.chosen.connect(self.choose)
        self.pairwise_widget.undo_requested.connect(self.undo)


        self.modes = QTabWidget()
        self.modes.addTab(self.likert_widget, "Likert")
        self.modes.addTab(self.pairwise_widget, "Pairwise")
        self.modes.addTab(self._build_results(), "Results")
        self.modes.currentChanged.connect(self._mode_changed)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.modes, 1)
        self._show_results()

        context.history_changed.connect(self.reload_history)
        self.reload_history()
        saved = context.settings.value(_SETTINGS_KEY)
        try:
            restored = int(str(saved)) if saved is not None else None
        except ValueError:
            restored = None
        if restored is not None:
            self.set_comparison(restored, quiet=True)

    def _build_results(self) -> QWidget:
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
        results = QWidget()
        layout = QVBoxLayout(results)
        layout.addWidget(QLabel("<b>Blind pairwise preference</b> (Bradley–Terry)"))
        layout.addWidget(self.summary_label)
        layout.addWidget(self.ranking_table, 2)
        layout.addWidget(self.agreement_label)
        layout.addWidget(QLabel("<b>Likert ratings</b> (mean [95% interval], 1–5)"))
        layout.addWidget(self.likert_table, 2)
        export_row = QHBoxLayout()
        export_row.addStretch(1)
        export_row.addWidget(self.export_button)
        layout.addLayout(export_row)
        return results

    # -- state for tests and the window -----------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether anything is still being loaded, saved or recomputed."""
        return (self._writing or bool(self._writes) or self._load_running
                or self._results_running or self._results_stale or self._history_running)

    @property
    def pairs_total(self) -> int:
        return len(self._pairs)

    @property
    def pairs_judged(self) -> int:
        return len(self._pairs) - len(self._pending)

    def save_settings(self, settings: QSettings) -> None:
        if self.comparison_id is not None:
            settings.setValue(_SETTINGS_KEY, self.comparison_id)

    def _live(self, callback: Callable[..., None]) -> Callable[..., None]:
        """A task's callback that does nothing once the view is gone (the window closed while
        the task was still running)."""

        def call(*args: Any) -> None:
            if isValid(self):
                callback(*args)

        return call

    # -- messages ---------------------------------------------------------------------------

    def _error(self, message: str) -> None:
        self.message.setText(message)
        self.message.show()

    def _clear_error(self) -> None:
        self.message.hide()
        self.message.clear()

    # -- the picker -------------------------------------------------------------------------

    def reload_history(self) -> None:
        """List the recent comparisons again (once more after the listing in progress, when
        the history changed while it ran)."""
        if self._history_running:
            self._history_again = True
            return
        self._history_running = True
        self.context.tasks.start(
            _history_job, self.context.db_path, on_event=self._live(self._history_loaded),
            on_error=self._live(lambda m: self._error(f"Could not list comparisons: {m}")),
            on_done=self._live(self._history_done))

    def _history_done(self) -> None:
        self._history_running = False
        if self._history_again:
            self._history_again = False
            self.reload_history()

    def _history_loaded(self, entries: list[tuple[int, str]]) -> None:
        self.picker.blockSignals(True)
        self.picker.clear()
        for comparison_id, label in entries:
            self.picker.addItem(label, comparison_id)
        self.picker.blockSignals(False)
        self._select_in_picker()

    def _select_in_picker(self) -> None:
        index = self.picker.findData(self.comparison_id) if self.comparison_id is not None else -1
        self.picker.blockSignals(True)
        self.picker.setCurrentIndex(index)
        self.picker.blockSignals(False)

    def _picked(self, index: int) -> None:
        comparison_id = self.picker.itemData(index)
        if isinstance(comparison_id, int) and comparison_id != self.comparison_id:
            self.set_comparison(comparison_id)

    # -- loading ----------------------------------------------------------------------------

    def set_comparison(self, comparison_id: int, *, quiet: bool = False) -> None:
        """Show a comparison's outputs for rating and judging, and its results."""
        self._clear_error()
        self._load(comparison_id, quiet=quiet)

    def _load(self, comparison_id: int, *, quiet: bool = False) -> None:
        self._loading += 1
        number = self._loading
        self._load_running = True

        def loaded(value: Loaded | Results) -> None:
            if number != self._loading:
                return
            if isinstance(value, Loaded):
                self._apply(value)
            else:
                self._apply_results(value)

        def failed(message: str) -> None:
            if number == self._loading and not quiet:
                self._error(f"Could not open comparison {comparison_id}: {message}")

        def done() -> None:
            if number == self._loading:
                self._load_running = False

        self.context.tasks.start(_load_job, self.context.db_path, comparison_id,
                                 on_event=self._live(loaded), on_error=self._live(failed),
                                 on_done=self._live(done))

    def _apply(self, data: Loaded) -> None:
        # Read again (after a failed write or new criteria): stay on the output being rated.
        shown = self.likert_widget.current_item
        keep = shown.run_id if shown and data.comparison_id == self.comparison_id else None
        self.comparison_id = data.comparison_id
        if self.picker.findData(data.comparison_id) < 0:
            self.picker.insertItem(0, f"#{data.comparison_id}  {data.name}", data.comparison_id)
        self._select_in_picker()
        self.likert_widget.load(data.items, data.criteria, keep_run=keep)
        self._pairs = list(data.pairs)
        self._pair_runs = dict(data.pair_runs)
        self._judged = Counter(data.judged)
        self._pending = [p for p in self._pairs if not self._judged[self._runs_of(p)]]
        self._show_next_pair()
        if self.isVisible():
            # Ready for the keys at once, wherever the focus was (the picker, usually).
            self._mode_changed(self.modes.currentIndex())
        self.loaded.emit(data.comparison_id)

    def _runs_of(self, pair: BlindPair) -> frozenset[int]:
        return frozenset((self._pair_runs[pair.left_variant, pair.input_id],
                          self._pair_runs[pair.right_variant, pair.input_id]))

    def _mode_changed(self, index: int) -> None:
        widget = self.modes.widget(index)
        if widget in (self.likert_widget, self.pairwise_widget):
            widget.setFocus()

    # -- writing, one at a time -------------------------------------------------------------

    def _enqueue(self, operation: Callable[[Store], Any],
                 on_result: Callable[[Any], None] | None = None,
                 on_failure: Callable[[], None] | None = None) -> None:
        self._writes.append((operation, on_result or (lambda _: None),
                             on_failure or (lambda: None)))
        if not self._writing:
            self._next_write()

    def _next_write(self) -> None:
        if not self._writes:
            self._writing = False
            self._refresh_results()
            return
        self._writing = True
        operation, on_result, on_failure = self._writes.pop(0)

        def failed(message: str) -> None:
            self._error(message)
            on_failure()

        def saved(value: Any) -> None:
            self._results_stale = True
            on_result(value)

        self.context.tasks.start(_write_job, self.context.db_path, operation,
                                 on_event=self._live(saved), on_error=self._live(failed),
                                 on_done=self._live(self._next_write))

    # -- Likert -----------------------------------------------------------------------------

    def _rate(self, run_id: int, criterion: str, score: int) -> None:
        self._clear_error()
        self._enqueue(lambda store: store.rate_criterion(run_id, criterion, score),
                      on_failure=self._reload)

    def _note(self, run_id: int, note: str) -> None:
        self._enqueue(lambda store: store.rate(run_id, note=note), on_failure=self._reload)

    def _edit_criteria(self, names: list[str], renamed: dict[str, str]) -> None:
        comparison_id = self.comparison_id
        if comparison_id is None:
            return
        self._clear_error()

        def applied(criteria: tuple[str, ...]) -> None:
            if comparison_id == self.comparison_id:
                self._reload()

        self._enqueue(lambda store: store.set_criteria(comparison_id, names, renamed=renamed),
                      on_result=applied,
                      on_failure=lambda: self.likert_widget.set_criteria(
                          self.likert_widget.criteria))

    def _reload(self) -> None:
        """Read the comparison again, so the panels show what the database holds (the message
        of the failure that asked for this stays on screen)."""
        if self.comparison_id is not None:
            self._load(self.comparison_id)

    # -- pairwise ---------------------------------------------------------------------------

    def _show_next_pair(self) -> None:
        self.current_pair = self._pending[0] if self._pending else None
        self.pairwise_widget.show_pair(self.current_pair, self.pairs_judged, len(self._pairs))

    def choose(self, key: str) -> None:
        """Judge the shown pair: "1" left (A) is better, "2" right (B), "3" a tie."""
        pair, comparison_id = self.current_pair, self.comparison_id
        if pair is None or comparison_id is None:
            return
        try:
            judgement = prefs.judge(pair, key)
        except PreferenceError as exc:
            self._error(str(exc))
            return
        self._clear_error()
        run_a = self._pair_runs[pair.left_variant, pair.input_id]
        run_b = self._pair_runs[pair.right_variant, pair.input_id]
        runs = frozenset((run_a, run_b))
        self._judged[runs] += 1
        self._pending.remove(pair)
        self._show_next_pair()

        def undone() -> None:
            # Not saved: the pair comes back first, to be judged again.
            self._judged[runs] -= 1
            if comparison_id == self.comparison_id and pair not in self._pending:
                self._pending.insert(0, pair)
                self._show_next_pair()

        self._enqueue(
            lambda store: store.save_judgement(comparison_id, run_a, run_b, judgement.choice),
            on_result=lambda _: self.judged.emit(judgement),
            on_failure=undone,
        )

    def undo(self) -> None:
        """Take back the newest judgement and show its pair again."""
        comparison_id = self.comparison_id
        if comparison_id is None:
            return
        self._clear_error()

        def undone(row: JudgementRow | None) -> None:
            if row is None or comparison_id != self.comparison_id:
                return
            runs = frozenset((row.run_a, row.run_b))
            self._judged[runs] -= 1
            pair = next((p for p in self._pairs if self._runs_of(p) == runs), None)
            if pair is not None and self._judged[runs] <= 0 and pair not in self._pending:
                self._pending.insert(0, pair)
            self._show_next_pair()

        self._enqueue(lambda store: store.undo_last_judgement(comparison_id), on_result=undone)

    # -- results ----------------------------------------------------------------------------

    def _refresh_results(self) -> None:
        if self._results_running or not self._results_stale or self.comparison_id is None:
            return
        self._results_running = True
        self._results_stale = False
        comparison_id = self.comparison_id

        def done() -> None:
            self._results_running = False
            if self._results_stale and not self._writing:
                self._refresh_results()

        self.context.tasks.start(
            _results_job, self.context.db_path, comparison_id,
            on_event=self._live(self._apply_results),
            on_error=self._live(lambda m: self._error(f"Could not compute the results: {m}")),
            on_done=self._live(done))

    def _apply_results(self, results: Results) -> None:
        if results.comparison_id != self.comparison_id:
            return
        self.results = results
        self._show_results()
        self.results_updated.emit()

    def _show_results(self) -> None:
        results = self.results
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
        self.agreement_label.setText(_agreement_text(human))

    # -- export -----------------------------------------------------------------------------

    def _ask_export(self) -> None:
        start = str(Path.home() / f"comparison-{self.comparison_id}-preferences.jsonl")
        path, _ = QFileDialog.getSaveFileName(self, "Export preference dataset", start,
                                              "JSON Lines (*.jsonl);;All files (*)")
        if path:
            self.export_preferences(path)

    def export_preferences(self, path: str) -> None:
        """Write the judgements as a preference dataset (ties left out) and say so."""
        comparison_id = self.comparison_id
        if comparison_id is None:
            self._error("Choose a comparison first.")
            return
        self._clear_error()

        def written(result: Exported) -> None:
            ties = f" ({result.ties} tie{'s' * (result.ties != 1)} left out)" if result.ties else ""
            self.context.status.emit(
                f"Wrote {result.pairs} preference pair{'s' * (result.pairs != 1)} to "
                f"{result.path}{ties}")
            self.exported.emit(result.path)

        self.context.tasks.start(
            _export_job, self.context.db_path, comparison_id, path,
            on_event=self._live(written),
            on_error=self._live(lambda m: self._error(f"Could not export the preferences: {m}")))


def _agreement_text(human: HumanEvaluation | None) -> str:
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
