"""How numbers, times and stored things are named to a person, the same in the window and the CLI.

Files (CSV, JSONL, the database) keep their own fields: samples counted from 0, ISO times, row
ids. Only what a person reads goes through here, so "sample 1", "Run 3" or "today 14:02" mean
one thing wherever they appear.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Literal

from playground.errors import PlaygroundError

#: What a stored comparison is: one made to compare, or one Playground run saved the same way.
ComparisonKind = Literal["comparison", "run"]
COMPARISON_KINDS: tuple[ComparisonKind, ...] = ("comparison", "run")


class NumberError(PlaygroundError):
    """A comparison or run number given on the command line cannot be read."""


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 token``, ``2 tokens``, ``0 runs``; ``many`` for words that do not just take an s."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def sample_label(sample: int) -> str:
    """A stored sample index (0-based, as files keep it) as a person counts it: ``sample 1``."""
    return f"sample {sample + 1}"


def comparison_label(kind: str, number: int) -> str:
    """``#3`` for comparison 3, ``Run 3`` for Playground run 3: each kind has its own numbers."""
    return f"Run {number}" if kind == "run" else f"#{number}"


#: English month names whatever the machine's locale, like the rest of the app's wording.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_REFERENCE = re.compile(r"^\s*(?:(?P<run>r|run)\s*)?#?\s*(?P<number>\d+)\s*$", re.IGNORECASE)


def parse_reference(text: str) -> tuple[ComparisonKind, int]:
    """What a person types for one of them, as listed: ``3`` or ``#3`` is comparison #3; ``r3``,
    ``run3`` or ``run 3`` is Playground run 3."""
    match = _REFERENCE.match(text)
    if match is None or int(match["number"]) < 1:
        raise NumberError(
            f"{text.strip()!r} is not a comparison or run number: use 3 (or #3) for comparison "
            "#3, r3 (or 'run 3') for Playground run 3, as `playground history` lists them"
        )
    kind: ComparisonKind = "run" if match["run"] else "comparison"
    return kind, int(match["number"])


def human_time(stamp: str, now: datetime | None = None) -> str:
    """A stored ISO time as a person reads it, in local time and to the minute: ``today 14:02``,
    ``yesterday 09:15``, else ``3 Dec 2026 10:00``. Text that is not an ISO time is given back
    as it is. ``now`` (aware) fixes the clock and the time zone; by default, the machine's."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    now = now or datetime.now().astimezone()
    if moment.tzinfo is None:  # stored times are UTC, also any written without an offset
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(now.tzinfo)
    clock = local.strftime("%H:%M")
    day = local.date()
    if day == now.date():
        return f"today {clock}"
    if day == now.date() - timedelta(days=1):
        return f"yesterday {clock}"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year} {clock}"
