"""Colours the app chooses itself stay readable on a dark system palette."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QGuiApplication, QPalette, QTextDocument
from pytestqt.qtbot import QtBot

from playground.events import TokenLogprob
from ui.widgets.highlighter import JinjaHighlighter
from ui.widgets.token_view import TokenView


@pytest.fixture
def dark(qtbot: QtBot) -> Iterator[None]:
    original = QGuiApplication.palette()
    palette = QPalette(original)
    for role, colour in ((QPalette.ColorRole.Base, "#1e1e1e"), (QPalette.ColorRole.Text, "#eeeeee"),
                         (QPalette.ColorRole.Window, "#2b2b2b")):
        palette.setColor(role, QColor(colour))
    QGuiApplication.setPalette(palette)
    yield
    QGuiApplication.setPalette(original)


def test_template_highlighting_uses_light_tones_on_a_dark_background(dark: None) -> None:
    document = QTextDocument("{{ name }} {% if x %}{# note #}{% endif %}")
    highlighter = JinjaHighlighter(document)
    for fmt in (highlighter.expression, highlighter.statement, highlighter.comment):
        assert fmt.foreground().color().lightness() > 128


def test_template_highlighting_uses_dark_tones_on_a_light_background(qtbot: QtBot) -> None:
    assert QGuiApplication.palette().base().color().lightness() >= 128
    highlighter = JinjaHighlighter(QTextDocument("{{ name }}"))
    assert highlighter.expression.foreground().color().lightness() < 128


def test_token_colours_keep_dark_text_on_their_pale_backgrounds(qtbot: QtBot, dark: None) -> None:
    view = TokenView()
    qtbot.addWidget(view)
    view.set_tokens([TokenLogprob("Hello", -0.1), TokenLogprob(" world", -3.0)])
    cursor = view.text.textCursor()
    cursor.setPosition(1)
    fmt = cursor.charFormat()
    assert fmt.background().color().lightness() > 150
    assert fmt.foreground().color().lightness() < 60
