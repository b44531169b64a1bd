"""The pairwise panel: two outputs of one input side by side, blind, and the keys that judge
them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from playground.evaluation.preferences import BlindPair
from ui.views.evaluate.reader import reader

_PAIR_KEYS: dict[int, str] = {int(Qt.Key.Key_1): "1", int(Qt.Key.Key_2): "2",
                              int(Qt.Key.Key_3): "3"}


class PairwisePanel(QWidget):
    """Two outputs of one input, sides hidden and shuffled; 1, 2 or 3 gives the verdict."""

    chosen = Signal(str)  # "1" (A is better), "2" (B is better) or "3" (tie)
    undo_requested = Signal()
    #: the person asked for the results once every pair is judged
    results_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.progress = QLabel("Choose a comparison to judge its outputs in pairs.")
        self.undo_button = QPushButton("Undo last (Backspace)")
        self.undo_button.clicked.connect(self.undo_requested)
        # Judging every pair ends here: the button says where the verdicts went.
        self.results_button = QPushButton("See the results")
        self.results_button.setToolTip("The ranking the judgements give, in the Results tab")
        self.results_button.clicked.connect(self.results_requested)
        self.results_button.hide()
        top = QHBoxLayout()
        top.addWidget(self.progress)
        top.addWidget(self.results_button)
        top.addStretch(1)
        top.addWidget(self.undo_button)
        self.input_view = reader("The input both outputs answer")
        self.input_view.setMaximumHeight(110)
        self.left_view = reader("Output A")
        self.right_view = reader("Output B")
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
        for button in (self.a_button, self.tie_button, self.b_button, self.undo_button,
                       self.results_button):
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
        self.results_button.setVisible(pair is None and total > 0)
        if pair is None:
            judged_all = "The one pair is judged." if total == 1 else f"All {total} pairs judged."
            self.progress.setText(
                judged_all if total else
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
