"""Stop sequences while streaming, and the checks on how a model is loaded."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from playground.engine.options import LoadOptions
from playground.engine.stops import StopScanner, find_stop, held_back
from playground.errors import PlaygroundError

# -- find_stop ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stop", "start", "expected"),
    [
        ("hello world", ("world",), 0, 6),
        ("hello world", ("xyz",), 0, -1),
        ("hello world", (), 0, -1),
        ("a END b STOP c", ("STOP", "END"), 0, 2),
        ("a END b STOP c", ("END", "STOP"), 0, 2),
        ("abcd", ("cd", "bc", "abcd"), 0, 0),
        ("xx bc abcd", ("abcd", "bc"), 0, 3),
        ("END then END", ("END",), 1, 9),
        ("END", ("END",), 1, -1),
    ],
)
def test_find_stop_earliest(text: str, stop: tuple[str, ...], start: int, expected: int) -> None:
    """The earliest start wins whatever order the stop sequences were given in."""
    assert find_stop(text, stop, start) == expected


# -- held_back ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stop", "expected"),
    [
        ("Hello Us", ("User:",), 2),
        ("Hello U", ("User:",), 1),
        ("Hello User", ("User:",), 4),
        ("Hello", ("User:",), 0),
        ("Hello u", ("User:",), 0),
        ("Hello\n", ("\n\n", "\nUser"), 1),
        ("ab\n\nU", ("\n\nUser:", "U"), 3),
        ("xab", ("abc", "bcd"), 2),
        ("xabc", ("abcd", "bcde"), 3),
        ("xb", ("abc", "bcd"), 1),
        ("aaa", ("aaab",), 3),
        ("aa", ("aaab",), 2),
        ("", ("END",), 0),
        ("anything", (), 0),
        ("xE", ("E",), 0),
    ],
)
def testheld_back(text: str, stop: tuple[str, ...], expected: int) -> None:
    """Hold the longest tail that could still grow into a stop sequence, and nothing else."""
    assert held_back(text, stop) == expected


def test_held_back_never_holds_a_complete_stop() -> None:
    """A complete stop sequence is the finder's job; holding it would hide a real stop."""
    assert held_back("say END", ("END",)) == 0


# -- the streaming loop -------------------------------------------------------------------------


@dataclass
class Streamed:
    chunks: list[str]
    #: Everything shown to the user after each piece, before the final flush.
    shown: list[str]
    text: str
    finish: str


def stream(pieces: list[str], stop: tuple[str, ...]) -> Streamed:
    """The worker's StopScanner, fed with text pieces instead of model tokens."""
    scanner = StopScanner(stop)
    chunks: list[str] = []
    shown: list[str] = []
    for piece in pieces:
        out = scanner.feed(piece)
        if out:
            chunks.append(out)
        shown.append("".join(chunks))
        if scanner.stopped:
            break
    rest = scanner.flush()
    if rest:
        chunks.append(rest)
    return Streamed(chunks, shown, scanner.text, "stop" if scanner.stopped else "length")


def check_stream(pieces: list[str], stop: tuple[str, ...]) -> Streamed:
    """Properties every stream must have, whatever the pieces and stop sequences."""
    full = "".join(pieces)
    result = stream(pieces, stop)
    assert "".join(result.chunks) == result.text, "the result is what was streamed"
    for shown in result.shown:
        assert result.text.startswith(shown), f"{shown!r} was shown, then cut back"
    assert full.startswith(result.text)
    assert not any(s in result.text for s in stop), "a stop sequence was shown"
    if result.finish == "stop":
        assert any(full.startswith(s, len(result.text)) for s in stop)
    else:
        assert result.text == full
    return result


