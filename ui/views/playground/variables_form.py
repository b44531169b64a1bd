"""A form for a template's variables, built from what the template declares.

Each kind of variable gets the widget a person expects: text boxes for text, a number box for
numbers, a drop-down for choices and an editable table for few-shot examples, prefilled from the
template's defaults and its library's example sets. A demo dataset row can fill the form at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.errors import PlaygroundError
from playground.prompts.collection import template_values
from playground.prompts.library import Library
from playground.prompts.templates import PromptTemplate, Variable
from ui.widgets.palette import ERROR_STYLE

EXAMPLE_FIELDS = ("input", "output", "rationale")
CUSTOM_SET = "(edited)"
SHORT_TEXT = 120

Index = QModelIndex | QPersistentModelIndex


def _suits(old: PromptTemplate | None, var: Variable, kept: Mapping[str, Any]) -> bool:
    """Whether a value typed for the old template still suits ``var`` (same name, same kind)."""
    if old is None or var.name not in kept:
        return False
    previous = old.variable(var.name)
    return previous is not None and previous.type == var.type


class _MultiLineDelegate(QStyledItemDelegate):
    """Example cells hold whole dialogues: edit them in a text box that keeps new lines."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Index) -> QWidget:
        editor = QPlainTextEdit(parent)
        editor.setTabChangesFocus(True)
        return editor

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QPlainTextEdit):
            editor.setPlainText(str(index.data(Qt.ItemDataRole.EditRole) or ""))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QPlainTextEdit):
            model.setData(index, editor.toPlainText(), Qt.ItemDataRole.EditRole)


