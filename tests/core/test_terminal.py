"""Control characters from outside are written out, never obeyed: the escaping rule, the
stream that applies it on a terminal, and the error messages that carry it to both faces."""

from __future__ import annotations

import io
import pickle

import pytest

from playground.errors import PlaygroundError, WorkerCrashed
from playground.terminal import escape_controls, escaping, for_terminal, raw

HOSTILE = "\x1b]0;pwned\x07\x1b[2J"


def test_every_c0_and_c1_control_is_escaped_except_newline_and_tab() -> None:
    controls = [chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]
    for ch in controls:
        shown = escape_controls(f"a{ch}b")
        if ch in "\n\t":
            assert shown == f"a{ch}b"
        else:
            assert shown == f"a\\x{ord(ch):02x}b"
            assert ch not in shown
    assert escape_controls(f"boom{HOSTILE}") == "boom\\x1b]0;pwned\\x07\\x1b[2J"
    assert escape_controls("line\r\nnext\rover") == "line\nnext\\x0dover"
    # Printable text in any script, and the escaped form itself, pass unchanged.
    for text in ("héllo 世界 🙂 ¡", "boom\\x1b]0;pwned", "\u00a0non-breaking"):
        assert escape_controls(text) == text


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_stream_escapes_pieces_and_holds_a_carriage_return_back() -> None:
    screen = Tty()
    out = for_terminal(screen)
    for piece in ("red \x1b[31m", "text\r", "\nnext\r", "over\x9b"):
        out.write(piece)
        out.flush()
    out.close()
    assert screen.getvalue() == "red \\x1b[31mtext\nnext\\x0dover\\x9b"
    assert not screen.closed  # the stream belongs to the caller


def test_a_pipe_is_left_byte_exact_and_raw_reaches_under_an_escaping_stream() -> None:
    pipe = io.StringIO()
    assert for_terminal(pipe) is pipe
    messages = escaping(pipe)
    messages.write(f"error {HOSTILE}\n")
    raw(messages).write("\r  3/10 runs")
    assert pipe.getvalue() == "error \\x1b]0;pwned\\x07\\x1b[2J\n\r  3/10 runs"
    assert raw(pipe) is pipe


@pytest.mark.parametrize("error", [PlaygroundError(f"server said: boom{HOSTILE}"),
                                   WorkerCrashed(f"crashed{HOSTILE}", exitcode=-6)])
def test_error_messages_are_escaped_wherever_they_are_shown(error: PlaygroundError) -> None:
    assert "\x1b" not in str(error) and "\x07" not in str(error)
    assert "\\x1b]0;pwned\\x07" in str(error)
    # Errors cross the worker's pipe pickled: the message is still escaped on arrival.
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_json_for_a_terminal_is_valid_json_with_no_raw_control_character() -> None:
    import json

    from playground.terminal import escape_controls, json_text

    value = {"output": "a\x1b]0;title\x07b\x85c\x7f\u2028d", "n": [1, None]}
    text = json_text(value)
    assert json.loads(text) == value
    assert escape_controls(text) == text  # the terminal's escaping finds nothing to change
