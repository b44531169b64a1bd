"""The Library tab: every library the app knows, what is in each, and the edits, imports and
exports that keep them useful.

The view holds the layout and the wiring. Its parts each have one job: the tree on the left
(``browser``), the selected item on the right (``item_editor``), the collection and the one
change at a time written to disk (``changes``), the edits to user libraries (``edits``), imports
and exports (``transfers``), and what the person is asked (``questions``).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSplitter,
    QToolButton,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.prompts.collection import BUILTIN, KIND_LABELS, Collection, EntryKind
from playground.prompts.templates import is_partial
from ui.context import AppContext
from ui.views.library.browser import Key, LibraryBrowser
from ui.views.library.changes import LibraryChanges
from ui.views.library.edits import LibraryEdits
from ui.views.library.item_editor import ItemEditor
from ui.views.library.questions import Questions
from ui.views.library.transfers import LibraryTransfers
from ui.widgets.palette import ERROR_STYLE


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
        self.questions = Questions(self, context.settings)
        self.changes = LibraryChanges(context, self)
        self.browser = LibraryBrowser()
        self.item = ItemEditor()
        self.edits = LibraryEdits(self.changes, self.browser, self.item, self.questions)
        self.transfers = LibraryTransfers(
            self.changes, self.browser, lambda: self.item.may_leave(self.questions.confirm),
            self.questions, self,
        )
        self._build_actions()
        self._build_ui()
        self._wire()
        self._populate(self.changes.collection)
        self._restore(context.settings)
        self._update_actions()

    # -- building -----------------------------------------------------------------------------

    def _action(
        self, text: str, slot: Callable[[], object],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        *, within: QWidget | None = None, tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if within is not None:
            # Only while that part of the tab has focus: Delete and F2 mean other things
            # elsewhere (F2 edits a table cell, Delete a character).
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            within.addAction(action)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _=False: slot())
        return action

    def _build_actions(self) -> None:
        transfers, edits = self.transfers, self.edits
        self.import_action = self._action(
            "&Import Library…", transfers.choose_import, "Ctrl+I",
            tip="Import a library (JSON or YAML) or an llm template",
        )
        self.export_action = self._action(
            "&Export Library…", transfers.choose_export, "Ctrl+E",
            tip="Write the selected library as JSON or YAML",
        )
        self.promptfoo_action = self._action(
            "Export for &promptfoo…", transfers.choose_promptfoo,
            tip="Write a promptfoo configuration for templates of the selected library",
        )
        self.new_library_action = self._action(
            "&New Library…", edits.new_library, tip="Create an empty library of your own"
        )
        self.new_actions: dict[EntryKind, QAction] = {
            kind: self._action(
                f"New {KIND_LABELS[kind].capitalize()}…", functools.partial(edits.new_item, kind)
            )
            for kind in ("template", "example_set", "preset")
        }
        self.duplicate_action = self._action(
            "&Duplicate", edits.duplicate, "Ctrl+D", within=self.browser,
            tip="Copy the item (a built-in one goes into your library)",
        )
        self.rename_action = self._action("&Rename…", edits.rename, "F2", within=self.browser)
        self.delete_action = self._action(
            "De&lete", edits.delete, QKeySequence.StandardKey.Delete, within=self.browser
        )
        self.save_action = self._action(
            "&Save", edits.save_edit, QKeySequence.StandardKey.Save, within=self
        )

    def _tool_button(self, action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _build_ui(self) -> None:
        self.new_menu = QMenu(self)
        for action in self.new_actions.values():
            self.new_menu.addAction(action)
        self.new_menu.addSeparator()
        self.new_menu.addAction(self.new_library_action)
        self.new_button = QToolButton()
        self.new_button.setText("New")
        self.new_button.setMenu(self.new_menu)
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
        self.problems.setStyleSheet(ERROR_STYLE)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(self.item)
        self.splitter.setStretchFactor(1, 2)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.problems)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.message)

    def _wire(self) -> None:
        self.browser.moved.connect(self._moved)
        self.item.edited.connect(self._update_actions)
        for save in (self.item.save_button, self.item.table_save_button):
            save.clicked.connect(self.edits.save_edit)
        for revert in (self.item.revert_button, self.item.table_revert_button):
            revert.clicked.connect(self._revert)
        changes = self.changes
        changes.busy_changed.connect(self._update_actions)
        changes.read_back.connect(self._populate)
        changes.refreshed.connect(self.refreshed)
        changes.failed.connect(self._fail)
        changes.informed.connect(self._info)
        self.transfers.import_finished.connect(self.import_finished)
        self.transfers.exported.connect(self.exported)

    # -- the window's hooks -------------------------------------------------------------------

    def file_actions(self) -> list[QAction]:
        return [self.import_action, self.export_action, self.promptfoo_action,
                self.new_library_action]

    def save_settings(self, settings: QSettings) -> None:
        settings.setValue("library/splitter", self.splitter.saveState())
        settings.setValue("library/last_user_library", self.changes.last_user_library)

    def _restore(self, settings: QSettings) -> None:
        state = settings.value("library/splitter")
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)
        else:
            self.splitter.setSizes([380, 720])

    def collection(self) -> Collection:
        """What the tree shows (the context's copy may be re-read lazily)."""
        return self.changes.collection

    def item_for(self, key: Key) -> QTreeWidgetItem | None:
        """The tree row of a library, group or entry."""
        return self.browser.item_for(key)

    def selected_key(self) -> Key | None:
        return self.browser.selected_key()

    # -- what is shown ------------------------------------------------------------------------

    def _populate(self, collection: Collection, select: Key | None = None) -> None:
        wanted = select or self.browser.selected_key()
        self.browser.populate(collection, wanted)
        self._show_problems(collection.problems)
        self._show(self.browser.selected_key(), force=select is not None)
        self._update_actions()

    def _moved(self, key: Key | None, previous: QTreeWidgetItem | None) -> None:
        if (
            previous is not None and key != self.item.shown
            and not self.item.may_leave(self.questions.confirm)
        ):
            self.browser.select_quietly(previous)
            return
        if key is not None and key[0] != BUILTIN:
            self.changes.last_user_library = key[0]
        self._show(key, force=True)
        self._update_actions()

    def _show(self, key: Key | None, *, force: bool = False) -> None:
        """Fill the right-hand side; an item with unsaved edits is left alone unless asked."""
        if not force and key == self.item.shown and self.item.dirty():
            return
        found = self.changes.entry(key) if key else None
        if key is not None and found is not None:
            owner, _, entry = found
            self.item.show_entry(key, entry, read_only=owner.name == BUILTIN)
            return
        library = self.changes.library(key[0]) if key else None
        where = (
            "Shipped with the app, read-only: Duplicate copies an item into your own library."
            if library is not None and library.name == BUILTIN
            else f"Installed in {self.changes.folder()}."
        )
        self.item.show_library(key, library, where)

    def _revert(self) -> None:
        self._show(self.item.shown, force=True)
        self._update_actions()

    def _show_problems(self, problems: Sequence[str]) -> None:
        if not problems:
            self.problems.hide()
            self.problems.clear()
            return
        lines = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        self.problems.setText(
            f"<b>{len(problems)} installed library file(s) could not be read and are not "
            f"shown</b> (fix or remove them in {html.escape(str(self.changes.folder()))}):"
            f"<ul>{lines}</ul>"
        )
        self.problems.show()

    def _update_actions(self) -> None:
        key = self.browser.selected_key()
        idle = not self.changes.busy
        is_entry = key is not None and self.changes.entry(key) is not None
        user = key is not None and key[0] != BUILTIN
        library = self.changes.library(key[0]) if key else None
        self.duplicate_action.setEnabled(idle and is_entry)
        self.rename_action.setEnabled(idle and is_entry and user)
        self.delete_action.setEnabled(
            idle and user and (is_entry or (key is not None and key[1] == "library"))
        )
        for action in (*self.new_actions.values(), self.new_library_action, self.import_action):
            action.setEnabled(idle)
        self.export_action.setEnabled(library is not None)
        self.promptfoo_action.setEnabled(
            library is not None and any(not is_partial(t) for t in library.templates)
        )
        self.save_action.setEnabled(idle and self.item.dirty())
        self.item.enable(idle)

    # -- messages -----------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(message)
        self.failed.emit(message)

    def _info(self, message: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(message)
        self.context.status.emit(message)
