"""The Library tab's left side: every library as a tree of its entries, with a filter.

Rows are known by a key, ``(library name, kind, entry name)``, which survives the tree being
rebuilt after every change: what the person selected or folded stays so.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.prompts.collection import (
    BUILTIN,
    ENTRY_KINDS,
    Collection,
    EntryKind,
    entries,
    entry_name,
    entry_summary,
)
from playground.prompts.library import Library
from playground.prompts.templates import PromptTemplate, is_partial

#: (library name, kind, entry name): kind is "library", "group" (name = the entry kind) or an
#: entry kind
Key = tuple[str, str, str]
GROUP_TITLES: dict[EntryKind, str] = {
    "template": "Templates",
    "example_set": "Example sets",
    "preset": "Presets",
    "dataset": "Datasets",
}
_KEY_ROLE = Qt.ItemDataRole.UserRole


class LibraryBrowser(QWidget):
    #: the person moved to another row: (its key or None, the row left or None)
    moved = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by name…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self.apply_filter)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Item", "Details"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setColumnWidth(0, 260)
        self.tree.currentItemChanged.connect(
            lambda current, previous: self.moved.emit(self._key(current), previous)
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.tree, 1)

    def populate(self, collection: Collection, wanted: Key | None) -> None:
        """Rebuild the tree and select ``wanted`` (else its library, else the first one)
        without announcing a move: the caller shows what is selected."""
        collapsed = self._collapsed_keys()
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            for library in collection.libraries:
                self._add_library(library, collapsed)
        finally:
            self.tree.blockSignals(False)
        self.apply_filter(self.filter.text())
        item = self.item_for(wanted) if wanted else None
        if item is None and wanted is not None:
            item = self.item_for((wanted[0], "library", ""))
        if item is None and self.tree.topLevelItemCount():
            item = self.tree.topLevelItem(0)
        if item is not None:
            self.select_quietly(item)
            self.tree.scrollToItem(item)

    def select_quietly(self, item: QTreeWidgetItem) -> None:
        """Make ``item`` current without a ``moved`` signal (a move refused, a rebuild)."""
        self.tree.blockSignals(True)
        self.tree.setCurrentItem(item)
        self.tree.blockSignals(False)

    def item_for(self, key: Key) -> QTreeWidgetItem | None:
        """The tree row of a library, group or entry."""
        return next((i for i in self._all_items() if self._key(i) == key), None)

    def selected_key(self) -> Key | None:
        return self._key(self.tree.currentItem())

    def apply_filter(self, text: str) -> None:
        """Entries whose name or details hold the text, with their groups and libraries
        unfolded; the rest hidden."""
        needle = text.strip().casefold()
        for node in self._library_nodes():
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

    @staticmethod
    def _key(item: QTreeWidgetItem | None) -> Key | None:
        key: Key | None = item.data(0, _KEY_ROLE) if item is not None else None
        return key

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
            group = QTreeWidgetItem([f"{GROUP_TITLES[kind]} ({len(items)})", ""])
            group_key: Key = (library.name, "group", kind)
            group.setData(0, _KEY_ROLE, group_key)
            node.addChild(group)
            for entry in items:
                name = entry_name(entry)
                summary = entry_summary(entry)
                child = QTreeWidgetItem([name, summary])
                child.setData(0, _KEY_ROLE, (library.name, kind, name))
                child.setToolTip(0, name)
                child.setToolTip(1, summary)
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

    def _library_nodes(self) -> list[QTreeWidgetItem]:
        return _children(self.tree.invisibleRootItem())

    def _collapsed_keys(self) -> set[Key] | None:
        nodes = self._library_nodes()
        if not nodes:
            return None
        keys: set[Key] = set()
        for node in nodes:
            for item in (node, *_children(node)):
                if not item.isExpanded():
                    keys.add(item.data(0, _KEY_ROLE))
        return keys

    def _all_items(self) -> Iterator[QTreeWidgetItem]:
        for node in self._library_nodes():
            yield node
            for group in _children(node):
                yield group
                yield from _children(group)


def _children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    found = (item.child(i) for i in range(item.childCount()))
    return [child for child in found if child is not None]
