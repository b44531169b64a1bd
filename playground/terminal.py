"""Text made safe to show: C0 and C1 control characters written out instead of obeyed.

Server-supplied text (error bodies, model names) and model output can carry terminal control
sequences: ``ESC ] 0 ; title BEL`` sets the terminal's title, ``ESC [ 2 J`` clears the screen,
a carriage return overwrites the line a person is reading. A hostile or broken endpoint must
not be able to do that through a message. So every message (the CLI's, the window's: see
:class:`playground.errors.PlaygroundError`) goes through :func:`escape_controls`, and so does
model output when it is shown on a terminal; output piped to a file or another program stays
byte-exact (:func:`for_terminal`).

Newline and tab are kept, and a CR LF line end is read as a newline. Every other control
character (U+0000–U+001F, U+007F, U+0080–U+009F) is written as ``\\xHH``, which shows what was
there without acting on it.
"""

from __future__ import annotations

import io
import re
from typing import TextIO, cast

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


_JSON_RAW_CONTROLS = re.compile("[\x7f-\x9f]")


def json_text(value: object, *, indent: int | None = 2) -> str:
    """JSON with no raw control character in it: ``json`` already writes C0 controls as
    ``\\u00XX`` escapes, and DEL and C1 get the same, so the text is valid JSON that the
    terminal escaping (which would turn them into ``\\xHH``, not JSON) leaves alone."""
    import json

    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _JSON_RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def escape_controls(text: str) -> str:
    """``text`` with its control characters escaped, except newline and tab."""
    return _CONTROLS.sub(_escape, text.replace("\r\n", "\n"))


class _EscapingWriter(io.TextIOBase):
    """A text stream that escapes control characters on their way to a terminal.

    Text arrives in pieces (streamed tokens), so a carriage return at the end of one piece
    is held back until the next shows whether it begins a CR LF line end.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self._held = ""

    def write(self, text: str) -> int:
        joined = self._held + text
        self._held = "\r" if joined.endswith("\r") else ""
        self._stream.write(escape_controls(joined[: len(joined) - len(self._held)]))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        """Writes a carriage return still held back (escaped: nothing followed it); the
        stream underneath stays open, as it belongs to the caller."""
        try:
            if self._held:
                self._stream.write(escape_controls(self._held))
                self._held = ""
            self._stream.flush()
        except (ValueError, OSError):  # the stream underneath is already closed
            pass
        super().close()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def writable(self) -> bool:
        return True


def escaping(stream: TextIO) -> TextIO:
    """``stream`` with every control character written out (a message stream)."""
    return cast(TextIO, _EscapingWriter(stream))


def raw(stream: TextIO) -> TextIO:
    """The stream under an escaping one, for the CLI's own control characters (a progress
    line's carriage return) and never for text from outside."""
    writer = cast(object, stream)
    return writer._stream if isinstance(writer, _EscapingWriter) else stream


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or minimal stream is not a terminal
        return False


def for_terminal(stream: TextIO) -> TextIO:
    """``stream`` escaping control characters when it is a terminal; unchanged otherwise,
    so piped output stays byte-exact."""
    return escaping(stream) if is_terminal(stream) else stream
