"""Read-only text for a judge: it never takes the keyboard, so the panel around it keeps
getting the keys that rate and judge."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QSizePolicy


def reader(placeholder: str) -> QPlainTextEdit:
    """Read-only text that never takes the keyboard, so the panel keeps getting the keys."""
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setPlaceholderText(placeholder)
    view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return view
