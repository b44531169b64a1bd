"""The small editor a JSON Schema or a GBNF grammar is typed into, or loaded from a file.

What it holds is checked through the core (:func:`playground.output_constraint.make_constraint`)
as it is typed, so the message under the editor is the one a run would be refused with. OK
keeps the text even when it is not valid: the output-format control then shows the message and
the run is refused with it, and the text is there to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from playground.errors import ConstraintError
from playground.output_constraint import ConstraintKind, constraint_from_file, make_constraint
from ui.widgets.palette import ERROR_STYLE

HINTS: dict[ConstraintKind, str] = {
    "json_schema": '{"type": "object", "properties": {"label": {"enum": ["yes", "no"]}}, '
                   '"required": ["label"]}',
    "grammar": 'root ::= "yes" | "no"',
}
TITLES: dict[ConstraintKind, str] = {"json_schema": "JSON Schema", "grammar": "Grammar (GBNF)"}


class ConstraintDialog(QDialog):
    """Type or load a schema or grammar; :attr:`text` and :attr:`source` once accepted."""

    def __init__(self, kind: ConstraintKind, text: str, source: str | None,
                 choose_path: Callable[[ConstraintKind], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self._choose_path = choose_path
        #: the file the text was read from, while it is unchanged: (text, file name)
        self._loaded: tuple[str, str] | None = (text, source) if source else None
        self.setWindowTitle(f"Output format: {TITLES[kind]}")
        self.resize(520, 360)
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setPlaceholderText(HINTS[kind])
        self.editor.setPlainText(text)
        self.load_button = QPushButton("Load from file…")
        self.load_button.setToolTip(f"Read the {TITLES[kind]} from a file")
        self.message = QLabel()
        self.message.setWordWrap(True)
        # Room for a schema error's two or three lines: a wrapped label's height does not follow
        # text set after the dialog is laid out.
        self.message.setMinimumHeight(self.message.fontMetrics().lineSpacing() * 3)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        assert ok is not None
        self.ok_button = ok
        layout = QVBoxLayout(self)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.load_button)
        layout.addWidget(buttons)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.load_button.clicked.connect(self.load)
        self.editor.textChanged.connect(self._check)
        self._check()

    @property
    def text(self) -> str:
        return self.editor.toPlainText()

    @property
    def source(self) -> str | None:
        """The file's name while the text is what was read from it."""
        if self._loaded is not None and self._loaded[0] == self.text:
            return self._loaded[1]
        return None

    def load(self) -> None:
        path = self._choose_path(self.kind)
        if not path:
            return
        try:
            constraint = constraint_from_file(self.kind, Path(path))
        except ConstraintError as exc:
            self._show(str(exc), error=True)
            return
        self._loaded = (constraint.text, constraint.source or Path(path).name)
        self.editor.setPlainText(constraint.text)

    def _check(self) -> None:
        if not self.text.strip():
            self._show(f"Type the {TITLES[self.kind]} or load it from a file.", error=False)
            return
        try:
            make_constraint(self.kind, self.text, self.source)
        except ConstraintError as exc:
            self._show(str(exc), error=True)
        else:
            where = f" (from {self.source})" if self.source else ""
            self._show(f"A valid {TITLES[self.kind]}{where}.", error=False)

    def _show(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "color: palette(mid);")
