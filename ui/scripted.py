"""Driving the window from a script (screenshots, the window benchmark): start something, then
let the event loop run until a signal says it is done."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QTimer


class StepTimeoutError(Exception):
    pass


def wait_for(
    signal: object, start: Callable[[], None], timeout_s: float = 240.0
) -> tuple[object, ...]:
    """Connect to ``signal``, call ``start``, run the event loop until the signal fires; its
    arguments come back."""
    loop = QEventLoop()
    got: list[tuple[object, ...]] = []

    def done(*values: object) -> None:
        got.append(values)
        loop.quit()

    signal.connect(done)  # type: ignore[attr-defined]
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    start()
    loop.exec()
    signal.disconnect(done)  # type: ignore[attr-defined]
    if not got:
        raise StepTimeoutError(f"nothing happened within {timeout_s:.0f} s")
    return got[0]


def settle(ms: int = 400) -> None:
    """Let the event loop run for a moment (paints, queued signals)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
