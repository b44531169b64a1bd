"""The "Output format" control of the Playground and of a Compare column: free text, any JSON, a
JSON Schema or a GBNF grammar, or the template's own when its header sets one.

A schema or grammar is typed into (or loaded by) a :class:`ConstraintDialog` and checked through
the core at once: a bad one shows the core's message under the control, and
:meth:`OutputFormat.constraint` raises it, so the run is refused with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground.errors import ConstraintError
from playground.output_constraint import (
    KIND_LABELS,
    ConstraintKind,
    OutputConstraint,
    make_constraint,
)
from ui.widgets.constraint_dialog import ConstraintDialog
from ui.widgets.palette import ERROR_STYLE

#: The default: the template's own constraint, or free text when it has none.
TEMPLATE = "template"
FREE = "free"
TYPED: tuple[ConstraintKind, ...] = ("json_schema", "grammar")
CHOICES: dict[str, str] = {FREE: "Free text", "json": "Any JSON",
                           "json_schema": "JSON Schema…", "grammar": "Grammar…"}
#: How a compact header names a constraint.
SHORT_LABELS: dict[ConstraintKind, str] = {"json": "any JSON", "json_schema": "JSON schema",
                                           "grammar": "grammar"}


def short_label(constraint: OutputConstraint | None) -> str:
    return "" if constraint is None else SHORT_LABELS[constraint.kind]


class OutputFormat(QWidget):
    """A combo box of output formats, Edit… for a schema or grammar, and a line saying what is
    chosen or what is wrong with it."""

    #: the chosen format, or its schema or grammar, changed
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: (kind) -> the file a person chose, or "" (tests replace it)
        self.choose_path = self._open_dialog
        self.dialog: ConstraintDialog | None = None
        self._template_output: OutputConstraint | None = None
        self._key = TEMPLATE
        self._texts: dict[str, tuple[str, str | None]] = {}
        self._error: str | None = None
        self._constraint: OutputConstraint | None = None

        self.combo = QComboBox()
        self.combo.setToolTip("What the output must be: free text, any JSON, JSON that follows "
                              "a schema, or text a grammar allows (enforced while sampling)")
        self.combo.setAccessibleName("Output format")
        # Six Compare columns share a small screen: the box does not ask for its longest entry.
        self.combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(6)
        self.edit_button = QToolButton()
        self.edit_button.setText("Edit…")
        self.edit_button.setToolTip("Edit the schema or grammar, or load it from a file")
        self.message = QLabel()
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Output"))
        row.addWidget(self.combo, 1)
        # Edit… sits under the box, beside what is chosen: a narrow column keeps the box wide.
        below = QHBoxLayout()
        below.setContentsMargins(0, 0, 0, 0)
        below.addWidget(self.message, 1)
        below.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addLayout(below)
        self._fill()
        self.combo.activated.connect(self._chosen)
        self.edit_button.clicked.connect(lambda: self._edit(self._key))

    # -- what is chosen ---------------------------------------------------------------------

    def constraint(self) -> OutputConstraint | None:
        """The output constraint chosen; raises ConstraintError when it cannot be used.

        Checked once when the choice changes (every change goes through ``_fill``), not on each
        read: headers read it on every keystroke of a variant's settings."""
        if self._error is not None:
            raise ConstraintError(self._error)
        return self._constraint

    def _chosen_constraint(self) -> OutputConstraint | None:
        if self._key == TEMPLATE:
            return self._template_output
        if self._key == FREE:
            return None
        if self._key == "json":
            return OutputConstraint("json")
        text, source = self._texts.get(self._key, ("", None))
        return make_constraint(self._key, text, source)

    def set_template_output(self, output: OutputConstraint | None, *,
                            reset: bool = False) -> None:
        """The template's own constraint (None: it has none); ``reset`` goes back to it."""
        if output == self._template_output and not reset:
            return  # every preview of the template says it again
        self._template_output = output
        if reset or (self._key == FREE and output is None):
            self._key = TEMPLATE
        self._fill()

    def show_constraint(self, output: OutputConstraint | None) -> None:
        """Show what a stored run or variant ran with."""
        if output == self._template_output:
            self._key = TEMPLATE
        elif output is None:
            self._key = FREE
        else:
            self._key = output.kind
            if output.kind in TYPED:
                self._texts[output.kind] = (output.text, output.source)
        self._fill()
        self.changed.emit()

    def state(self) -> dict[str, Any]:
        """What is kept with the view's settings."""
        return {"choice": self._key,
                "texts": {k: {"text": t, "source": s} for k, (t, s) in self._texts.items()}}

    def restore(self, state: Mapping[str, Any]) -> None:
        texts = state.get("texts")
        if isinstance(texts, Mapping):
            for kind, item in texts.items():
                if kind in TYPED and isinstance(item, Mapping):
                    source = item.get("source")
                    self._texts[kind] = (str(item.get("text") or ""),
                                         source if isinstance(source, str) else None)
        choice = state.get("choice")
        if choice in (TEMPLATE, *CHOICES):
            self._key = str(choice)
        self._fill()
        self.changed.emit()

    @property
    def error(self) -> str | None:
        """Why the chosen schema or grammar cannot be used, or None."""
        return self._error

    # -- the combo box and its line -------------------------------------------------------------

    def _fill(self) -> None:
        own = self._template_output
        items = [(TEMPLATE, f"Template's {KIND_LABELS[own.kind]}" if own else "Free text")]
        items += [(key, label) for key, label in CHOICES.items() if key != FREE or own]
        self.combo.blockSignals(True)
        self.combo.clear()
        for key, label in items:
            self.combo.addItem(label, key)
        if self._key == FREE and own is None:
            self._key = TEMPLATE
        self.combo.setCurrentIndex(max(self.combo.findData(self._key), 0))
        self.combo.blockSignals(False)
        self._check()

    def _check(self) -> None:
        self._error = None
        self._constraint = None
        self.edit_button.setVisible(self._key in TYPED)
        try:
            constraint = self._chosen_constraint()
        except ConstraintError as exc:
            self._error = str(exc)
            self._show(self._error, error=True)
            return
        self._constraint = constraint
        if self._key == TEMPLATE and constraint is not None:
            self._show("as the template's header sets it", error=False)
        elif self._key in TYPED and constraint is not None:
            self._show(constraint.label, error=False)
        else:
            self._show("", error=False)

    def _show(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "color: palette(mid);")
        self.message.setVisible(bool(text))

    def _chosen(self, index: int) -> None:
        key = str(self.combo.itemData(index))
        if key in TYPED:
            self._edit(key)
            return
        self._commit(key)

    def _commit(self, key: str) -> None:
        self._key = key
        self._fill()
        self.changed.emit()

    # -- the editor dialog ------------------------------------------------------------------------

    def _edit(self, key: str) -> None:
        kind: ConstraintKind = "grammar" if key == "grammar" else "json_schema"
        text, source = self._texts.get(kind, ("", None))
        dialog = ConstraintDialog(kind, text, source, self.choose_path, self)
        dialog.accepted.connect(lambda: self._edited(dialog))
        dialog.rejected.connect(self._fill)  # the combo box shows what is still chosen
        self.dialog = dialog
        dialog.open()

    def _edited(self, dialog: ConstraintDialog) -> None:
        self._texts[dialog.kind] = (dialog.text, dialog.source)
        self._commit(dialog.kind)

    def _open_dialog(self, kind: ConstraintKind) -> str:
        filters = ("JSON Schema (*.json);;All files (*)" if kind == "json_schema"
                   else "GBNF grammar (*.gbnf);;All files (*)")
        path, _ = QFileDialog.getOpenFileName(self, "Load the output format", "", filters)
        return path
