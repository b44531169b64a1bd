"""Task callbacks that outlive their widget harmlessly: a task can finish after the window
closed, when the widget it reports to no longer exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject
from shiboken6 import isValid


def live(owner: QObject, callback: Callable[..., None]) -> Callable[..., None]:
    """``callback``, doing nothing once ``owner`` is gone."""

    def call(*args: Any) -> None:
        if isValid(owner):
            callback(*args)

    return call
