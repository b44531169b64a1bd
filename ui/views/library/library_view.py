"""The Library tab: every library the app knows, what is in each, and the edits, imports and
exports that keep them useful.

The built-in library is read-only, so that it always matches the app; people change prompts in
their own libraries (Duplicate copies a built-in item there). Every change is checked by the core
before it is written, so a saved library always loads again, and the disk work (saving, reading
the collection back, importing, exporting) runs as a background task: the collection alone
takes longer to read than a frame lasts.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QFont, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.errors import PlaygroundError
from playground.prompts.collection import (
    BUILTIN,
    ENTRY_KINDS,
    KIND_LABELS,
    Collection,
    Entry,
    EntryKind,
    copy_entry,
    create_library,
    entries,
    entry_name,
    find_entry,
    free_name,
    library_path,
    load_collection,
    new_entry,
    put_entry,
    read_import,
    remove_entry,
    rename_entry,
    save_library,
    uninstall,
)
from playground.prompts.formats import ItemReport, LibraryError, load_yaml_strict
from playground.prompts.interop.llm import LlmImport
from playground.prompts.interop.promptfoo import export_promptfoo as promptfoo_config
from playground.prompts.library import (
    Dataset,
    ExampleSet,
    ImportReport,
    Library,
    Preset,
    write_library,
)
from playground.prompts.templates import PromptTemplate, is_partial, parse_template
from ui.context import AppContext
from ui.views.library.import_report import ImportReportDialog, whole_file_row
from ui.widgets.highlighter import JinjaHighlighter

#: (library name, kind, entry name): kind is "library", "group" (name = the entry kind) or an
#: entry kind
Key = tuple[str, str, str]
DEFAULT_LIBRARY = "My library"
FORMATS = {"json": ".json", "yaml": ".yaml"}
_KEY_ROLE = Qt.ItemDataRole.UserRole
_GROUP_TITLES: dict[EntryKind, str] = {
    "template": "Templates",
    "example_set": "Example sets",
    "preset": "Presets",
    "dataset": "Datasets",
}
_EDITABLE_TABLES: tuple[EntryKind, ...] = ("example_set", "preset")
_ERROR_STYLE = "color: #b41e1e;"


@dataclasses.dataclass(frozen=True)
class _Refused:
    """An import the core refused, with the per-item report when the file could be parsed."""

    message: str
    report: tuple[ItemReport, ...]


def _read_job(path: Path) -> Iterator[ImportReport | LlmImport | _Refused]:
    try:
        yield read_import(path)
    except LibraryError as exc:
        yield _Refused(str(exc), exc.report)


def _change_job(work: Callable[[], object], folder: Path | None) -> Iterator[Collection]:
    """Apply one change on disk, then read the collection back for the tree."""
    work()
    yield load_collection(folder)


def _load_job(folder: Path | None) -> Iterator[Collection]:
    yield load_collection(folder)


def _write_job(path: Path, produce: Callable[[], str]) -> Iterator[Path]:
    text = produce()
    path.write_text(text, encoding="utf-8")
    yield path


def _summary(entry: Entry) -> str:
    """The second column of the tree: what a person needs to tell entries apart."""
    if isinstance(entry, PromptTemplate):
        parts = [entry.meta.name]
        if entry.meta.technique:
            parts.append(entry.meta.technique)
        if is_partial(entry):
            parts.append("partial, included by other templates")
        return " · ".join(parts)
    if isinstance(entry, ExampleSet):
        return f"{len(entry.examples)} examples" + (f" · {entry.task}" if entry.task else "")
    if isinstance(entry, Preset):
        return ", ".join(f"{k}={v}" for k, v in entry.params.items()) or "no settings"
    return f"{len(entry.rows)} rows" + (f" · {entry.task}" if entry.task else "")


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


class LibraryView(QWidget):
    #: the tree shows a freshly read collection (after a change, an import or startup)
    refreshed = Signal()
    #: an action was refused or failed; the message is also shown under the tree
    failed = Signal(str)
    #: an import ended: True when something was installed; the report dialog is open
    import_finished = Signal(bool)
    #: a file was written by an export
    exported = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        # Questions to the person, replaceable so that tests (and scripts) can answer them.
        self.confirm: Callable[[str], bool] = self._ask_yes_no
        self.ask_replace: Callable[[str], bool] = self._ask_yes_no
        self.ask_name: Callable[[str, str, str], str | None] = self._ask_text
        self.choose_open_path: Callable[[], str] = self._open_dialog
        self.choose_save_path: Callable[[str, str, str], tuple[str, str]] = self._save_dialog
        self.report_dialog: ImportReportDialog | None = None

        self._collection = context.collection()
        self._busy = 0
        self._reload_pending = False
        self._emitting = False
        self._shown: Key | None = None
        self._table_dirty = False
        self._last_user_library = str(context.settings.value("library/last_user_library", ""))

        self._build_actions()
        self._build_ui()
        self._populate(self._collection)
        self._restore(context.settings)
        context.library_changed.connect(self._library_changed_elsewhere)
        self._update_actions()

    # -- building -----------------------------------------------------------------------------

    def _action(
        self, text: str, slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        *, local: bool = False, tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if local:
            # Only while the Library tab has focus: Delete and F2 mean other things elsewhere.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        return action

    def _build_actions(self) -> None:
        self.import_action = self._action(
            "&Import Library…", self._import_dialog, "Ctrl+I",
            tip="Import a library (JSON or YAML) or an llm template",
        )
        self.export_action = self._action(
            "&Export Library…", self._export_dialog, "Ctrl+E",
            tip="Write the selected library as JSON or YAML",
        )
        self.promptfoo_action = self._action(
            "Export for &promptfoo…", self._promptfoo_dialog,
            tip="Write a promptfoo configuration for templates of the selected library",
        )
        self.new_library_action = self._action(
            "&New Library…", self.new_library, tip="Create an empty library of your own"
        )
        self.new_actions: dict[EntryKind, QAction] = {
            kind: self._action(
                f"New {KIND_LABELS[kind].capitalize()}…", functools.partial(self.new_item, kind)
            )
            for kind in ("template", "example_set", "preset")
        }
        self.duplicate_action = self._action(
            "&Duplicate", self.duplicate, "Ctrl+D", local=True,
            tip="Copy the item (a built-in one goes into your library)",
        )
        self.rename_action = self._action("&Rename…", self.rename, "F2", local=True)
        self.delete_action = self._action(
            "De&lete", self.delete, QKeySequence.StandardKey.Delete, local=True
        )
        self.save_action = self._action(
            "&Save", self.save_edit, QKeySequence.StandardKey.Save, local=True
        )

    def _tool_button(self, action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _build_ui(self) -> None:
        new_menu = QMenu(self)
        for action in self.new_actions.values():
            new_menu.addAction(action)
        new_menu.addSeparator()
        new_menu.addAction(self.new_library_action)
        self.new_button = QToolButton()
        self.new_button.setText("New")
        self.new_button.setMenu(new_menu)
        self.new_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)

        self.duplicate_button = self._tool_button(self.duplicate_action)
        self.rename_button = self._tool_button(self.rename_action)
        self.delete_button = self._tool_button(self.delete_action)
        self.import_button = self._tool_button(self.import_action)
        self.export_button = self._tool_button(self.export_action)
        self.promptfoo_button = self._tool_button(self.promptfoo_action)
        bar = QHBoxLayout()
        for button in (self.new_button, self.duplicate_button, self.rename_button,
                       self.delete_button):
            bar.addWidget(button)
        bar.addStretch(1)
        for button in (self.import_button, self.export_button, self.promptfoo_button):
            bar.addWidget(button)

        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.setStyleSheet(_ERROR_STYLE)

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Item", "Details"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setColumnWidth(0, 260)
        self.tree.currentItemChanged.connect(self._current_changed)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.filter)
        left_layout.addWidget(self.tree, 1)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_library_page())
        self.pages.addWidget(self._build_template_page())
        self.pages.addWidget(self._build_table_page())

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.pages)
        self.splitter.setStretchFactor(1, 2)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.problems)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.message)

    def _build_library_page(self) -> QWidget:
        self.library_info = QLabel()
        self.library_info.setWordWrap(True)
        self.library_info.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.library_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.library_info)
        layout.addStretch(1)
        return page

    def _build_template_page(self) -> QWidget:
        self.template_info = QLabel()
        self.template_info.setWordWrap(True)
        self.template_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.editor = QPlainTextEdit()
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._highlighter = JinjaHighlighter(self.editor.document())
        self.editor.modificationChanged.connect(lambda _: self._update_actions())
        self.read_only_note = QLabel(
            "The built-in library is read-only: Duplicate copies this template into your own "
            "library, where it can be edited."
        )
        self.read_only_note.setWordWrap(True)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save_edit)
        self.revert_button = QPushButton("Revert")
        self.revert_button.clicked.connect(self.revert_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.read_only_note, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.template_info)
        layout.addWidget(self.editor, 1)
        layout.addLayout(buttons)
        return page

    def _build_table_page(self) -> QWidget:
        self.table_info = QLabel()
        self.table_info.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setWordWrap(True)
        self.table.itemChanged.connect(self._table_edited)
        self.add_row_button = QPushButton("Add Row")
        self.add_row_button.clicked.connect(self._add_row)
        self.remove_row_button = QPushButton("Remove Row")
        self.remove_row_button.clicked.connect(self._remove_row)
        self.table_revert_button = QPushButton("Revert")
        self.table_revert_button.clicked.connect(self.revert_edit)
        self.table_save_button = QPushButton("Save")
        self.table_save_button.clicked.connect(self.save_edit)
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

    # -- the window's hooks -------------------------------------------------------------------

    def file_actions(self) -> list[QAction]:
        return [self.import_action, self.export_action, self.promptfoo_action,
                self.new_library_action]

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("library/splitter", self.splitter.saveState())
        settings.setValue("library/last_user_library", self._last_user_library)

    def _restore(self, settings: QSettings) -> None:
        state = settings.value("library/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
        else:
            self.splitter.setSizes([380, 720])

    # -- the tree -----------------------------------------------------------------------------

    def collection(self) -> Collection:
        """What the tree shows (the context's copy may be re-read lazily)."""
        return self._collection

    def _populate(self, collection: Collection, select: Key | None = None) -> None:
        collapsed = self._collapsed_keys()
        wanted = select or self.selected_key()
        self._collection = collection
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            for library in collection.libraries:
                self._add_library(library, collapsed)
        finally:
            self.tree.blockSignals(False)
        self._show_problems(collection.problems)
        self._apply_filter(self.filter.text())
        item = self.item_for(wanted) if wanted else None
        if item is None and wanted is not None:
            item = self.item_for((wanted[0], "library", ""))
        if item is None and self.tree.topLevelItemCount():
            item = self.tree.topLevelItem(0)
        if item is not None:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.blockSignals(False)
            self.tree.scrollToItem(item)
        self._show(self.selected_key(), force=select is not None)
        self._update_actions()

    def _add_library(self, library: Library, collapsed: set[Key] | None) -> None:
        """One library with a group per kind; what the person folded stays folded, and at
        first only the built-in templates are unfolded so the libraries below stay in view."""
        read_only = library.name == BUILTIN
        node = QTreeWidgetItem([library.name + ("  (read-only)" if read_only else ""),
                                library.description])
        key: Key = (library.name, "library", "")
        node.setData(0, _KEY_ROLE, key)
        font = QFont(node.font(0))
        font.setBold(True)
        node.setFont(0, font)
        self.tree.addTopLevelItem(node)
        for kind in ENTRY_KINDS:
            items = entries(library, kind)
            group = QTreeWidgetItem([f"{_GROUP_TITLES[kind]} ({len(items)})", ""])
            group_key: Key = (library.name, "group", kind)
            group.setData(0, _KEY_ROLE, group_key)
            node.addChild(group)
            for entry in items:
                name = entry_name(entry)
                child = QTreeWidgetItem([name, _summary(entry)])
                child.setData(0, _KEY_ROLE, (library.name, kind, name))
                child.setToolTip(0, name)
                child.setToolTip(1, _summary(entry))
                if isinstance(entry, PromptTemplate) and is_partial(entry):
                    italic = QFont(child.font(0))
                    italic.setItalic(True)
                    child.setFont(0, italic)
                group.addChild(child)
            if collapsed is None:
                group.setExpanded(not read_only or kind == "template")
            else:
                group.setExpanded(group_key not in collapsed)
        node.setExpanded(collapsed is None or key not in collapsed)

    def _libraries_nodes(self) -> list[QTreeWidgetItem]:
        root = self.tree.invisibleRootItem()
        return _children(root)

    def _collapsed_keys(self) -> set[Key] | None:
        nodes = self._libraries_nodes()
        if not nodes:
            return None
        keys: set[Key] = set()
        for node in nodes:
            for item in (node, *_children(node)):
                if not item.isExpanded():
                    keys.add(item.data(0, _KEY_ROLE))
        return keys

    def _all_items(self) -> Iterator[QTreeWidgetItem]:
        for node in self._libraries_nodes():
            yield node
            for group in _children(node):
                yield group
                yield from _children(group)

    def item_for(self, key: Key) -> QTreeWidgetItem | None:
        """The tree row of a library, group or entry."""
        return next((i for i in self._all_items() if i.data(0, _KEY_ROLE) == key), None)

    def selected_key(self) -> Key | None:
        item = self.tree.currentItem()
        key: Key | None = item.data(0, _KEY_ROLE) if item is not None else None
        return key

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for node in self._libraries_nodes():
            node_visible = False
            for group in _children(node):
                group_visible = False
                for child in _children(group):
                    match = not needle or any(
                        needle in child.text(column).casefold() for column in (0, 1)
                    )
                    child.setHidden(not match)
                    group_visible = group_visible or match
                group.setHidden(bool(needle) and not group_visible)
                if needle and group_visible:
                    group.setExpanded(True)
                node_visible = node_visible or group_visible
            node.setHidden(bool(needle) and not node_visible)
            if needle and node_visible:
                node.setExpanded(True)

    def _show_problems(self, problems: Sequence[str]) -> None:
        if not problems:
            self.problems.hide()
            self.problems.clear()
            return
        lines = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        self.problems.setText(
            f"<b>{len(problems)} installed library file(s) could not be read and are not "
            f"shown</b> (fix or remove them in {html.escape(str(self._folder()))}):<ul>{lines}</ul>"
        )
        self.problems.show()

    # -- what is selected ---------------------------------------------------------------------

    def _library(self, name: str) -> Library | None:
        return next((lib for lib in self._collection.libraries if lib.name == name), None)

    def _entry(self, key: Key) -> tuple[Library, EntryKind, Entry] | None:
        library = self._library(key[0])
        if library is None or key[1] not in ENTRY_KINDS:
            return None
        kind: EntryKind = key[1]
        entry = find_entry(library, kind, key[2])
        return (library, kind, entry) if entry is not None else None

    def selected_library(self) -> Library | None:
        key = self.selected_key()
        return self._library(key[0]) if key else None

    def _dirty(self) -> bool:
        if self._shown is None or self._shown[0] == BUILTIN:
            return False
        if self._shown[1] == "template":
            return self.editor.document().isModified()
        return self._table_dirty

    def _current_changed(
        self, current: QTreeWidgetItem | None, previous: QTreeWidgetItem | None
    ) -> None:
        key = current.data(0, _KEY_ROLE) if current is not None else None
        if (
            self._dirty() and key != self._shown and previous is not None and self._shown
            and not self.confirm(f"Discard the unsaved changes to {self._shown[2]!r}?")
        ):
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(previous)
            self.tree.blockSignals(False)
            return
        if key is not None and key[0] != BUILTIN:
            self._last_user_library = key[0]
        self._show(key, force=True)
        self._update_actions()

    def _show(self, key: Key | None, *, force: bool = False) -> None:
        """Fill the right-hand page; an item with unsaved edits is left alone unless asked."""
        if not force and key == self._shown and self._dirty():
            return
        self._shown = key
        found = self._entry(key) if key else None
        if found is None:
            library = self._library(key[0]) if key else None
            self._show_library(library)
            return
        library, _, entry = found
        read_only = library.name == BUILTIN
        if isinstance(entry, PromptTemplate):
            self._show_template(entry, read_only)
        elif isinstance(entry, ExampleSet):
            self._show_example_set(entry, read_only)
        elif isinstance(entry, Preset):
            self._show_preset(entry, read_only)
        else:
            self._show_dataset(entry)

    def _show_library(self, library: Library | None) -> None:
        self.pages.setCurrentIndex(0)
        if library is None:
            self.library_info.setText("Choose a library or an item on the left.")
            return
        counts = ", ".join(
            f"{len(entries(library, kind))} {_GROUP_TITLES[kind].lower()}" for kind in ENTRY_KINDS
        )
        where = (
            "Shipped with the app, read-only: Duplicate copies an item into your own library."
            if library.name == BUILTIN
            else f"Installed in {self._folder()}."
        )
        self.library_info.setText(
            f"<h3>{html.escape(library.name)}</h3><p>{html.escape(library.description)}</p>"
            f"<p>{counts}</p><p>{html.escape(where)}</p>"
        )

    def _show_template(self, template: PromptTemplate, read_only: bool) -> None:
        self.pages.setCurrentIndex(1)
        meta = template.meta
        facts = [meta.technique, meta.task and f"task: {meta.task}", f"format: {meta.format}"]
        variables = ", ".join(
            f"{v.name} ({v.type}{', set: ' + v.default_set if v.default_set else ''})"
            for v in meta.variables
        ) or "none"
        params = ", ".join(f"{k}={v}" for k, v in meta.params.items())
        lines = [
            f"<b>{html.escape(meta.name)}</b> ({html.escape(template.id)}) · "
            + html.escape(" · ".join(f for f in facts if f)),
            html.escape(meta.description),
            f"Variables: {html.escape(variables)}",
        ]
        if params:
            lines.append(f"Settings: {html.escape(params)}")
        if meta.example_set:
            lines.append(f"Example set: {html.escape(meta.example_set)}")
        self.template_info.setText("<br>".join(line for line in lines if line))
        self.editor.setPlainText(template.source)
        self.editor.document().setModified(False)
        self.editor.setReadOnly(read_only)
        self.read_only_note.setVisible(read_only)
        self.save_button.setVisible(not read_only)
        self.revert_button.setVisible(not read_only)

    def _fill_table(
        self, headers: Sequence[str], rows: Sequence[Sequence[str]], editable: bool
    ) -> None:
        self.pages.setCurrentIndex(2)
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

    def _show_example_set(self, example_set: ExampleSet, read_only: bool) -> None:
        headers = ["input", "output", "rationale"]
        rows = [[e["input"], e["output"], e.get("rationale", "")] for e in example_set.examples]
        task = f" for the task {example_set.task!r}" if example_set.task else ""
        self.table_info.setText(
            f"Example set {example_set.name!r}{task}: {len(rows)} examples. "
            + ("" if read_only else "Edit the cells, then Save; an empty rationale is left out.")
        )
        self._fill_table(headers, rows, not read_only)

    def _show_preset(self, preset: Preset, read_only: bool) -> None:
        rows = [[key, _param_text(value)] for key, value in preset.params.items()]
        self.table_info.setText(
            f"Preset {preset.name!r}: the sampling settings it changes. "
            + ("" if read_only else "Values are read as YAML: 0.7, 40, [\"\\n\\n\"] for stop.")
        )
        self._fill_table(["setting", "value"], rows, not read_only)

    def _show_dataset(self, dataset: Dataset) -> None:
        names: list[str] = []
        for row in dataset.rows:
            names.extend(k for k in row if k != "references" and k not in names)
        headers = [*names, "references"]
        rows = [
            [_value_text(row.get(name, "")) for name in names]
            + [" | ".join(row.get("references") or [])]
            for row in dataset.rows
        ]
        task = f" for the task {dataset.task!r}" if dataset.task else ""
        self.table_info.setText(f"Dataset {dataset.name!r}{task}: {len(rows)} rows.")
        self._fill_table(headers, rows, False)

    def _table_edited(self, _item: QTableWidgetItem) -> None:
        self._table_dirty = True
        self._update_actions()

    def _add_row(self) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setCurrentCell(row, 0)
        self._table_edited(QTableWidgetItem())

    def _remove_row(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)
        if rows:
            self._table_edited(QTableWidgetItem())

    def _update_actions(self) -> None:
        key = self.selected_key()
        idle = self._busy == 0
        is_entry = key is not None and self._entry(key) is not None
        user = key is not None and key[0] != BUILTIN
        library = self.selected_library()
        self.duplicate_action.setEnabled(idle and is_entry)
        self.rename_action.setEnabled(idle and is_entry and user)
        self.delete_action.setEnabled(
            idle and user and (is_entry or (key is not None and key[1] == "library"))
        )
        for action in self.new_actions.values():
            action.setEnabled(idle)
        self.new_library_action.setEnabled(idle)
        self.import_action.setEnabled(idle)
        self.export_action.setEnabled(library is not None)
        self.promptfoo_action.setEnabled(
            library is not None and any(not is_partial(t) for t in library.templates)
        )
        dirty = self._dirty()
        self.save_action.setEnabled(idle and dirty)
        self.save_button.setEnabled(idle and dirty)
        self.revert_button.setEnabled(dirty)
        self.table_save_button.setEnabled(idle and dirty)
        self.table_revert_button.setEnabled(dirty)

    # -- messages -----------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        self.message.setStyleSheet(_ERROR_STYLE)
        self.message.setText(message)
        self.failed.emit(message)

    def _info(self, message: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(message)
        self.context.status.emit(message)

    def _ask_yes_no(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Library", question)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_text(self, title: str, label: str, suggestion: str) -> str | None:
        text, ok = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Normal, suggestion)
        return text.strip() if ok and text.strip() else None

    def _last_dir(self) -> str:
        return str(self.context.settings.value("library/last_dir", str(Path.home())))

    def _remember_dir(self, path: str) -> None:
        self.context.settings.setValue("library/last_dir", str(Path(path).parent))

    def _open_dialog(self) -> str:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import Library", self._last_dir(),
            "Libraries and llm templates (*.json *.yaml *.yml);;All files (*)",
        )
        return path

    def _save_dialog(self, caption: str, suggested: str, filters: str) -> tuple[str, str]:
        path, chosen = QFileDialog.getSaveFileName(
            self, caption, str(Path(self._last_dir()) / suggested), filters
        )
        return path, chosen

    # -- saving -------------------------------------------------------------------------------

    def _folder(self) -> Path:
        return self.context.libraries_dir or library_path("x").parent

    def _run_change(self, work: Callable[[], object], select: Key, done: str) -> None:
        """Write one change in a task, then show and announce the collection read back."""
        self._start(
            _change_job, work, self.context.libraries_dir,
            on_event=lambda collection: self._changed(collection, select, done),
            on_error=self._fail,
        )

    def _start(self, func: Callable[..., Iterator[Any]], *args: Any,
               on_event: Callable[[Any], None], on_error: Callable[[str], None]) -> None:
        """Run a one-result job; the view is idle again before the result is handled, so
        that whatever the result starts (a save after an import) can run at once."""
        self._busy += 1
        self._update_actions()
        ended = False

        def end() -> None:
            nonlocal ended
            if not ended:
                ended = True
                self._busy -= 1
                self._update_actions()

        def result(value: Any) -> None:
            end()
            on_event(value)

        def error(message: str) -> None:
            end()
            on_error(message)

        def done() -> None:
            end()
            if self._reload_pending and self._busy == 0:
                self._reload_pending = False
                self._reload()

        self.context.tasks.start(func, *args, on_event=result, on_error=error, on_done=done)

    def _changed(self, collection: Collection, select: Key, done: str) -> None:
        if select[0] != BUILTIN:
            self._last_user_library = select[0]
        self._populate(collection, select)
        self._info(done)
        self._emitting = True
        try:
            self.context.update_collection(collection)
        finally:
            self._emitting = False
        self.refreshed.emit()

    def _library_changed_elsewhere(self) -> None:
        if self._emitting:
            return
        if self._busy:
            self._reload_pending = True
        else:
            self._reload()

    def _reload(self) -> None:
        self._start(_load_job, self.context.libraries_dir, on_event=self._reloaded,
                    on_error=self._fail)

    def _reloaded(self, collection: Collection) -> None:
        self._populate(collection)
        self.refreshed.emit()

    def _save(self, library: Library, select: Key, done: str) -> None:
        folder = self.context.libraries_dir
        self._run_change(lambda: save_library(library, folder), select, done)

    def _target_library(self) -> Library:
        """Where a copy or a new item goes: the selected user library, else the one last used,
        else the first installed one, else a new "My library" (created when it is saved)."""
        key = self.selected_key()
        for name in (key[0] if key else "", self._last_user_library):
            library = self._library(name) if name and name != BUILTIN else None
            if library is not None:
                return library
        users = [lib for lib in self._collection.libraries if lib.name != BUILTIN]
        return users[0] if users else Library(DEFAULT_LIBRARY, "")

    def _may_leave(self) -> bool:
        """Whether the shown item may be replaced: an action that selects another item would
        otherwise drop unsaved edits without a word."""
        if not self._dirty() or self._shown is None:
            return True
        return self.confirm(f"Discard the unsaved changes to {self._shown[2]!r}?")

    def _guard(self, step: Callable[[], None], *, leaving: bool = True) -> None:
        """Run an edit; the core's refusal becomes the message under the tree."""
        if self._busy:
            self._fail("Wait for the previous change to be saved.")
            return
        if leaving and not self._may_leave():
            return
        try:
            step()
        except PlaygroundError as exc:
            self._fail(str(exc))
        except RecursionError:
            self._fail("the template is nested too deeply to compile")

    # -- edits --------------------------------------------------------------------------------

    def new_library(self) -> None:
        name = self.ask_name("New Library", "Name of the new library:", DEFAULT_LIBRARY
                             if self._library(DEFAULT_LIBRARY) is None else "")
        if name is None:
            return
        folder = self.context.libraries_dir

        def step() -> None:
            if self._library(name) is not None:
                raise LibraryError(f"a library named {name!r} already exists; choose another name")
            self._run_change(lambda: create_library(name, folder), (name, "library", ""),
                             f"Created the library {name!r}.")

        self._guard(step)

    def new_item(self, kind: EntryKind) -> None:
        target = self._target_library()
        label = KIND_LABELS[kind]
        base = "new-template" if kind == "template" else f"new {label}"
        suggestion = free_name(kind, base, (entry_name(e) for e in entries(target, kind)))
        name = self.ask_name(f"New {label.capitalize()}",
                             f"Name of the new {label} in {target.name!r}:", suggestion)
        if name is None:
            return

        def step() -> None:
            library = put_entry(target, kind, new_entry(kind, name))
            self._save(library, (target.name, kind, name),
                       f"Added the {label} {name!r} to {target.name!r}.")

        self._guard(step)

    def duplicate(self) -> None:
        key = self.selected_key()
        found = self._entry(key) if key else None
        if found is None:
            self._fail("Choose a template, example set, preset or dataset to duplicate.")
            return
        source, kind, entry = found
        target = source if source.name != BUILTIN else self._target_library()

        def step() -> None:
            library, name = copy_entry(source, kind, entry_name(entry), target)
            self._save(library, (target.name, kind, name),
                       f"Copied the {KIND_LABELS[kind]} {entry_name(entry)!r} to "
                       f"{target.name!r} as {name!r}.")

        self._guard(step)

    def rename(self) -> None:
        key = self.selected_key()
        found = self._entry(key) if key else None
        if found is None or found[0].name == BUILTIN:
            self._fail("Choose an item of your own library to rename.")
            return
        library, kind, entry = found
        old = entry_name(entry)
        label = KIND_LABELS[kind]
        new = self.ask_name(f"Rename {label.capitalize()}", f"New name for the {label} {old!r}:",
                            old)
        if new is None or new == old:
            return

        def step() -> None:
            changed = rename_entry(library, kind, old, new)
            self._save(changed, (library.name, kind, new.strip()),
                       f"Renamed the {label} {old!r} to {new.strip()!r}.")

        self._guard(step)

    def delete(self) -> None:
        key = self.selected_key()
        if key is None or key[0] == BUILTIN:
            self._fail("The built-in library is read-only.")
            return
        if key[1] == "library":
            self._delete_library(key[0])
            return
        found = self._entry(key)
        if found is None:
            self._fail("Choose an item or a library of your own to delete.")
            return
        library, kind, entry = found
        name = entry_name(entry)
        label = KIND_LABELS[kind]
        if not self.confirm(f"Delete the {label} {name!r} from {library.name!r}? "
                            "This cannot be undone."):
            return

        def step() -> None:
            changed = remove_entry(library, kind, name)
            self._save(changed, (library.name, "group", kind),
                       f"Deleted the {label} {name!r} from {library.name!r}.")

        self._guard(step)

    def _delete_library(self, name: str) -> None:
        library = self._library(name)
        count = sum(len(entries(library, k)) for k in ENTRY_KINDS) if library else 0
        if not self.confirm(f"Remove the library {name!r} and the {count} items in it? "
                            "This cannot be undone."):
            return
        folder = self.context.libraries_dir
        self._guard(lambda: self._run_change(
            lambda: uninstall(name, folder), (BUILTIN, "library", ""),
            f"Removed the library {name!r}.",
        ))

    def save_edit(self) -> bool:
        """Save the shown template or table; False (with the reason shown) when it is not
        valid, and then nothing is written."""
        key = self._shown
        found = self._entry(key) if key else None
        if found is None or found[0].name == BUILTIN:
            return False
        library, kind, entry = found
        name = entry_name(entry)
        result = False

        def step() -> None:
            nonlocal result
            changed = self._edited_entry(kind, name)
            updated = put_entry(library, kind, changed, replacing=name)
            self._save(updated, (library.name, kind, name),
                       f"Saved the {KIND_LABELS[kind]} {name!r} in {library.name!r}.")
            result = True

        self._guard(step, leaving=False)
        return result

    def _edited_entry(self, kind: EntryKind, name: str) -> Entry:
        if kind == "template":
            return parse_template(self.editor.toPlainText(), name)
        if kind == "preset":
            return Preset(name, self._table_params())
        if kind == "example_set":
            found = self._entry(self._shown) if self._shown else None
            task = found[2].task if found and isinstance(found[2], ExampleSet) else ""
            return ExampleSet(name, task, tuple(self._table_examples()))
        raise LibraryError(f"a {KIND_LABELS[kind]} cannot be edited here")

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def _table_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for row in range(self.table.rowCount()):
            setting = self._cell(row, 0).strip()
            value_text = self._cell(row, 1)
            if not setting and not value_text.strip():
                continue
            if not setting:
                raise LibraryError(f"row {row + 1}: the setting needs a name")
            if setting in params:
                raise LibraryError(f"row {row + 1}: {setting!r} is set twice")
            if not value_text.strip():
                raise LibraryError(f"row {row + 1}: {setting!r} needs a value")
            params[setting] = load_yaml_strict(value_text, f"row {row + 1}: {setting}")
        return params

    def _table_examples(self) -> list[dict[str, str]]:
        examples = []
        for row in range(self.table.rowCount()):
            values = [self._cell(row, column) for column in range(3)]
            if not any(v.strip() for v in values):
                continue
            example = {"input": values[0], "output": values[1]}
            if values[2].strip():
                example["rationale"] = values[2]
            examples.append(example)
        return examples

    def revert_edit(self) -> None:
        self._show(self._shown, force=True)
        self._update_actions()

    # -- import -------------------------------------------------------------------------------

    def _import_dialog(self) -> None:
        path = self.choose_open_path()
        if path:
            self._remember_dir(path)
            self.import_file(path)

    def import_file(self, path: str, name: str | None = None) -> None:
        """Read and check a library file or llm template off the GUI thread, then install it
        (under ``name`` when given) and show the per-item report."""
        if self._busy:
            self._fail("Wait for the previous change to be saved.")
            return
        if not self._may_leave():
            return
        file = Path(path)
        self._info(f"Reading {file.name}…")
        self._start(_read_job, file, on_event=lambda r: self._read_done(file, r, name),
                    on_error=lambda message: self._refuse(file, message, ()))

    def _read_done(
        self, file: Path, result: ImportReport | LlmImport | _Refused, name: str | None
    ) -> None:
        if isinstance(result, _Refused):
            self._refuse(file, result.message, result.report)
        elif isinstance(result, LlmImport):
            self._install_llm(file, result)
        else:
            self._install_library(file, result, name)

    def _show_report(
        self, title: str, summary: str, rows: Sequence[ItemReport], accepted: bool
    ) -> None:
        if self.report_dialog is not None:
            self.report_dialog.close()
        self.report_dialog = ImportReportDialog(title, summary, rows, accepted=accepted,
                                                parent=self)
        self.report_dialog.show()
        self.import_finished.emit(accepted)

    def _refuse(self, file: Path, message: str, report: Sequence[ItemReport]) -> None:
        rows = list(report) or [whole_file_row(file.name, message)]
        first = message.splitlines()[0] if message else "the file was refused"
        if "nothing was imported" not in first:
            first = f"Nothing was imported from {file.name}: {first}"
        self._fail(message if "nothing was imported" in message else first)
        self._show_report(f"Import of {file.name}", first, rows, False)

    def _install_library(self, file: Path, report: ImportReport, name: str | None) -> None:
        library = report.library
        if name is not None and name.strip() and name.strip() != library.name:
            library = dataclasses.replace(library, name=name.strip())
        if library.name.casefold() == BUILTIN.casefold():
            new_name = self.ask_name(
                "Import Library",
                f"{BUILTIN!r} is the name of the library shipped with the app. "
                "Import this one as:",
                f"{BUILTIN} copy",
            )
            if new_name is None:
                self._not_installed(file, report, "the name is reserved and no other was chosen")
                return
            library = dataclasses.replace(library, name=new_name)
        rows = [r if r.kind != "library" else r._replace(name=library.name) for r in report.items]
        if self._library(library.name) is not None and not self.ask_replace(
            f"A library named {library.name!r} is already installed. Replace it with the "
            f"one in {file.name}?"
        ):
            self._not_installed(file, report, f"you kept the installed {library.name!r}")
            return
        folder = self.context.libraries_dir
        counts = ", ".join(
            f"{len(entries(library, kind))} {_GROUP_TITLES[kind].lower()}" for kind in ENTRY_KINDS
        )
        summary = f"Imported the library {library.name!r} from {file.name}: {counts}."

        def accepted(collection: Collection) -> None:
            self._changed(collection, (library.name, "library", ""), summary)
            self._show_report(f"Import of {file.name}", summary, rows, True)

        def refused(message: str) -> None:
            self._refuse(file, message, ())

        self._start(_change_job, lambda: save_library(library, folder), folder,
                    on_event=accepted, on_error=refused)

    def _not_installed(self, file: Path, report: ImportReport, why: str) -> None:
        summary = f"Nothing was installed from {file.name}: {why}. The file itself is valid."
        self._fail(summary)
        self._show_report(f"Import of {file.name}", summary, report.items, False)

    def _install_llm(self, file: Path, converted: LlmImport) -> None:
        template = converted.template
        target = self._target_library()
        replacing = template.id if target.template(template.id) is not None else None
        rows = [ItemReport("template", template.id, "ok",
                           f"{template.meta.name} ({template.meta.format}), converted from an "
                           f"llm template into {target.name!r}")]
        rows += [ItemReport("template", template.id, "ok", f"note: {w}")
                 for w in converted.warnings]
        if replacing and not self.ask_replace(
            f"{target.name!r} already has a template {template.id!r}. Replace it with the one "
            f"converted from {file.name}?"
        ):
            summary = (f"Nothing was installed from {file.name}: you kept the template "
                       f"{template.id!r} in {target.name!r}.")
            self._fail(summary)
            self._show_report(f"Import of {file.name}", summary, rows, False)
            return
        try:
            library = put_entry(target, "template", template, replacing=replacing)
        except PlaygroundError as exc:
            self._refuse(file, str(exc), ())
            return
        folder = self.context.libraries_dir
        notes = f" with {len(converted.warnings)} note(s)" if converted.warnings else ""
        summary = (f"Imported the llm template {file.name} as {template.id!r} into "
                   f"{target.name!r}{notes}.")

        def accepted(collection: Collection) -> None:
            self._changed(collection, (target.name, "template", template.id), summary)
            self._show_report(f"Import of {file.name}", summary, rows, True)

        self._start(_change_job, lambda: save_library(library, folder), folder,
                    on_event=accepted, on_error=lambda message: self._refuse(file, message, ()))

    # -- export -------------------------------------------------------------------------------

    def _export_dialog(self) -> None:
        library = self.selected_library()
        if library is None:
            self._fail("Choose a library to export.")
            return
        filters = "JSON library (*.json);;YAML library (*.yaml *.yml)"
        path, chosen = self.choose_save_path(
            "Export Library", _file_stem(library.name) + ".json", filters
        )
        if path:
            self._remember_dir(path)
            self.export_library(path, "yaml" if chosen.startswith("YAML") else "json")

    def export_library(self, path: str, fmt: str, library: str | None = None) -> None:
        """Write the selected (or named) library, byte for byte what the core exports; the file
        name gets the format's extension when it has none."""
        chosen = self._library(library) if library else self.selected_library()
        if chosen is None:
            self._fail(f"No library named {library!r}." if library else
                       "Choose a library to export.")
            return
        if fmt not in FORMATS:
            self._fail(f"unknown library format {fmt!r}; use 'json' or 'yaml'")
            return
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".json", ".yaml", ".yml"):
            target = target.with_name(target.name + FORMATS[fmt])
        elif (suffix == ".json") != (fmt == "json"):
            self._fail(f"{target.name} ends in {suffix} but {fmt.upper()} was chosen; "
                       "change the file name or the format")
            return
        lib = chosen

        def job() -> Iterator[Path]:
            write_library(lib, target)
            yield target

        self._start(job, on_event=lambda p: self._exported(p, f"Exported {lib.name!r} to {p}."),
                    on_error=self._fail)

    def _exported(self, path: Path, message: str) -> None:
        self._info(message)
        self.exported.emit(str(path))

    def export_promptfoo(
        self, path: str, template_id: str | Sequence[str], dataset: str,
        library: str | None = None,
    ) -> None:
        """Write a promptfoo configuration for the templates of one library on a dataset; the
        dataset may come from another library (written ``library/name``)."""
        ids = [template_id] if isinstance(template_id, str) else list(template_id)
        try:
            lib = self._promptfoo_library(ids, dataset, library)
        except PlaygroundError as exc:
            self._fail(str(exc))
            return
        data_name = dataset.rpartition("/")[2]
        target = Path(path)
        if target.suffix.lower() not in (".yaml", ".yml"):
            target = target.with_name(target.name + ".yaml")
        self._start(_write_job, target, lambda: promptfoo_config(lib, ids, data_name),
                    on_event=lambda p: self._exported(
                        p, f"Wrote the promptfoo configuration for {', '.join(ids)} to {p}."),
                    on_error=self._fail)

    def _promptfoo_library(
        self, ids: Sequence[str], dataset: str, library: str | None
    ) -> Library:
        if library is not None:
            lib = self._library(library)
            if lib is None:
                raise LibraryError(f"no library named {library!r}")
        else:
            selected = self.selected_library()
            if selected is not None and all(selected.template(i) for i in ids):
                lib = selected
            else:
                lib = self._collection.find(ids[0])[0] if ids else selected or Library("", "")
        owner, _, data_name = dataset.rpartition("/")
        if owner:
            source = self._library(owner)
            found = source.dataset(data_name) if source is not None else None
        else:  # this library's own, else the first library that has one of that name
            found = lib.dataset(data_name) or next(
                (d for other in self._collection.libraries for d in other.datasets
                 if d.name == data_name), None)
        if found is None:
            raise LibraryError(f"promptfoo export: there is no dataset {dataset!r}")
        if lib.dataset(data_name) is found:
            return lib
        kept = tuple(d for d in lib.datasets if d.name != data_name)
        return dataclasses.replace(lib, datasets=(*kept, found))

    def _promptfoo_dialog(self) -> None:
        library = self.selected_library()
        if library is None:
            self._fail("Choose a library to export from.")
            return
        dialog = PromptfooDialog(library, self._collection, self.selected_key(), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        ids = dialog.template_ids()
        if not ids:
            self._fail("Choose at least one template for promptfoo.")
            return
        path, _ = self.choose_save_path(
            "Export for promptfoo", "promptfooconfig.yaml", "promptfoo configuration (*.yaml)"
        )
        if path:
            self._remember_dir(path)
            self.export_promptfoo(path, ids, dialog.dataset(), library.name)


def _children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    found = (item.child(i) for i in range(item.childCount()))
    return [child for child in found if child is not None]


def _param_text(value: Any) -> str:
    """A setting as the YAML the preset table reads back: JSON is YAML, and its quotes keep
    a stop string such as "\\n" visible."""
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)


