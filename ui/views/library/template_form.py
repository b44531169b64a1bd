"""A template's metadata as a form: one field per header key, the variables as a small table,
and a message under the field the core refused.

The form holds text only; turning it into the file's header (and back) is
``playground.prompts.template_fields``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.prompts.template_fields import (
    EMPTY_TEXT,
    VARIABLE_COLUMNS,
    FieldError,
    TemplateFields,
    VariableRow,
)
from playground.prompts.templates import TECHNIQUES, VARIABLE_TYPES
from ui.widgets.palette import ERROR_STYLE

_HEADERS = ("Name", "Type", "Default", "Description", "Choices", "Example set")
_TYPE_COLUMN = VARIABLE_COLUMNS.index("type")


def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


class TemplateForm(QWidget):
    #: a field was changed by the person
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filling = False
        self._output = ""
        self.name_edit = QLineEdit()
        self.technique_box = QComboBox()
        self.technique_box.setEditable(True)
        self.technique_box.addItems(["", *TECHNIQUES])
        self.task_edit = QLineEdit()
        self.task_edit.setPlaceholderText("sentiment, qa, summarization…")
        self.format_box = QComboBox()
        self.format_box.addItems(["text", "chat"])
        self.format_box.setToolTip("chat: the body marks turns with {{ role(\"user\") }}")
        self.example_set_edit = QLineEdit()
        self.example_set_edit.setPlaceholderText("an example set of the library")
        self.params_edit = QLineEdit()
        self.params_edit.setPlaceholderText("temperature: 0, max_tokens: 64")
        self.params_edit.setToolTip("The sampling settings the template starts with, as "
                                    "setting: value pairs separated by commas")
        self.description_edit = QPlainTextEdit()
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setFixedHeight(60)
        self.errors: dict[str, QLabel] = {}

        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        for label, key, widget in (
            ("Name", "name", self.name_edit), ("Technique", "technique", self.technique_box),
            ("Task", "task", self.task_edit), ("Format", "format", self.format_box),
            ("Example set", "example_set", self.example_set_edit),
            ("Settings", "params", self.params_edit),
            ("Description", "description", self.description_edit),
        ):
            form.addRow(label, self._with_error(key, widget))

        self.variables = QTableWidget(0, len(_HEADERS))
        self.variables.setHorizontalHeaderLabels(list(_HEADERS))
        default_header = self.variables.horizontalHeaderItem(VARIABLE_COLUMNS.index("default"))
        if default_header is not None:
            default_header.setToolTip(f"Empty: no default, the variable must be filled in. "
                                      f"{EMPTY_TEXT}: an optional text that is empty unless given.")
        self.variables.verticalHeader().hide()
        self.variables.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.variables.horizontalHeader().setStretchLastSection(True)
        self.variables.itemChanged.connect(lambda _item: self._changed())
        self.add_variable_button = QPushButton("Add Variable")
        self.add_variable_button.clicked.connect(self._add_variable)
        self.remove_variable_button = QPushButton("Remove Variable")
        self.remove_variable_button.clicked.connect(self._remove_variable)
        self.errors["variables"] = _error_label()
        variable_buttons = QHBoxLayout()
        variable_buttons.addWidget(QLabel("Variables"))
        variable_buttons.addStretch(1)
        variable_buttons.addWidget(self.add_variable_button)
        variable_buttons.addWidget(self.remove_variable_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addLayout(variable_buttons)
        layout.addWidget(self.variables, 1)
        layout.addWidget(self.errors["variables"])

        for line in (self.name_edit, self.task_edit, self.example_set_edit, self.params_edit):
            line.textEdited.connect(lambda _text: self._changed())
        self.technique_box.editTextChanged.connect(lambda _text: self._changed())
        self.format_box.currentTextChanged.connect(lambda _text: self._changed())
        self.description_edit.textChanged.connect(self._changed)

    def _with_error(self, key: str, widget: QWidget) -> QWidget:
        self.errors[key] = _error_label()
        box = QWidget()
        inner = QVBoxLayout(box)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(2)
        inner.addWidget(widget)
        inner.addWidget(self.errors[key])
        return box

    # -- filling and reading ------------------------------------------------------------------

    def set_fields(self, fields: TemplateFields, read_only: bool) -> None:
        self._filling = True
        self._output = fields.output  # no field of its own: kept as the header had it
        self.clear_errors()
        self.name_edit.setText(fields.name)
        self.technique_box.setEditText(fields.technique)
        self.task_edit.setText(fields.task)
        self.format_box.setCurrentText(fields.format)
        self.example_set_edit.setText(fields.example_set)
        self.params_edit.setText(fields.params)
        self.description_edit.setPlainText(fields.description)
        self.variables.setRowCount(0)
        for row in fields.variables:
            self._append(row)
        self.variables.resizeColumnsToContents()
        for column in range(self.variables.columnCount()):
            self.variables.setColumnWidth(column, min(self.variables.columnWidth(column), 220))
        for line in (self.name_edit, self.task_edit, self.example_set_edit, self.params_edit):
            line.setReadOnly(read_only)
        self.description_edit.setReadOnly(read_only)
        boxes = [self.variables.cellWidget(r, _TYPE_COLUMN) for r in range(len(fields.variables))]
        for widget in (self.technique_box, self.format_box, *boxes):
            if widget is not None:
                widget.setEnabled(not read_only)
        self.variables.setEditTriggers(
            QAbstractItemView.EditTrigger.NoEditTriggers if read_only
            else QAbstractItemView.EditTrigger.AllEditTriggers)
        for button in (self.add_variable_button, self.remove_variable_button):
            button.setVisible(not read_only)
        self._filling = False

    def fields(self) -> TemplateFields:
        """What the form holds now."""
        return TemplateFields(
            name=self.name_edit.text(), technique=self.technique_box.currentText(),
            task=self.task_edit.text(), description=self.description_edit.toPlainText(),
            format=self.format_box.currentText(), example_set=self.example_set_edit.text(),
            params=self.params_edit.text(),
            variables=tuple(self._row(r) for r in range(self.variables.rowCount())),
            output=self._output,
        )

    def _append(self, row: VariableRow) -> None:
        index = self.variables.rowCount()
        self.variables.insertRow(index)
        for column, key in enumerate(VARIABLE_COLUMNS):
            if column == _TYPE_COLUMN:
                box = QComboBox()
                box.addItems(list(VARIABLE_TYPES))
                if row.type not in VARIABLE_TYPES:
                    box.addItem(row.type)
                box.setCurrentText(row.type)
                box.currentTextChanged.connect(lambda _text: self._changed())
                self.variables.setCellWidget(index, column, box)
            else:
                self.variables.setItem(index, column, QTableWidgetItem(getattr(row, key)))

    def _row(self, index: int) -> VariableRow:
        def cell(column: int) -> str:
            item = self.variables.item(index, column)
            return item.text() if item is not None else ""

        box = self.variables.cellWidget(index, _TYPE_COLUMN)
        kind = box.currentText() if isinstance(box, QComboBox) else "text"
        values = {key: cell(c) for c, key in enumerate(VARIABLE_COLUMNS) if c != _TYPE_COLUMN}
        return VariableRow(type=kind, **values)

    # -- edits --------------------------------------------------------------------------------

    def _changed(self) -> None:
        if not self._filling:
            self.edited.emit()

    def _add_variable(self) -> None:
        self._append(VariableRow(""))
        row = self.variables.rowCount() - 1
        self.variables.setCurrentCell(row, 0)
        self._changed()

    def _remove_variable(self) -> None:
        row = self.variables.currentRow()
        if row >= 0:
            self.variables.removeRow(row)
            self._changed()

    # -- refusals -----------------------------------------------------------------------------

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.hide()
            label.clear()

    def show_error(self, error: FieldError) -> None:
        """The core's refusal under its field; a variable's row is selected."""
        label = self.errors.get(error.field)
        if label is None:
            return
        label.setText(str(error))
        label.show()
        if error.field == "variables" and error.row is not None:
            self.variables.setCurrentCell(error.row, 0)
