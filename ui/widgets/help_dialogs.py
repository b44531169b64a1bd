"""The Help menu's quick start and keyboard shortcuts. Both read the keys from the window's own
actions, so a shortcut changed in code is shown as it is, never as a stale list."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

EVERYWHERE = "Everywhere"
TEXT_FIELDS = "Text fields"


def keys_text(action: QAction) -> str:
    """The action's shortcuts as the platform writes them ("Ctrl+Return, Ctrl+Enter")."""
    return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                     for k in action.shortcuts() if not k.isEmpty())


def _where(action: QAction, tabs: QTabWidget) -> str:
    """Where the focus must be for the keys to work: anywhere, a tab, or a menu's own field."""
    if action.shortcutContext() in (Qt.ShortcutContext.WindowShortcut,
                                    Qt.ShortcutContext.ApplicationShortcut):
        return EVERYWHERE
    menus: list[str] = []
    for owner in action.associatedObjects():
        if isinstance(owner, QMenu):
            menus.append(owner.title().replace("&", ""))
            continue
        if not isinstance(owner, QWidget):
            continue
        for index in range(tabs.count()):
            view = tabs.widget(index)
            if view is not None and (owner is view or view.isAncestorOf(owner)):
                return tabs.tabText(index).replace("&", "")
    # Keys only a menu holds that act on the focused field (the Edit menu's).
    return TEXT_FIELDS if menus else ""


def _label(action: QAction) -> str:
    """The action's name, after its menu's when it has one ("View → History")."""
    text = action.text().replace("&", "").rstrip("…")
    for owner in action.associatedObjects():
        if isinstance(owner, QMenu) and owner.title():
            return f"{owner.title().replace('&', '')} → {text}"
    return text


def shortcut_rows(window: QMainWindow, tabs: QTabWidget) -> list[tuple[str, str, str]]:
    """(where, action, keys) for every action of the window that has keys, window-wide ones
    first and then by tab order; an action in a menu and on a button is listed once."""
    order = [EVERYWHERE, *(tabs.tabText(i).replace("&", "") for i in range(tabs.count())),
             TEXT_FIELDS]
    rows: set[tuple[str, str, str]] = set()
    for action in window.findChildren(QAction):
        keys = keys_text(action)
        where = _where(action, tabs)
        if keys and where:
            rows.add((where, _label(action), keys))
    return sorted(rows, key=lambda r: (order.index(r[0]) if r[0] in order else len(order),
                                       r[0], r[1]))


class ShortcutsDialog(QDialog):
    """A table of every keyboard shortcut, where it works, and what it does."""

    def __init__(self, window: QMainWindow, tabs: QTabWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        rows = shortcut_rows(window, tabs)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 480)

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows, row by row."""
        rows = []
        for r in range(self.table.rowCount()):
            where, action, keys = (self.table.item(r, c) for c in range(3))
            if where is not None and action is not None and keys is not None:
                rows.append((where.text(), action.text(), keys.text()))
        return rows


def quick_start_html(run: QAction, run_all: QAction) -> str:
    """The first steps, with the Run keys read from the actions themselves."""
    return (
        "<h3>Quick start</h3><ol>"
        "<li><b>Models</b>: the small bundled model loads at start. Add your own GGUF files "
        "in the Models tab or by dropping them on the window.</li>"
        "<li><b>Playground</b>: pick a template on the left, fill in its variables and press "
        f"<b>Run</b> ({keys_text(run)}). Sampling settings are on the right; a fixed seed "
        "repeats an output.</li>"
        "<li><b>Compare</b>: add variants with <b>+ Column</b>, give each a template, settings "
        "and model, type a shared input or choose a dataset, and press <b>Run all</b> "
        f"({keys_text(run_all)}).</li>"
        "<li><b>History</b>: every run and comparison is saved; double-click one to reopen "
        "it, or export reports.</li>"
        "<li><b>Evaluate</b>: rate outputs (Likert) or pick the better of two without "
        "knowing which variant wrote it.</li>"
        "<li><b>Library</b>: your templates, example sets and presets; import and export.</li>"
        "</ol><p>Help → Keyboard Shortcuts lists every key.</p>"
    )


class QuickStartDialog(QDialog):
    def __init__(self, window: QMainWindow, run: QAction, run_all: QAction) -> None:
        super().__init__(window)
        self.setWindowTitle("Quick Start")
        self.text = QLabel(quick_start_html(run, run_all))
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(520, 420)
