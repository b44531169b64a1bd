"""The output token by token, coloured by how sure the model was of each one.

Low-probability tokens are where an output could easily have gone another way; hovering one
shows the alternatives the model weighed at that step.
"""

from __future__ import annotations

import bisect
import html
import math
from collections.abc import Iterable, Sequence

from PySide6.QtCore import QEvent, QPoint, QRect
from PySide6.QtGui import QColor, QHelpEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QToolTip, QVBoxLayout, QWidget

from playground.events import TokenLogprob


def probability(logprob: float) -> float:
    return math.exp(logprob) if math.isfinite(logprob) else 0.0


def colour_for(p: float) -> QColor:
    """Red (unlikely) through amber to green (near certain), pale enough to read text on."""
    p = min(max(p, 0.0), 1.0)
    hue = int(120 * p)  # 0 = red, 60 = amber, 120 = green
    return QColor.fromHsl(hue, 200, 215)


def shown_text(token: str) -> str:
    """Whitespace a reader would not see is drawn as a symbol (new lines still break)."""
    if token == "":
        return "∅"
    return token.replace("\n", "↵\n").replace("\t", "→")


def describe(entry: TokenLogprob) -> str:
    """The tooltip for one token: its probability and the alternatives, most likely first."""
    lines = [f"<b>{html.escape(repr(entry.token))}</b> — {probability(entry.logprob):.1%}"]
    if entry.top:
        lines.append("Alternatives:")
        for text, logprob in sorted(entry.top, key=lambda t: t[1], reverse=True):
            marker = " ◀" if text == entry.token else ""
            lines.append(f"&nbsp;&nbsp;{html.escape(repr(text))}: "
                         f"{probability(logprob):.1%}{marker}")
    else:
        lines.append("<i>No alternatives were recorded.</i>")
    return "<br>".join(lines)


class TokenView(QWidget):
    """Read-only token text; tokens arrive one by one while streaming (``append``) or all at
    once from a finished result (``set_tokens``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMouseTracking(True)
        self.text.viewport().installEventFilter(self)
        swatches = " ".join(
            f"<span style='background:{colour_for(p).name()}'>&nbsp;{name}&nbsp;</span>"
            for name, p in (("low", 0.05), ("medium", 0.5), ("high", 0.97))
        )
        self.legend = QLabel(f"Colour = the model's probability for each token: {swatches}. "
                             "Hover a token for the alternatives.")
        self.legend.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(self.text, 1)
        self.tokens: list[TokenLogprob] = []
        self._starts: list[int] = []
        self._end = 0

    def clear(self) -> None:
        self.tokens = []
        self._starts = []
        self._end = 0
        self.text.clear()

    def shows(self, tokens: Sequence[TokenLogprob]) -> bool:
        """Whether exactly these tokens are on display (streamed ones usually are)."""
        return list(tokens) == self.tokens

    def set_tokens(self, tokens: Iterable[TokenLogprob]) -> None:
        self.clear()
        cursor = QTextCursor(self.text.document())
        cursor.beginEditBlock()  # one layout pass for the whole output
        try:
            for token in tokens:
                self._insert(cursor, token)
        finally:
            cursor.endEditBlock()

    def append(self, token: TokenLogprob) -> None:
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self._insert(cursor, token)

    def _insert(self, cursor: QTextCursor, token: TokenLogprob) -> None:
        fmt = QTextCharFormat()
        fmt.setBackground(colour_for(probability(token.logprob)))
        fmt.setForeground(QColor("black"))  # the pale backgrounds need dark text, in dark mode too
        self._starts.append(cursor.position())
        cursor.insertText(shown_text(token.token), fmt)
        self._end = cursor.position()
        self.tokens.append(token)

    def token_at_position(self, position: int) -> int | None:
        """Index of the token covering document position ``position``, or None."""
        if not self._starts or position < 0 or position >= self._end:
            return None
        return bisect.bisect_right(self._starts, position) - 1

    def token_rect(self, index: int) -> QRect:
        """Where token ``index`` is drawn (its first line), in viewport coordinates."""
        start = self._starts[index]
        end = self._starts[index + 1] if index + 1 < len(self._starts) else self._end
        cursor = QTextCursor(self.text.document())
        cursor.setPosition(start)
        left = self.text.cursorRect(cursor)
        line_end = QTextCursor(cursor)
        line_end.movePosition(QTextCursor.MoveOperation.EndOfLine)
        stop = min(end, line_end.position())
        if stop <= start:
            return left.adjusted(0, 0, 6, 0)
        cursor.setPosition(stop)
        right = self.text.cursorRect(cursor)
        return QRect(QPoint(left.left(), left.top()),
                     QPoint(max(right.left(), left.left() + 1), left.bottom()))

    def tooltip_for(self, index: int) -> str:
        return describe(self.tokens[index])

    def eventFilter(self, watched: object, event: QEvent) -> bool:
        if watched is self.text.viewport() and event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            index = self._index_at(event.pos())
            if index is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(event.globalPos(), self.tooltip_for(index), self.text.viewport(),
                                  self.token_rect(index))
            return True
        return super().eventFilter(watched, event)  # type: ignore[arg-type]

    def _index_at(self, point: QPoint) -> int | None:
        cursor = self.text.cursorForPosition(point)
        position = cursor.position()
        # cursorForPosition rounds to the nearest gap; look at the character under the point.
        index = self.token_at_position(position)
        for candidate in (index, self.token_at_position(position - 1)):
            if candidate is not None and self.token_rect(candidate).contains(point):
                return candidate
        return None