def _file_stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip("-.") or "library"


class PromptfooDialog(QDialog):
    """Which templates of the library, on which dataset (this library's first, then the
    others'), the dataset of the first template's task chosen by default."""

    def __init__(
        self, library: Library, collection: Collection, key: Key | None, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export for promptfoo")
        self.templates = QListWidget()
        chosen = key[2] if key and key[1] == "template" else None
        first_task = ""
        for template in library.templates:
            if is_partial(template):
                continue
            item = QListWidgetItem(f"{template.id} — {template.meta.name}")
            item.setData(Qt.ItemDataRole.UserRole, template.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = template.id == chosen
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            if checked:
                first_task = template.meta.task
            self.templates.addItem(item)
        self.datasets = QComboBox()
        options = [(d.name, d.task) for d in library.datasets] + [
            (f"{lib.name}/{d.name}", d.task)
            for lib in collection.libraries if lib is not library for d in lib.datasets
        ]
        for value, _ in options:
            self.datasets.addItem(value, value)
        tasks = [task for _, task in options]
        if first_task in tasks:
            self.datasets.setCurrentIndex(tasks.index(first_task))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Templates:", self.templates)
        form.addRow("Dataset:", self.datasets)
        form.addRow(buttons)

    def template_ids(self) -> list[str]:
        return [
            str(self.templates.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.templates.count())
            if self.templates.item(i).checkState() == Qt.CheckState.Checked
        ]

    def dataset(self) -> str:
        return str(self.datasets.currentData())
