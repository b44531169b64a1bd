"""The main window: one tab per area, menus and shortcuts, settings that outlive a restart."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSize, Qt, QTimer
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QMessageBox, QTabWidget

from playground import __version__
from ui.context import AppContext
from ui.services.notices import NoticeRelay
from ui.views.compare.compare_view import CompareView
from ui.views.evaluate.evaluate_view import EvaluateView
from ui.views.history.history_view import HistoryView
from ui.views.library.library_view import LibraryView
from ui.views.models.models_view import ModelsView
from ui.views.playground.playground_view import PlaygroundView
from ui.widgets.help_dialogs import QuickStartDialog, ShortcutsDialog

#: The first start's size: it fits a 1366×768 laptop screen with a panel and a title bar.
DEFAULT_SIZE = QSize(1280, 680)
#: Room for the title bar and borders the window manager adds around the window.
FRAME_ALLOWANCE = QSize(16, 40)
#: How often the window's settings are written while it is open.
AUTOSAVE_MS = 30_000


class MainWindow(QMainWindow):
    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.setWindowTitle("Prompt Playground")
        self.setObjectName("MainWindow")
        self.setAcceptDrops(True)
        self.last_error: tuple[str, str] | None = None
        self._error_box: QMessageBox | None = None
        self.help_dialog: QDialog | None = None

        # Before any view starts a task that opens the database: its notices reach the window.
        self.notices = NoticeRelay(self)
        self.notices.notice.connect(self.show_notice)
        self.last_notice: str | None = None
        self.playground = PlaygroundView(context)
        self.compare = CompareView(context)
        self.history = HistoryView(context)
        self.models = ModelsView(context)
        self.library = LibraryView(context)
        self.evaluate = EvaluateView(context)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for view, title in (
            (self.playground, "&Playground"),
            (self.compare, "&Compare"),
            (self.history, "&History"),
            (self.models, "&Models"),
            (self.library, "&Library"),
            (self.evaluate, "&Evaluate"),
        ):
            self.tabs.addTab(view, title)
        self.setCentralWidget(self.tabs)

        context.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        context.error.connect(self.show_error)
        context.open_run.connect(lambda _: self.tabs.setCurrentWidget(self.playground))
        context.open_comparison.connect(lambda _: self.tabs.setCurrentWidget(self.compare))
        self._build_menus()
        self._restore()
        # Settings also outlive a crash or a kill -9, up to the last save.
        self._autosave = QTimer(self)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_settings)
        self._autosave.start()

    # -- menus ------------------------------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for view in (self.library, self.compare, self.history):
            for action in getattr(view, "file_actions", lambda: [])():
                file_menu.addAction(action)
            file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        edit_menu = bar.addMenu("&Edit")
        for title, key, method in (
            ("&Undo", QKeySequence.StandardKey.Undo, "undo"),
            ("&Redo", QKeySequence.StandardKey.Redo, "redo"),
            (None, None, None),
            ("Cu&t", QKeySequence.StandardKey.Cut, "cut"),
            ("&Copy", QKeySequence.StandardKey.Copy, "copy"),
            ("&Paste", QKeySequence.StandardKey.Paste, "paste"),
            (None, None, None),
            ("Select &All", QKeySequence.StandardKey.SelectAll, "selectAll"),
        ):
            if title is None or key is None or method is None:
                edit_menu.addSeparator()
                continue
            action = QAction(title, self)
            # The text fields handle these keys themselves; the menu entries are for the mouse.
            action.setShortcut(key)
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(lambda _=False, m=method: self._edit(m))
            edit_menu.addAction(action)

        run_menu = bar.addMenu("&Run")
        for action in getattr(self.playground, "run_actions", lambda: [])():
            run_menu.addAction(action)
        for action in getattr(self.compare, "run_actions", lambda: [])():
            run_menu.addAction(action)

        view_menu = bar.addMenu("&View")
        for index in range(self.tabs.count()):
            action = QAction(self.tabs.tabText(index).replace("&", ""), self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _=False, i=index: self.tabs.setCurrentIndex(i))
            view_menu.addAction(action)

        help_menu = bar.addMenu("&Help")
        quick_start = QAction("&Quick Start", self)
        quick_start.triggered.connect(self._quick_start)
        help_menu.addAction(quick_start)
        shortcuts = QAction("&Keyboard Shortcuts", self)
        shortcuts.triggered.connect(self._shortcuts)
        help_menu.addAction(shortcuts)
        help_menu.addSeparator()
        about = QAction("&About Prompt Playground", self)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _edit(self, method: str) -> None:
        """An Edit menu entry acts on the focused text field, as in any desktop app."""
        widget = QApplication.focusWidget()
        action = getattr(widget, method, None)
        if callable(action):
            action()

    def _quick_start(self) -> None:
        self._show_help(QuickStartDialog(self, self.playground.run_action, self.compare.run_action))

    def _shortcuts(self) -> None:
        self._show_help(ShortcutsDialog(self, self.tabs))

    def _show_help(self, dialog: QDialog) -> None:
        """One help window at a time, beside the main window (it does not block it)."""
        if self.help_dialog is not None:
            self.help_dialog.close()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: setattr(self, "help_dialog", None))
        self.help_dialog = dialog
        dialog.show()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About Prompt Playground",
            f"<b>Prompt Playground</b> {__version__}<br>Compare prompts, models and sampling "
            "settings on local GGUF models, offline.",
        )

    # -- errors -----------------------------------------------------------------------------

    def show_notice(self, text: str) -> None:
        """Something the user must know about their data, kept in the status bar until the
        next message replaces it."""
        self.last_notice = text
        self.statusBar().showMessage(text)

    def show_error(self, title: str, message: str) -> None:
        """A readable message that does not block the window (tasks keep running)."""
        self.last_error = (title, message)
        self.statusBar().showMessage(f"{title}: {message}", 15000)
        if self._error_box is not None:
            self._error_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok,
                          self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self._error_box = box
        box.destroyed.connect(self._forget_box)

    def _forget_box(self) -> None:
        self._error_box = None

    # -- settings ---------------------------------------------------------------------------

    def _restore(self) -> None:
        settings = self.context.settings
        geometry = settings.value("window/geometry")
        if not isinstance(geometry, QByteArray) or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)
        state = settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        self._fit_to_screen()
        tab = settings.value("window/tab", 0, type=int)
        if isinstance(tab, int) and 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)

    def _fit_to_screen(self) -> None:
        """Keep the whole window, title bar included, on the screen it opens on: the default
        size on a small laptop screen, or a size saved on a bigger monitor."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None or self.isMaximized() or self.isFullScreen():
            return
        available = screen.availableGeometry()
        # The frame is not known before the window is shown: allow for a typical title bar.
        frame = QSize(FRAME_ALLOWANCE.width(), FRAME_ALLOWANCE.height())
        size = self.size().boundedTo(available.size() - frame)
        if size != self.size():
            self.resize(size.expandedTo(self.minimumSize()))
        outer = QRect(self.pos(), self.size() + frame)
        if not available.contains(outer):
            left = min(max(outer.left(), available.left()), available.right() + 1 - outer.width())
            top = min(max(outer.top(), available.top()), available.bottom() + 1 - outer.height())
            self.move(max(left, available.left()), max(top, available.top()))

    def save_settings(self) -> None:
        settings = self.context.settings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        settings.setValue("window/tab", self.tabs.currentIndex())
        for index in range(self.tabs.count()):
            view = self.tabs.widget(index)
            save = getattr(view, "save_settings", None)
            if save is not None:
                save(settings)
        settings.sync()

    # -- dropping model files anywhere on the window ------------------------------------------

    def _dropped_models(self, event: QDragEnterEvent | QDropEvent) -> list[str]:
        mime = event.mimeData()
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()
                and u.toLocalFile().lower().endswith(".gguf")]

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_models(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = self._dropped_models(event)
        add = getattr(self.models, "add_model_files", None)
        if paths and add is not None:
            event.acceptProposedAction()
            self.tabs.setCurrentWidget(self.models)
            add(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.notices.detach()
        self.context.close()
        super().closeEvent(event)
