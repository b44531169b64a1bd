"""A chat with the loaded model: a system prompt, the turns so far (each can be edited and run
again from), and the message box (Enter sends, Shift+Enter starts a new line). What is sent and
kept follows :class:`~playground.runs.scratch.ScratchChat`; this panel only shows it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground.events import ChatMessage
from playground.runs.scratch import ScratchChat
from ui.widgets.palette import MUTED_STYLE

ROLE_TITLES = {"user": "You", "assistant": "Model"}
ROLE_COLOURS = {"user": "#eef3fb", "assistant": "#f4f4f4"}


class MessageBox(QPlainTextEdit):
    """Enter sends; Shift+Enter is a new line, as in every chat."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        plain = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                plain == Qt.KeyboardModifier.NoModifier:
            self.submitted.emit()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                plain == Qt.KeyboardModifier.ShiftModifier:
            self.insertPlainText("\n")
            return
        super().keyPressEvent(event)


class TurnEditor(QFrame):
    """One turn: who said it, its text (editable), and a button to run the chat again from it."""

    rerun = Signal(object)

    def __init__(self, message: ChatMessage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = message.role
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(f"TurnEditor {{ background: {ROLE_COLOURS.get(self.role, '#fff')}; }}")
        self.title = QLabel(f"<b>{ROLE_TITLES.get(self.role, self.role)}</b>")
        self.rerun_button = QToolButton()
        self.rerun_button.setText("Run again from here")
        self.rerun_button.setToolTip(
            "Generate again from this turn: the turns after it are dropped"
            + (" and this answer is written anew" if self.role == "assistant" else ""))
        self.rerun_button.clicked.connect(lambda: self.rerun.emit(self))
        self.text = QPlainTextEdit(message.content)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text.textChanged.connect(self._fit)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.rerun_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(self.text)
        self._fit()

    def content(self) -> str:
        return self.text.toPlainText()

    def append(self, piece: str) -> None:
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)

    def _fit(self) -> None:
        """As tall as its text (the transcript scrolls, not each turn)."""
        # A plain text document's height is its number of visual lines, wrapping included.
        lines = max(1, int(self.text.document().size().height()))
        height = self.text.fontMetrics().lineSpacing() * lines + 12
        self.text.setFixedHeight(min(max(height, 32), 400))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


class ChatPanel(QWidget):
    """The system prompt, the transcript and the message box."""

    #: Send (the button or Enter in the message box)
    send_requested = Signal()
    #: run the chat again from the turn at this index
    rerun_requested = Signal(int)
    #: New chat
    cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.system = QPlainTextEdit()
        self.system.setPlaceholderText("System prompt (optional): how the model should behave")
        self.system.setFixedHeight(56)
        self.turns: list[TurnEditor] = []
        self._turns_box = QWidget()
        self._turns_layout = QVBoxLayout(self._turns_box)
        self._turns_layout.setContentsMargins(0, 0, 0, 0)
        self._turns_layout.addStretch(1)
        self.transcript = QScrollArea()
        self.transcript.setWidgetResizable(True)
        self.transcript.setWidget(self._turns_box)
        self.empty_label = QLabel("Type a message below and press Enter to start the chat.")
        self.empty_label.setStyleSheet(MUTED_STYLE)
        self._turns_layout.insertWidget(0, self.empty_label)
        self.message = MessageBox()
        self.message.setPlaceholderText("Message (Enter sends, Shift+Enter for a new line)")
        self.message.setFixedHeight(64)
        self.send_button = QPushButton("Send")
        self.send_button.setToolTip("Send the message and stream the model's answer (Enter)")
        self.new_button = QPushButton("New chat")
        self.new_button.setToolTip("Clear the turns (the system prompt stays)")

        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(QLabel("<b>System prompt</b>"))
        layout.addWidget(self.system)
        layout.addWidget(self.transcript, 1)
        layout.addLayout(bottom)

        self.message.submitted.connect(self.send_requested)
        self.send_button.clicked.connect(self.send_requested)
        self.new_button.clicked.connect(self.clear)

    def chat(self) -> ScratchChat:
        """The chat as it reads now, edits included."""
        turns = tuple(ChatMessage(t.role, t.content()) for t in self.turns)
        return ScratchChat(self.system.toPlainText(), turns)

    def set_chat(self, chat: ScratchChat) -> None:
        """Show ``chat``; turns already shown as they are stay (and keep their scroll)."""
        if self.system.toPlainText() != chat.system:
            self.system.setPlainText(chat.system)
        keep = 0
        for shown, turn in zip(self.turns, chat.turns, strict=False):
            if shown.role != turn.role or shown.content() != turn.content:
                break
            keep += 1
        for editor in self.turns[keep:]:
            editor.deleteLater()
        del self.turns[keep:]
        for turn in chat.turns[keep:]:
            self._add(turn)
        self.empty_label.setVisible(not self.turns)

    def begin_answer(self) -> None:
        """An empty answer at the end, for the tokens to come."""
        self._add(ChatMessage("assistant", ""))
        self.empty_label.hide()

    def append_answer(self, piece: str) -> None:
        if self.turns and self.turns[-1].role == "assistant":
            self.turns[-1].append(piece)
            bar = self.transcript.verticalScrollBar()
            bar.setValue(bar.maximum())

    def end_answer(self, text: str | None) -> None:
        """The answer as generated (``text``); without one, what streamed, or nothing."""
        if not self.turns or self.turns[-1].role != "assistant":
            return
        last = self.turns[-1]
        if text is not None and last.content() != text:
            last.text.setPlainText(text)
        if not last.content():
            last.deleteLater()
            self.turns.pop()
        self.empty_label.setVisible(not self.turns)

    def clear(self) -> None:
        self.set_chat(ScratchChat(self.system.toPlainText()))
        self.cleared.emit()

    def _add(self, message: ChatMessage) -> None:
        editor = TurnEditor(message)
        editor.rerun.connect(lambda e: self.rerun_requested.emit(self.turns.index(e)))
        self._turns_layout.insertWidget(self._turns_layout.count() - 1, editor)
        self.turns.append(editor)
