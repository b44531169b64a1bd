"""The parent's side of a model worker's pipe, shared by the one-request and batched streams."""

from __future__ import annotations

from multiprocessing.connection import Connection, wait
from typing import Any


def next_message(conn: Connection, sentinel: int, timeout: float = 0.05) -> tuple[Any, bool]:
    """The worker's next message (None when there is none yet) and whether the worker is gone:
    its process ended, or its pipe closed (its sentinel then tells how)."""
    ready = wait([conn, sentinel], timeout=timeout)
    if conn in ready:
        try:
            return conn.recv(), False
        except (EOFError, OSError):
            return None, True
    return None, sentinel in ready
