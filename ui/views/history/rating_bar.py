"""A run's rating as a row of controls: thumbs, stars, a note, clearing it, and Replay."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QToolButton, QWidget

from playground.storage.store import RatingRow
from ui.widgets.item_models import THUMBS_DOWN, THUMBS_UP


@dataclass(frozen=True)
class RatingEdit:
    """Part of a rating to save; the parts left None keep their stored values. ``clear``
    removes the whole rating."""

    thumbs: int | None = None
    stars: int | None = None
    note: str | None = None
    clear: bool = False


class RatingBar(QWidget):
    """Rate the shown run; the buttons show the stored rating until a save comes back."""

    #: a part of the rating was given (a RatingEdit)
    edited = Signal(object)
    #: Replay… was clicked
    replay_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs_up = QToolButton()
        self.thumbs_up.setText(THUMBS_UP)
        self.thumbs_up.setToolTip("Good output")
        self.thumbs_up.setCheckable(True)
        self.thumbs_up.clicked.connect(lambda: self.edited.emit(RatingEdit(thumbs=1)))
        self.thumbs_down = QToolButton()
        self.thumbs_down.setText(THUMBS_DOWN)
        self.thumbs_down.setToolTip("Bad output")
        self.thumbs_down.setCheckable(True)
        self.thumbs_down.clicked.connect(lambda: self.edited.emit(RatingEdit(thumbs=-1)))
        self.star_buttons: list[QToolButton] = []
        for n in range(1, 6):
            star = QToolButton()
            star.setText("☆")
            star.setToolTip(f"{n} star{'s' if n > 1 else ''}")
            star.setAutoRaise(True)
            star.clicked.connect(lambda _=False, n=n: self.edited.emit(RatingEdit(stars=n)))
            self.star_buttons.append(star)
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Note about this output…")
        self.note_edit.returnPressed.connect(self._save_note)
        self.note_button = QPushButton("Save note")
        self.note_button.clicked.connect(self._save_note)
        self.clear_rating_button = QPushButton("Clear rating")
        self.clear_rating_button.clicked.connect(lambda: self.edited.emit(RatingEdit(clear=True)))
        self.replay_button = QPushButton("Replay…")
        self.replay_button.setToolTip(
            "Run this again with its recorded prompt, settings, seed and model, and see "
            "whether it repeats and which recorded settings differ now")
        self.replay_button.clicked.connect(self.replay_requested)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Rate:"))
        layout.addWidget(self.thumbs_up)
        layout.addWidget(self.thumbs_down)
        for star in self.star_buttons:
            layout.addWidget(star)
        layout.addWidget(self.note_edit, 1)
        layout.addWidget(self.note_button)
        layout.addWidget(self.clear_rating_button)
        layout.addWidget(self.replay_button)

    def _save_note(self) -> None:
        self.edited.emit(RatingEdit(note=self.note_edit.text().strip()))

    def set_run_shown(self, shown: bool) -> None:
        """Every control works only while a run is shown."""
        for widget in (self.thumbs_up, self.thumbs_down, self.note_edit, self.note_button,
                       self.clear_rating_button, self.replay_button, *self.star_buttons):
            widget.setEnabled(shown)

    def show_rating(self, rating: RatingRow | None) -> None:
        """The thumbs and stars as stored (the note field is left as typed)."""
        thumbs = rating.thumbs if rating is not None else None
        stars = (rating.stars or 0) if rating is not None else 0
        self.thumbs_up.setChecked(thumbs == 1)
        self.thumbs_down.setChecked(thumbs == -1)
        for n, star in enumerate(self.star_buttons, 1):
            star.setText("★" if n <= stars else "☆")

    def show_note(self, rating: RatingRow | None) -> None:
        self.note_edit.setText(rating.note or "" if rating is not None else "")
