"""A column's own template values: one editor per variable, except the input variable (the
shared input or the dataset fills it) and example lists (the template's set fills them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QWidget

from playground.prompts.templates import PromptTemplate, Variable
from playground.runs.build import input_variable


class VariableForm(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, QWidget] = {}
        self._provided: set[str] = set()

    def build(self, template: PromptTemplate | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        if template is None:
            return
        shared = input_variable(template)
        for var in template.meta.variables:
            if var.name == shared or var.type == "examples":
                continue
            editor = self._editor(var)
            editor.setToolTip(var.help or var.name)
            self.editors[var.name] = editor
            editor.setEnabled(var.name not in self._provided)
            self.form.addRow(var.name, editor)
        self.setVisible(bool(self.editors))

    @staticmethod
    def _editor(var: Variable) -> QWidget:
        if var.type == "choice":
            combo = QComboBox()
            combo.addItems(list(var.choices))
            if var.default in var.choices:
                combo.setCurrentText(str(var.default))
            return combo
        if var.type == "number":
            spin = QDoubleSpinBox()
            spin.setRange(-1e9, 1e9)
            spin.setDecimals(2 if isinstance(var.default, float) else 0)
            if isinstance(var.default, (int, float)):
                spin.setValue(float(var.default))
            return spin
        edit = QLineEdit()
        if var.default is not None:
            edit.setText(str(var.default))
        edit.setPlaceholderText(var.help or var.name)
        return edit

    def set_provided(self, names: set[str]) -> None:
        """Variables a dataset fills for every row: their editors are disabled (ignored)."""
        self._provided = set(names)
        for name, editor in self.editors.items():
            provided = name in self._provided
            editor.setEnabled(not provided)
            if provided:
                editor.setToolTip("Filled by each row of the dataset")

    def values(self) -> dict[str, Any]:
        """The values shown (text left empty falls back to the template)."""
        values: dict[str, Any] = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QComboBox):
                values[name] = editor.currentText()
            elif isinstance(editor, QDoubleSpinBox):
                number = editor.value()
                values[name] = int(number) if float(number).is_integer() else number
            elif isinstance(editor, QLineEdit) and editor.text():
                values[name] = editor.text()
        return values

    def set_values(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            editor = self.editors.get(name)
            if isinstance(editor, QComboBox):
                editor.setCurrentText(str(value))
            elif isinstance(editor, QDoubleSpinBox) and isinstance(value, (int, float)):
                editor.setValue(float(value))
            elif isinstance(editor, QLineEdit) and isinstance(value, str):
                editor.setText(value)