@pytest.mark.parametrize(
    ("pieces", "stop", "text", "chunks"),
    [
        (["Hello", " Us", "er:", " hi"], ("User:",), "Hello ", ["Hello", " "]),
        (
            ["Hello", " Us", "ual", " day"],
            ("User:",),
            "Hello Usual day",
            ["Hello", " ", "Usual", " day"],
        ),
        (["a", "b", "c"], ("abcd", "bc"), "a", ["a"]),
        (["one\n", "\n", "two"], ("\n\n",), "one", ["one"]),
        (["END"], ("END",), "", []),
        (["x", "E", "N"], ("END",), "xEN", ["x", "EN"]),
        (["no stops here"], (), "no stops here", ["no stops here"]),
        (["ab", "c"], ("b", "abc"), "a", ["a"]),
        (["aa", "a", "ab"], ("aaab",), "a", ["a"]),
    ],
)
def test_stream_examples(
    pieces: list[str], stop: tuple[str, ...], text: str, chunks: list[str]
) -> None:
    """Held-back text is released as soon as it cannot be a stop, or flushed at the end."""
    result = check_stream(pieces, stop)
    assert result.text == text
    assert result.chunks == chunks


def test_stream_holds_a_stop_split_over_many_pieces() -> None:
    """A stop sequence arriving one character at a time is never partly shown."""
    pieces = ["The answer", " is 4.", "\n", "\n", "U", "s", "er", ":", " next"]
    result = check_stream(pieces, ("\n\nUser:",))
    assert result.finish == "stop"
    assert result.text == "The answer is 4."
    assert result.shown[-2] == "The answer is 4."


def test_stream_releases_text_once_it_cannot_be_a_stop() -> None:
    """A near miss is shown as soon as the next piece rules the stop out."""
    result = check_stream(["a\n", "\n", "User"], ("\n\nUser:",))
    assert result.shown == ["a", "a", "a"]
    assert result.chunks == ["a", "\n\nUser"]
    result = check_stream(["a\n", "\n", "Uh"], ("\n\nUser:",))
    assert result.shown == ["a", "a", "a\n\nUh"]


@pytest.mark.parametrize("seed", range(300))
def test_stream_random(seed: int) -> None:
    """Random texts over a tiny alphabet hit overlapping and self-similar stop sequences."""
    rng = random.Random(seed)
    alphabet = "ab\n"
    full = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    stop = tuple(
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5)))
        for _ in range(rng.randint(0, 3))
    )
    cuts = sorted(rng.sample(range(1, len(full)), k=min(max(len(full) - 1, 0), rng.randint(0, 12))))
    pieces = [full[i:j] for i, j in zip([0, *cuts], [*cuts, len(full)], strict=True)]
    check_stream(pieces, stop)


# -- LoadOptions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_ctx": -1}, "context size must be between 0 and 1048576, got -1"),
        ({"n_ctx": (1 << 20) + 1}, "context size must be between 0 and 1048576, got 1048577"),
        ({"n_threads": 0}, "threads must be between 1 and 512, got 0"),
        ({"n_threads": 513}, "threads must be between 1 and 512, got 513"),
        (
            {"n_gpu_layers": -2},
            "GPU layers must be -1 (all), 0 (none) or a layer count, got -2",
        ),
        ({"n_batch": 0}, "batch size must be between 1 and 65536, got 0"),
        ({"n_batch": 65537}, "batch size must be between 1 and 65536, got 65537"),
    ],
)
def test_load_options_refused(kwargs: dict[str, int], message: str) -> None:
    """Bad load settings fail in the parent with a clear message, not in llama.cpp."""
    with pytest.raises(PlaygroundError) as info:
        LoadOptions(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"n_ctx": 0},
        {"n_ctx": 1 << 20},
        {"n_threads": 1},
        {"n_threads": 512},
        {"n_gpu_layers": -1},
        {"n_gpu_layers": 999},
        {"n_batch": 1},
        {"n_batch": 1 << 16},
    ],
)
def test_load_options_accepted(kwargs: dict[str, int]) -> None:
    """The documented special values (0 = trained context, -1 = all layers) are allowed."""
    options = LoadOptions(**kwargs)
    for name, value in kwargs.items():
        assert getattr(options, name) == value
