"""Closing the window cleanly when the system asks the app to stop: SIGTERM from a logout, a
service manager or a plain ``kill``, SIGHUP when its terminal goes away, Ctrl-C in that terminal.
The window's own close then saves the settings and stops what runs, as Quit does; without this,
Python's default for these signals ends the process on the spot and the settings are lost.

A Python signal handler runs only when the interpreter gets control, which an idle Qt event loop
never gives it; so the signal's number goes through a socket the event loop watches.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)
)


class StopOnSignal(QObject):
    """Calls ``stop`` from the event loop when one of :data:`STOP_SIGNALS` arrives (once)."""

    def __init__(self, stop: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stop = stop
        self._stopping = False
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        # The C-level handler writes the signal's number to the socket; the Python handler
        # itself has nothing left to do.
        signal.set_wakeup_fd(self._writer.fileno())
        for number in STOP_SIGNALS:
            signal.signal(number, lambda *_: None)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._signalled)

    def _signalled(self) -> None:
        try:
            received = self._reader.recv(64)
        except BlockingIOError:
            return
        if self._stopping or not any(byte in STOP_SIGNALS for byte in received):
            return
        self._stopping = True
        self._stop()
