"""The template's source as it is edited, with the error it has written under it and its line
marked, so a mistake is seen where it is."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from playground.prompts.template_errors import error_line
from ui.widgets.highlighter import JinjaHighlighter
from ui.widgets.palette import ERROR, ERROR_STYLE


class TemplateEditor(QWidget):
    """The Jinja source with highlighting; ``edited`` when a person changes it."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setPlaceholderText("Choose a template on the left; its source appears here.")
        self.highlighter = JinjaHighlighter(self.editor.document())
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        #: the line (1-based) the shown error points at
        self.error_line: int | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(QLabel("<b>Template</b>"))
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.message)
        self.editor.textChanged.connect(self.edited)

    def source(self) -> str:
        return self.editor.toPlainText()

    def set_source(self, text: str) -> None:
        """Show a template's source (not an edit: ``edited`` stays quiet)."""
        with QSignalBlocker(self.editor):
            self.editor.setPlainText(text)

    def set_error(self, message: str | None) -> None:
        """Show a template error under the editor and underline the line it names."""
        self.message.setText(message or "")
        self.message.setVisible(message is not None)
        line = error_line(message, self.source()) if message else None
        self.error_line = line
        selections: list[QTextEdit.ExtraSelection] = []
        block = self.editor.document().findBlockByNumber(line - 1) if line else None
        if block is not None and block.isValid():
            whole = QTextEdit.ExtraSelection()
            whole.format.setBackground(QColor("#fdecea"))
            whole.format.setProperty(QTextCharFormat.Property.FullWidthSelection, True)
            whole.cursor = QTextCursor(block)
            wave = QTextEdit.ExtraSelection()
            wave.format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            wave.format.setUnderlineColor(QColor(ERROR))
            wave.format.setToolTip(message or "")
            cursor = QTextCursor(block)
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock,
                                QTextCursor.MoveMode.KeepAnchor)
            wave.cursor = cursor
            selections = [whole, wave]
        self.editor.setExtraSelections(selections)

    def mark_run_error(self, template_id: str | None, message: str) -> None:
        """A run's failure that the template caused (its messages start with the template's
        id) is marked here too."""
        if template_id and message.startswith(f"{template_id}:"):
            self.set_error(message)
