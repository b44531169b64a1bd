"""Qt bindings the app can live with for hours: signals delivered to Python slots must not
leak or drop references (PySide6 6.12.0 dropped one on True per delivery, so a long session
ended in a fatal error once True's count reached zero)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

DELIVERIES = 5000


class _Sender(QObject):
    carried = Signal(object, object)
    bare = Signal()
    number = Signal(int)


class _Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def take(self, value: int) -> None:
        self.seen += value


def test_signals_to_python_slots_keep_reference_counts_of_true_and_false() -> None:
    sender, receiver = _Sender(), _Receiver()
    seen: list[object] = []
    sender.carried.connect(lambda a, b: seen.append(a))
    sender.bare.connect(lambda: seen.append(None))
    sender.number.connect(receiver.take)
    before = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(DELIVERIES):
        sender.carried.emit(1, 2)
        sender.bare.emit()
        sender.number.emit(1)
    after = sys.getrefcount(True), sys.getrefcount(False)
    assert len(seen) == 2 * DELIVERIES and receiver.seen == DELIVERIES
    # A little slack for objects the interpreter itself creates meanwhile; a per-delivery
    # leak or drop would move the counts by thousands.
    assert abs(after[0] - before[0]) < 50, f"True: {before[0]} -> {after[0]}"
    assert abs(after[1] - before[1]) < 50, f"False: {before[1]} -> {after[1]}"