class ExamplesEditor(QWidget):
    """Worked examples as a table (input, output, rationale) with add, remove and reorder;
    a drop-down loads one of the library's example sets."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet = False
        self.set_combo = QComboBox()
        self.set_combo.setToolTip("Load the examples of one of the library's example sets")
        self.set_combo.activated.connect(self._set_chosen)
        self._sets: dict[str, tuple[dict[str, str], ...]] = {}

        self.table = QTableWidget(0, len(EXAMPLE_FIELDS))
        self.table.setHorizontalHeaderLabels([f.capitalize() for f in EXAMPLE_FIELDS])
        self.table.setItemDelegate(_MultiLineDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(120)
        self.table.itemChanged.connect(self._edited)

        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.add_button.clicked.connect(self.add_example)
        self.remove_button.clicked.connect(self.remove_example)
        self.up_button.clicked.connect(lambda: self.move_example(-1))
        self.down_button.clicked.connect(lambda: self.move_example(1))
        self.table.itemSelectionChanged.connect(self._update_buttons)

        top = QHBoxLayout()
        top.addWidget(QLabel("Example set"))
        top.addWidget(self.set_combo, 1)
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_example_sets(self, sets: Mapping[str, Sequence[Mapping[str, str]]],
                         current: str | None) -> None:
        self._sets = {name: tuple(dict(e) for e in examples) for name, examples in sets.items()}
        self.set_combo.clear()
        self.set_combo.addItems(list(self._sets))
        self.set_combo.addItem(CUSTOM_SET)
        self.set_combo.setCurrentText(current if current in self._sets else CUSTOM_SET)

    def _set_chosen(self, index: int) -> None:
        name = self.set_combo.itemText(index)
        if name in self._sets:
            self.set_examples(self._sets[name])
            self.set_combo.setCurrentText(name)
            self.changed.emit()

    def examples(self) -> list[dict[str, str]]:
        result = []
        for row in range(self.table.rowCount()):
            example: dict[str, str] = {}
            for column, field in enumerate(EXAMPLE_FIELDS):
                item = self.table.item(row, column)
                text = item.text() if item is not None else ""
                if text or field != "rationale":
                    example[field] = text
            result.append(example)
        return result

    def set_examples(self, examples: Sequence[Mapping[str, Any]]) -> None:
        self._quiet = True
        try:
            self.table.setRowCount(0)
            for example in examples:
                self._append(example)
        finally:
            self._quiet = False
        self._update_buttons()
        matching = next((n for n, e in self._sets.items() if list(e) == self.examples()), None)
        self.set_combo.setCurrentText(matching or CUSTOM_SET)

    def _append(self, example: Mapping[str, Any]) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, field in enumerate(EXAMPLE_FIELDS):
            self.table.setItem(row, column, QTableWidgetItem(str(example.get(field, "") or "")))
        return row

    def add_example(self) -> None:
        row = self._append({"input": "", "output": ""})
        self.table.selectRow(row)
        self._edited()

    def remove_example(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self._edited()

    def move_example(self, step: int) -> None:
        row = self.table.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.table.rowCount():
            return
        examples = self.examples()
        examples[row], examples[target] = examples[target], examples[row]
        self.set_examples(examples)
        self.table.selectRow(target)
        self._edited()

    def _update_buttons(self) -> None:
        row = self.table.currentRow()
        selected = row >= 0 and bool(self.table.selectedItems())
        self.remove_button.setEnabled(selected)
        self.up_button.setEnabled(selected and row > 0)
        self.down_button.setEnabled(selected and row < self.table.rowCount() - 1)

    def _edited(self, *_: object) -> None:
        if self._quiet:
            return
        self._update_buttons()
        if self.set_combo.currentText() != CUSTOM_SET and \
                self.examples() != list(self._sets.get(self.set_combo.currentText(), ())):
            self.set_combo.setCurrentText(CUSTOM_SET)
        self.changed.emit()


class VariablesForm(QWidget):
    """One row per template variable. ``values_changed`` fires on every edit;
    ``references_offered`` carries a dataset row's reference texts when a row fills the form."""

    values_changed = Signal()
    references_offered = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._quiet = False
        self._template: PromptTemplate | None = None
        self._library: Library | None = None
        self.editors: dict[str, QWidget] = {}

        self.dataset_combo = QComboBox()
        self.dataset_combo.setToolTip("Fill the form with a row of the task's demo dataset")
        self.dataset_combo.activated.connect(self._row_chosen)
        self.dataset_row = QWidget()
        row_layout = QHBoxLayout(self.dataset_row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(QLabel("Fill from dataset row"))
        row_layout.addWidget(self.dataset_combo, 1)
        self.dataset_row.hide()

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        self.empty = QLabel("Choose a template to see its variables.")
        self.empty.setStyleSheet("color: palette(mid);")

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout = QVBoxLayout(self)
        layout.addWidget(self.dataset_row)
        layout.addWidget(self.message)
        layout.addWidget(self.empty)
        layout.addLayout(self.form)
        layout.addStretch(1)

    # -- building --------------------------------------------------------------------------

    @property
    def template(self) -> PromptTemplate | None:
        return self._template

    def set_template(
        self,
        library: Library | None,
        template: PromptTemplate,
        values: Mapping[str, Any] | None = None,
        *,
        keep: bool = False,
    ) -> None:
        """Rebuild the form for ``template``: defaults and example sets first, ``values`` on
        top; with ``keep``, variables that still exist keep what was typed in them."""
        old = self._template
        kept = self.values() if keep else {}
        self._quiet = True
        try:
            self._clear()
            self._template = template
            self._library = library
            self.empty.setVisible(not template.meta.variables)
            self.empty.setText("This template has no variables.")
            start, problem = self._start_values(library, template)
            same_kind = {v.name for v in template.meta.variables if _suits(old, v, kept)}
            merged = {**start, **{k: v for k, v in kept.items() if k in same_kind},
                      **(values or {})}
            for var in template.meta.variables:
                editor = self._editor_for(var, library)
                self.editors[var.name] = editor
                label = QLabel(var.name)
                label.setToolTip(var.help or f"{var.type} variable")
                editor.setToolTip(var.help)
                label.setBuddy(editor)
                self.form.addRow(label, editor)
                if var.name in merged:
                    self._set_value(var, editor, merged[var.name])
            self._fill_datasets(library, template)
            self.message.setText(problem or "")
            self.message.setVisible(problem is not None)
        finally:
            self._quiet = False
        self.values_changed.emit()

    @staticmethod
    def _start_values(
        library: Library | None, template: PromptTemplate
    ) -> tuple[dict[str, Any], str | None]:
        values: dict[str, Any] = {v.name: v.default for v in template.meta.variables
                                  if v.default is not None}
        if library is None:
            return values, None
        try:
            values.update(template_values(library, template))
        except PlaygroundError as exc:
            return values, str(exc)
        return values, None

    def _clear(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        self._template = None

    def _editor_for(self, var: Variable, library: Library | None) -> QWidget:
        if var.type == "number":
            spin = QDoubleSpinBox()
            spin.setRange(-1e9, 1e9)
            whole = var.default is None or isinstance(var.default, int)
            spin.setDecimals(0 if whole else 3)
            spin.valueChanged.connect(self._edited)
            return spin
        if var.type == "choice":
            combo = QComboBox()
            combo.addItems(list(var.choices))
            combo.currentIndexChanged.connect(self._edited)
            return combo
        if var.type == "examples":
            examples = ExamplesEditor()
            sets = {}
            if library is not None:
                task = self._template.meta.task if self._template is not None else ""
                ordered = sorted(library.example_sets, key=lambda s: (s.task != task, s.name))
                sets = {s.name: s.examples for s in ordered}
            assert self._template is not None
            wanted = var.default_set or self._template.meta.example_set
            examples.set_example_sets(sets, wanted)
            examples.changed.connect(self._edited)
            return examples
        default = var.default if isinstance(var.default, str) else ""
        if default and "\n" not in default and len(default) <= SHORT_TEXT:
            line = QLineEdit()
            line.textChanged.connect(self._edited)
            return line
        text = QPlainTextEdit()
        text.setTabChangesFocus(True)
        text.setMaximumHeight(110)
        text.setPlaceholderText(var.help)
        text.textChanged.connect(self._edited)
        return text

    def _fill_datasets(self, library: Library | None, template: PromptTemplate) -> None:
        self.dataset_combo.clear()
        dataset = None
        if library is not None and template.meta.task:
            dataset = next((d for d in library.datasets if d.task == template.meta.task), None)
        names = {v.name for v in template.meta.variables}
        if dataset is None or not any(names & set(row) for row in dataset.rows):
            self.dataset_row.hide()
            return
        self.dataset_combo.addItem("choose a row…")
        for n, row in enumerate(dataset.rows, 1):
            first = next((str(row[k]) for k in row if k in names), "")
            summary = " ".join(first.split())
            self.dataset_combo.addItem(f"{n}: {summary[:70]}", n)
        self.dataset_row.show()

    def _row_chosen(self, index: int) -> None:
        row = self.dataset_combo.itemData(index)
        if not isinstance(row, int) or self._template is None or self._library is None:
            return
        self.fill_from_row(row)
        self.dataset_combo.setCurrentIndex(0)

    def fill_from_row(self, row: int) -> None:
        """Values of demo dataset row ``row`` (1-based); offers its references."""
        if self._template is None or self._library is None:
            return
        try:
            values = template_values(self._library, self._template, row=row,
                                     values=self._examples_now())
        except PlaygroundError as exc:
            self.message.setText(str(exc))
            self.message.show()
            return
        self.set_values(values)
        dataset = next(d for d in self._library.datasets if d.task == self._template.meta.task)
        references = dataset.rows[row - 1].get("references", ())
        if isinstance(references, str):
            references = (references,)
        self.references_offered.emit(tuple(str(r) for r in references))

    def _examples_now(self) -> dict[str, Any]:
        """Examples as edited: filling a row must not undo changes to the example table."""
        current = self.values()
        assert self._template is not None
        return {v.name: current[v.name] for v in self._template.meta.variables
                if v.type == "examples" and v.name in current}

    # -- values ----------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        if self._template is None:
            return {}
        result: dict[str, Any] = {}
        for var in self._template.meta.variables:
            editor = self.editors.get(var.name)
            if editor is not None:
                result[var.name] = self._get_value(editor)
        return result

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Put ``values`` into the form (names it does not have are ignored)."""
        if self._template is None:
            return
        self._quiet = True
        try:
            for var in self._template.meta.variables:
                editor = self.editors.get(var.name)
                if editor is not None and var.name in values:
                    self._set_value(var, editor, values[var.name])
        finally:
            self._quiet = False
        self.values_changed.emit()

    @staticmethod
    def _get_value(editor: QWidget) -> Any:
        if isinstance(editor, QDoubleSpinBox):
            value = editor.value()
            return int(value) if float(value).is_integer() else value
        if isinstance(editor, QComboBox):
            return editor.currentText()
        if isinstance(editor, ExamplesEditor):
            return editor.examples()
        if isinstance(editor, QLineEdit):
            return editor.text()
        if isinstance(editor, QPlainTextEdit):
            return editor.toPlainText()
        return None

    @staticmethod
    def _set_value(var: Variable, editor: QWidget, value: Any) -> None:
        if isinstance(editor, QDoubleSpinBox):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                editor.setValue(float(value))
        elif isinstance(editor, QComboBox):
            index = editor.findText(str(value))
            if index >= 0:
                editor.setCurrentIndex(index)
        elif isinstance(editor, ExamplesEditor):
            if isinstance(value, (list, tuple)):
                editor.set_examples([e for e in value if isinstance(e, Mapping)])
        elif isinstance(editor, QLineEdit):
            editor.setText("" if value is None else str(value))
        elif isinstance(editor, QPlainTextEdit):
            editor.setPlainText("" if value is None else str(value))

    def _edited(self, *_: object) -> None:
        if not self._quiet:
            self.values_changed.emit()
