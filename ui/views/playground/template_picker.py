"""Choosing a template: every library as a branch, its templates as leaves, with a search box.

Any view that needs a template (Playground, Compare, Evaluate) can use the same picker; it
reloads itself when a library is imported, edited or removed.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.prompts.library import Library
from playground.prompts.templates import PromptTemplate, is_partial
from ui.context import AppContext
from ui.widgets.palette import ERROR_STYLE

#: item data: (library name, template id) on a template's row
KEY_ROLE = Qt.ItemDataRole.UserRole
#: item data: the lower-cased text a search looks in
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1


class TemplatePicker(QWidget):
    """``template_chosen(library_name, template_id)`` fires when a person picks a runnable
    template (partials, which other templates include, are listed but cannot be picked)."""

    template_chosen = Signal(str, str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search templates (id, name, description)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Template", "Task", "Technique"])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        width = self.fontMetrics().horizontalAdvance("summarization  ")
        header.resizeSection(1, width)
        header.resizeSection(2, width)
        self.tree.setMinimumWidth(2 * width + 120)
        self.tree.currentItemChanged.connect(self._current_changed)

        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(ERROR_STYLE)
        self.problems.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.problems)
        context.library_changed.connect(self.reload)
        self.reload()

    # -- building ----------------------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild from the context's libraries, keeping the chosen template when it is still
        there (without announcing it again)."""
        chosen = self.current()
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            collection = self.context.collection()
            for library in collection.libraries:
                self.tree.addTopLevelItem(self._library_item(library))
            if chosen is not None:
                item = self._find(*chosen)
                if item is not None:
                    self.tree.setCurrentItem(item)
        finally:
            self.tree.blockSignals(False)
        problems = collection.problems
        self.problems.setText("Some libraries could not be read:\n" + "\n".join(problems))
        self.problems.setVisible(bool(problems))
        self._filter(self.search.text())

    def _library_item(self, library: Library) -> QTreeWidgetItem:
        item = QTreeWidgetItem([library.name])
        font = QFont(item.font(0))
        font.setBold(True)
        item.setFont(0, font)
        item.setToolTip(0, library.description)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        for template in sorted(library.templates, key=lambda t: (is_partial(t), t.id)):
            item.addChild(self._template_item(library, template))
        item.setExpanded(True)
        return item

    @staticmethod
    def _template_item(library: Library, template: PromptTemplate) -> QTreeWidgetItem:
        meta = template.meta
        partial = is_partial(template)
        title = f"{meta.name} (partial)" if partial else meta.name
        item = QTreeWidgetItem([title, meta.task, meta.technique])
        tip = f"<b>{template.id}</b><br>{meta.description}"
        if partial:
            tip += "<br><i>A piece other templates include; it is not run on its own.</i>"
            item.setFlags(Qt.ItemFlag.NoItemFlags)
        else:
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            item.setData(0, KEY_ROLE, (library.name, template.id))
        for column in range(3):
            item.setToolTip(column, tip)
        haystack = " ".join((template.id, meta.name, meta.description, meta.task,
                             meta.technique)).casefold()
        item.setData(0, SEARCH_ROLE, haystack)
        return item

    # -- searching ---------------------------------------------------------------------------

    def _libraries(self) -> Iterator[QTreeWidgetItem]:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None:
                yield item

    @staticmethod
    def _children(library: QTreeWidgetItem) -> Iterator[QTreeWidgetItem]:
        for j in range(library.childCount()):
            child = library.child(j)
            if child is not None:
                yield child

    def _filter(self, text: str) -> None:
        terms = text.casefold().split()
        for library in self._libraries():
            shown = 0
            for child in self._children(library):
                haystack = str(child.data(0, SEARCH_ROLE) or "")
                match = all(term in haystack for term in terms)
                child.setHidden(not match)
                shown += match
            library.setHidden(shown == 0 and bool(terms))
            if terms:
                library.setExpanded(True)

    def visible_templates(self) -> list[tuple[str, str]]:
        """(library, id) of the runnable templates the search leaves visible, in tree order."""
        found = []
        for library in self._libraries():
            for child in self._children(library):
                key = child.data(0, KEY_ROLE)
                if not child.isHidden() and not library.isHidden() and key is not None:
                    found.append((str(key[0]), str(key[1])))
        return found

    # -- choosing ----------------------------------------------------------------------------

    def _find(self, library_name: str, template_id: str) -> QTreeWidgetItem | None:
        for library in self._libraries():
            if library.text(0) != library_name:
                continue
            for child in self._children(library):
                key = child.data(0, KEY_ROLE)
                if key is not None and str(key[1]) == template_id:
                    return child
        return None

    def item_for(self, library_name: str, template_id: str) -> QTreeWidgetItem | None:
        """The tree row of a runnable template (what a person clicks), or None."""
        return self._find(library_name, template_id)

    def select(self, library_name: str, template_id: str) -> bool:
        """Pick a template as a click would (``template_chosen`` fires when it changes);
        False when no such runnable template is listed."""
        item = self._find(library_name, template_id)
        if item is None:
            return False
        if item.isHidden():
            self.search.clear()
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)
        return True

    def clear_choice(self) -> None:
        """No template chosen (a stored run whose template is in no installed library)."""
        self.tree.setCurrentIndex(QModelIndex())

    def current(self) -> tuple[str, str] | None:
        item = self.tree.currentItem()
        key = item.data(0, KEY_ROLE) if item is not None else None
        return (str(key[0]), str(key[1])) if key is not None else None

    def _current_changed(self, item: QTreeWidgetItem | None, _: QTreeWidgetItem | None) -> None:
        key = item.data(0, KEY_ROLE) if item is not None else None
        if key is not None:
            self.template_chosen.emit(str(key[0]), str(key[1]))
