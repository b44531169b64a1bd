"""Stop sequences in streamed text: what can be shown now, and what must wait because it could
still grow into a stop sequence. Shared by the one-request and batched decoders, and by the
scripted model the window tests use."""

from __future__ import annotations


class StopScanner:
    """Releases generated text as soon as it is safe to show.

    Text that could still grow into a stop sequence is held back until it either completes one
    (then generation stops and the stop sequence is never shown) or stops matching.
    """

    def __init__(self, stop: tuple[str, ...]) -> None:
        self.stop = stop
        self._longest = max((len(s) for s in stop), default=0)
        self.text = ""
        self.emitted = 0
        self.stopped = False

    def feed(self, piece: str) -> str:
        """Add generated text; return the part that can be shown now."""
        self.text += piece
        end = len(self.text)
        if self.stop:
            hit = find_stop(self.text, self.stop, max(0, self.emitted - self._longest))
            if hit >= 0:
                self.text = self.text[:hit]
                self.stopped = True
                end = hit
            else:
                end -= held_back(self.text, self.stop)
        shown = self.text[self.emitted:end]
        self.emitted = max(self.emitted, end)
        return shown

    def flush(self, tail: str = "") -> str:
        """Generation ended: everything not shown yet (plus a decoder's last characters)."""
        if not self.stopped:
            self.text += tail
        rest = self.text[self.emitted:]
        self.emitted = len(self.text)
        return rest


def find_stop(text: str, stop: tuple[str, ...], start: int) -> int:
    """Earliest position at which any stop sequence begins, or -1."""
    best = -1
    for s in stop:
        at = text.find(s, start)
        if at >= 0 and (best < 0 or at < best):
            best = at
    return best


def held_back(text: str, stop: tuple[str, ...]) -> int:
    """Length of the longest tail of ``text`` that could still grow into a stop sequence."""
    hold = 0
    for s in stop:
        for k in range(min(len(s) - 1, len(text)), hold, -1):
            if s.startswith(text[-k:]):
                hold = k
                break
    return hold
