"""The Likert panel: one output at a time, rated 1–5 on the comparison's criteria with a note,
beside the criteria themselves (renamed, added and removed in place)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from playground.runs.judging import RatingItem, input_label
from ui.views.evaluate.reader import reader

_SCORE_KEYS: dict[int, int] = {int(getattr(Qt.Key, f"Key_{n}")): n for n in range(1, 6)}


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
        self.items: list[RatingItem] = []
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

        self.input_view = reader("The input")
        self.output_view = reader("The output to rate")

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

    def load(self, items: Sequence[RatingItem], criteria: Sequence[str], *,
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
    def current_item(self) -> RatingItem | None:
        return self.items[self.position] if 0 <= self.position < len(self.items) else None

    def is_rated(self, item: RatingItem) -> bool:
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
        self.title.setText(f"Output {self.position + 1} of {len(self.items)} · "
                           f"{input_label(item.input_key)}{sample} · {rated} fully rated")
        self.input_view.setPlainText(item.prompt)
        self.output_view.setPlainText(item.output)
        self.note_edit.setText(item.note)
        self._show_scores(item)

    def _show_scores(self, item: RatingItem | None) -> None:
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
