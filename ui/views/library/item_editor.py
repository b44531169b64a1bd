"""The Library tab's right side: what a library holds, a template's source, or an entry as a
table, editable in the person's own libraries.

Edits stay here until saved; the panel says whether there are any, and gives back the edited
entry for the core to check. Reading the cells back into an entry is ``tables``' rule.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.prompts import tables
from playground.prompts.collection import ENTRY_KINDS, KIND_LABELS, Entry, entries
from playground.prompts.formats import LibraryError
from playground.prompts.library import Dataset, ExampleSet, Library, Preset
from playground.prompts.template_fields import (
    FieldError,
    TemplateFields,
    join_template,
    split_template,
)
from playground.prompts.templates import PromptTemplate, parse_template
from playground.wording import plural
from ui.views.library.browser import GROUP_TITLES, Key
from ui.views.library.template_form import TemplateForm
from ui.widgets.highlighter import JinjaHighlighter
from ui.widgets.palette import ERROR_STYLE

_LIBRARY_PAGE, _TEMPLATE_PAGE, _TABLE_PAGE = range(3)


class ItemEditor(QStackedWidget):
    #: unsaved edits appeared or went away
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        #: the key of what is shown
        self.shown: Key | None = None
        self._read_only = True
        self._table_dirty = False
        self._template_loaded: tuple[TemplateFields, str] | None = None
        self.addWidget(self._library_page())
        self.addWidget(self._template_page())
        self.addWidget(self._table_page())

    def _library_page(self) -> QWidget:
        self.library_info = QLabel()
        self.library_info.setWordWrap(True)
        self.library_info.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.library_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.library_info)
        layout.addStretch(1)
        return page

    def _template_page(self) -> QWidget:
        self.template_info = QLabel()
        self.template_info.setWordWrap(True)
        self.template_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = TemplateForm()
        self.form.edited.connect(self.edited.emit)
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        form_scroll.setWidget(self.form)
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._highlighter = JinjaHighlighter(self.editor.document())
        self.editor.textChanged.connect(self.edited.emit)
        self.body_error = QLabel()
        self.body_error.setWordWrap(True)
        self.body_error.setStyleSheet(ERROR_STYLE)
        self.body_error.hide()
        self.form.errors["body"] = self.body_error
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(QLabel("Body (Jinja)"))
        body_layout.addWidget(self.editor, 1)
        body_layout.addWidget(self.body_error)
        self.template_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.template_splitter.addWidget(form_scroll)
        self.template_splitter.addWidget(body)
        self.template_splitter.setStretchFactor(1, 1)
        self.template_splitter.setSizes([430, 520])
        self.read_only_note = QLabel(
            "The built-in library is read-only: Duplicate copies this template into your own "
            "library, where it can be edited."
        )
        self.read_only_note.setWordWrap(True)
        self.save_button = QPushButton("Save")
        self.revert_button = QPushButton("Revert")
        buttons = QHBoxLayout()
        buttons.addWidget(self.read_only_note, 1)
        buttons.addStretch(0)  # keeps the buttons small while the note is hidden
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.template_info)
        layout.addWidget(self.template_splitter, 1)
        layout.addLayout(buttons)
        return page

    def _table_page(self) -> QWidget:
        self.table_info = QLabel()
        self.table_info.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setWordWrap(True)
        self.table.itemChanged.connect(lambda _item: self._table_edited())
        self.add_row_button = QPushButton("Add Row")
        self.add_row_button.clicked.connect(self._add_row)
        self.remove_row_button = QPushButton("Remove Row")
        self.remove_row_button.clicked.connect(self._remove_row)
        self.table_revert_button = QPushButton("Revert")
        self.table_save_button = QPushButton("Save")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_row_button)
        buttons.addWidget(self.remove_row_button)
        buttons.addStretch(1)
        buttons.addWidget(self.table_revert_button)
        buttons.addWidget(self.table_save_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.table_info)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        return page

    # -- what is shown ------------------------------------------------------------------------

    def dirty(self) -> bool:
        """Whether the shown entry has edits not yet saved."""
        if self.shown is None or self._read_only:
            return False
        if self.currentIndex() == _TEMPLATE_PAGE:
            return self._template_loaded != (self.form.fields(), self.editor.toPlainText())
        return self.currentIndex() == _TABLE_PAGE and self._table_dirty

    def may_leave(self, confirm: Callable[[str], bool]) -> bool:
        """Whether the shown entry may be replaced: unsaved edits are dropped only when the
        person says so."""
        if not self.dirty() or self.shown is None:
            return True
        return confirm(f"Discard the unsaved changes to {self.shown[2]!r}?")

    def enable(self, idle: bool) -> None:
        """Save while no other change is being written; Revert whenever there are edits."""
        dirty = self.dirty()
        for save in (self.save_button, self.table_save_button):
            save.setEnabled(idle and dirty)
        for revert in (self.revert_button, self.table_revert_button):
            revert.setEnabled(dirty)

    def show_library(self, key: Key | None, library: Library | None, where: str) -> None:
        self.shown = key
        self._read_only = True
        self.setCurrentIndex(_LIBRARY_PAGE)
        if library is None:
            self.library_info.setText("Choose a library or an item on the left.")
            return
        self.library_info.setText(
            f"<h3>{html.escape(library.name)}</h3><p>{html.escape(library.description)}</p>"
            f"<p>{contents(library)}</p><p>{html.escape(where)}</p>"
        )

    def show_entry(self, key: Key, entry: Entry, read_only: bool) -> None:
        self.shown = key
        self._read_only = read_only
        if isinstance(entry, PromptTemplate):
            self._show_template(entry)
        elif isinstance(entry, ExampleSet):
            self._show_example_set(entry)
        elif isinstance(entry, Preset):
            self._show_preset(entry)
        else:
            self._show_dataset(entry)

    def edited_entry(self, entry: Entry) -> Entry:
        """The shown entry as edited, under its own name; raises the core's error when the
        edit is not valid."""
        if isinstance(entry, PromptTemplate):
            self.form.clear_errors()
            try:
                source = join_template(split_template(entry.source, entry.id),
                                       self.form.fields(), self.editor.toPlainText(), entry.id)
            except FieldError as exc:
                self.form.show_error(exc)
                raise
            return parse_template(source, entry.id)
        if isinstance(entry, (ExampleSet, Preset)):
            return tables.edited(entry, self._rows())
        raise LibraryError(f"a {KIND_LABELS['dataset']} cannot be edited here")

    def _show_template(self, template: PromptTemplate) -> None:
        self.setCurrentIndex(_TEMPLATE_PAGE)
        parts = split_template(template.source, template.id)
        undeclared = [v.name for v in template.meta.variables
                      if v.name not in {row.name for row in parts.fields.variables}]
        info = f"Template <b>{html.escape(template.id)}</b>"
        if not self._read_only:
            info += " (Rename changes its id)"
        if undeclared:
            info += (" · the body also reads " + html.escape(", ".join(undeclared))
                     + " (text unless described below)")
        self.template_info.setText(info)
        self.form.set_fields(parts.fields, self._read_only)
        self.editor.blockSignals(True)
        self.editor.setPlainText(parts.body)
        self.editor.blockSignals(False)
        self._template_loaded = (self.form.fields(), self.editor.toPlainText())
        self.editor.setReadOnly(self._read_only)
        self.read_only_note.setVisible(self._read_only)
        self.save_button.setVisible(not self._read_only)
        self.revert_button.setVisible(not self._read_only)

    def _show_example_set(self, example_set: ExampleSet) -> None:
        rows = tables.example_rows(example_set)
        task = f" for the task {example_set.task!r}" if example_set.task else ""
        self.table_info.setText(
            f"Example set {example_set.name!r}{task}: {len(rows)} examples. "
            + ("" if self._read_only
               else "Edit the cells, then Save; an empty rationale is left out.")
        )
        self._fill_table(tables.EXAMPLE_COLUMNS, rows, not self._read_only)

    def _show_preset(self, preset: Preset) -> None:
        self.table_info.setText(
            f"Preset {preset.name!r}: the sampling settings it changes. "
            + ("" if self._read_only
               else "Values are read as YAML: 0.7, 40, [\"\\n\\n\"] for stop.")
        )
        self._fill_table(tables.PRESET_COLUMNS, tables.preset_rows(preset), not self._read_only)

    def _show_dataset(self, dataset: Dataset) -> None:
        self._read_only = True
        headers, rows = tables.dataset_table(dataset)
        task = f" for the task {dataset.task!r}" if dataset.task else ""
        self.table_info.setText(f"Dataset {dataset.name!r}{task}: {plural(len(rows), 'row')}.")
        self._fill_table(headers, rows, False)

    # -- the table ----------------------------------------------------------------------------

    def _fill_table(
        self, headers: Sequence[str], rows: Sequence[Sequence[str]], editable: bool
    ) -> None:
        self.setCurrentIndex(_TABLE_PAGE)
        self.table.blockSignals(True)
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(list(headers))
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.AllEditTriggers if editable
            else QAbstractItemView.EditTrigger.NoEditTriggers
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.resizeColumnsToContents()
        for column in range(self.table.columnCount()):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 420))
        self.table.resizeRowsToContents()
        self.table.blockSignals(False)
        self._table_dirty = False
        for button in (self.add_row_button, self.remove_row_button, self.table_save_button,
                       self.table_revert_button):
            button.setVisible(editable)

    def _rows(self) -> list[list[str]]:
        def cell(row: int, column: int) -> str:
            item = self.table.item(row, column)
            return item.text() if item is not None else ""

        return [[cell(r, c) for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]

    def _table_edited(self) -> None:
        self._table_dirty = True
        self.edited.emit()

    def _add_row(self) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setCurrentCell(row, 0)
        self._table_edited()

    def _remove_row(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self._table_edited()


def contents(library: Library) -> str:
    """How many entries of each kind, as the tree's groups name them."""
    return ", ".join(
        f"{len(entries(library, kind))} {GROUP_TITLES[kind].lower()}" for kind in ENTRY_KINDS
    )
