"""Colours for prompt templates: Jinja tags, comments, strings and the YAML metadata header.

A template is mostly prose with a few tags in it; colouring the tags makes the moving parts (what
the values fill in, where a loop starts, what a comment hides from the model) stand out.
"""

from __future__ import annotations

import re

from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)

# Block states carried from one line to the next: what the line ends inside of.
NORMAL = 0
IN_HEADER = 1
IN_COMMENT = 2
IN_STATEMENT = 3
IN_EXPRESSION = 4

_CLOSERS = {IN_COMMENT: "#}", IN_STATEMENT: "%}", IN_EXPRESSION: "}}"}
_OPENERS = {"{#": IN_COMMENT, "{%": IN_STATEMENT, "{{": IN_EXPRESSION}
_OPEN = re.compile(r"\{[#%{]")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_KEYWORD = re.compile(
    r"\b(?:for|endfor|in|if|elif|else|endif|set|endset|with|endwith|include|extends|block|"
    r"endblock|macro|endmacro|call|endcall|filter|endfilter|raw|endraw|not|and|or|is|"
    r"true|false|none|True|False|None)\b"
)
_YAML_KEY = re.compile(r"^(\s*-?\s*)([\w.-]+)(\s*:)")
HEADER_OPEN = "{#---"
HEADER_CLOSE = "---#}"


def _dark_palette() -> bool:
    return QGuiApplication.palette().base().color().lightness() < 128


def _format(color: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class JinjaHighlighter(QSyntaxHighlighter):
    """Highlights ``{{ }}``, ``{% %}``, ``{# #}`` (each may span lines), quoted strings inside
    tags, and the ``{#--- ... ---#}`` header with its YAML keys."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.use_palette(dark=_dark_palette())
        # The system may switch between light and dark while the app runs.
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    def _scheme_changed(self, *_: object) -> None:
        self.use_palette(dark=_dark_palette())

    def use_palette(self, *, dark: bool) -> None:
        """Colours that read on the system's light or dark background."""
        light_tones = ("#1565c0", "#6a1b9a", "#757575", "#2e7d32", "#8d6e63", "#5d4037")
        dark_tones = ("#82b1ff", "#ce93d8", "#9e9e9e", "#a5d6a7", "#d7b8a8", "#ffcc80")
        expression, statement, comment, string, header, key = dark_tones if dark else light_tones
        self.expression = _format(expression)
        self.statement = _format(statement)
        self.keyword = _format(statement, bold=True)
        self.comment = _format(comment, italic=True)
        self.string = _format(string)
        self.header = _format(header)
        self.header_key = _format(key, bold=True)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        state = self.previousBlockState()
        if state < 0:
            state = NORMAL
        start = 0
        if state == NORMAL and self.currentBlock().blockNumber() == 0 and \
                text.lstrip().startswith(HEADER_OPEN):
            state = IN_HEADER
        if state == IN_HEADER:
            start, state = self._header(text)
        while start < len(text):
            if state == NORMAL:
                match = _OPEN.search(text, start)
                if match is None:
                    break
                state = _OPENERS[match.group(0)]
                start = match.start()
            start, state = self._tag(text, start, state)
        self.setCurrentBlockState(state)

    def _header(self, text: str) -> tuple[int, int]:
        """Colours a line of the metadata header; returns where the header ends on it."""
        end = text.find(HEADER_CLOSE)
        stop = len(text) if end < 0 else end + len(HEADER_CLOSE)
        self.setFormat(0, stop, self.header)
        key = _YAML_KEY.match(text)
        if key is not None and end < 0:
            self.setFormat(key.start(2), key.end(2) - key.start(2), self.header_key)
        for string in _STRING.finditer(text, 0, stop):
            self.setFormat(string.start(), string.end() - string.start(), self.string)
        return stop, (IN_HEADER if end < 0 else NORMAL)

    def _tag(self, text: str, start: int, state: int) -> tuple[int, int]:
        """Colours one tag from ``start`` (which may be mid-tag when it began on an earlier
        line); returns where it ends on this line and the state after it."""
        closer = _CLOSERS[state]
        search_from = start + 2 if text.startswith(("{#", "{%", "{{"), start) else start
        end = text.find(closer, search_from)
        stop = len(text) if end < 0 else end + len(closer)
        length = stop - start
        if state == IN_COMMENT:
            self.setFormat(start, length, self.comment)
        else:
            self.setFormat(start, length, self.statement if state == IN_STATEMENT
                           else self.expression)
            if state == IN_STATEMENT:
                for word in _KEYWORD.finditer(text, start, stop):
                    self.setFormat(word.start(), word.end() - word.start(), self.keyword)
            for string in _STRING.finditer(text, start, stop):
                self.setFormat(string.start(), string.end() - string.start(), self.string)
        return stop, (state if end < 0 else NORMAL)
