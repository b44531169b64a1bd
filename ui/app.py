"""Starting the desktop app."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QMessageLogContext, QSettings, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from playground import __version__
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.platform_check import startup_problem
from ui.services.tasks import describe_error
from ui.services.termination import StopOnSignal

ORGANIZATION = "Prompt Playground"
APPLICATION = "playground"


#: Qt messages that say nothing to a user (the offscreen platform's note on every window).
_QUIET = ("This plugin does not support propagateSizeHints()",)


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if message not in _QUIET:
        sys.stderr.write(f"{message}\n")


def application(argv: Sequence[str] = ()) -> QApplication:
    qInstallMessageHandler(_qt_message)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication([sys.argv[0] if sys.argv else "playground", *argv])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Prompt Playground")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("playground")
    app.setWindowIcon(QIcon(str(Path(__file__).parent / "resources" / "icon.svg")))
    return app


def build_window(settings: QSettings | None = None) -> MainWindow:
    """The window over a fresh context (settings from the user's profile unless given)."""
    context = AppContext(settings or QSettings())
    window = MainWindow(context)
    _route_stray_errors(context)
    return window


def _route_stray_errors(context: AppContext) -> None:
    """An exception that escapes a slot becomes a message in the window, not a traceback on a
    terminal the user may not have (the details still go to the log)."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        context.error.emit("Unexpected problem", describe_error(exc))

    sys.excepthook = hook


def main(argv: Sequence[str] = ()) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    problem = startup_problem()
    if problem is not None:
        sys.stderr.write(f"playground: {problem}\n")
        return 2
    app = application(argv)
    window: MainWindow | None = None

    def stop() -> None:
        if window is not None:
            window.close()  # saves the settings and stops the runs, as Quit does
        app.quit()

    # Before the window: a signal that comes while it is being built waits for the event loop.
    StopOnSignal(stop, app)
    window = build_window()
    window.show()
    # The window's objects live as long as the app: keeping them out of the collector's full
    # passes avoids ~70 ms pauses while tokens stream.
    gc.freeze()
    # Start on the model the user last chose (the bundled default at first): it loads in the
    # background while the window is already usable.
    hub = window.context.hub
    if hub.current and not hub.current.startswith("remote:"):
        hub.load(hub.current)
    return app.exec()
