"""Two outputs side by side as one text: the words the second adds and the words it drops."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from playground.evaluation.exports import word_diff_html

# Qt's rich text has no <ins>/<del>; spans with the same look stand in for them.
INSERTED_STYLE = "background-color:#d4f7d4; color:#0b5d1e; text-decoration:underline;"
DELETED_STYLE = "background-color:#f7d4d4; color:#8a1020; text-decoration:line-through;"


def diff_html(a: str, b: str) -> str:
    """``word_diff_html`` in the subset of HTML a QTextBrowser renders."""
    body = word_diff_html(a, b)
    body = body.replace("<ins>", f'<span style="{INSERTED_STYLE}">').replace("</ins>", "</span>")
    body = body.replace("<del>", f'<span style="{DELETED_STYLE}">').replace("</del>", "</span>")
    return f'<div style="white-space:pre-wrap;">{body}</div>'


class DiffDialog(QDialog):
    """Choose two outputs; the browser shows the second against the first, word by word."""

    def __init__(self, outputs: Sequence[tuple[str, str]], first: int = 0, second: int = 1,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Word diff")
        self.resize(640, 420)
        self._outputs = list(outputs)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.first_combo = QComboBox()
        self.second_combo = QComboBox()
        for combo in (self.first_combo, self.second_combo):
            for label, _ in self._outputs:
                combo.addItem(label)
        row.addWidget(QLabel("Compare"))
        row.addWidget(self.first_combo, 1)
        row.addWidget(QLabel("with"))
        row.addWidget(self.second_combo, 1)
        layout.addLayout(row)
        legend = QLabel(f'<span style="{DELETED_STYLE}">only in the first</span> · '
                        f'<span style="{INSERTED_STYLE}">only in the second</span>')
        layout.addWidget(legend)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        layout.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        last = max(len(self._outputs) - 1, 0)
        self.first_combo.setCurrentIndex(min(max(first, 0), last))
        self.second_combo.setCurrentIndex(min(max(second, 0), last))
        self.first_combo.currentIndexChanged.connect(self._refresh)
        self.second_combo.currentIndexChanged.connect(self._refresh)
        self._refresh()

    def set_pair(self, first: int, second: int) -> None:
        self.first_combo.setCurrentIndex(first)
        self.second_combo.setCurrentIndex(second)
        self._refresh()

    def _refresh(self, *_: object) -> None:
        if not self._outputs:
            self.browser.setPlainText("There are no outputs to compare yet.")
            return
        a = self._outputs[self.first_combo.currentIndex()][1]
        b = self._outputs[self.second_combo.currentIndex()][1]
        if a == b:
            self.browser.setPlainText(a or "(both outputs are empty)")
            self.browser.append("\n— the two outputs are identical —")
            return
        self.browser.setHtml(diff_html(a, b))
