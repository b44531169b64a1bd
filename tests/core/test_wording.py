"""Numbers, times and stored things as a person reads them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from playground.wording import (
    NumberError,
    comparison_label,
    human_time,
    parse_reference,
    plural,
    sample_label,
)

#: A fixed clock, in a time zone two hours ahead of UTC.
ZONE = timezone(timedelta(hours=2))
NOW = datetime(2026, 12, 8, 15, 30, tzinfo=ZONE)


@pytest.mark.parametrize(("stamp", "shown"), [
    ("2026-12-08T12:02:00.000+00:00", "today 14:02"),  # stored in UTC, shown in local time
    ("2026-12-07T22:30:00+00:00", "today 00:30"),  # yesterday in UTC, today here
    ("2026-12-07T07:15:59.999+00:00", "yesterday 09:15"),
    ("2026-12-03T08:00:00+00:00", "3 Dec 2026 10:00"),
    ("2025-01-31T23:59:00+00:00", "1 Feb 2025 01:59"),
    ("2026-12-08T12:02:00", "today 14:02"),  # no offset: UTC, as the store writes
])
def test_times_read_as_today_yesterday_or_a_date(stamp: str, shown: str) -> None:
    assert human_time(stamp, NOW) == shown


def test_text_that_is_not_a_time_is_shown_as_it_is() -> None:
    assert human_time("sometime", NOW) == "sometime"


def test_plural_wording() -> None:
    assert plural(1, "token") == "1 token"
    assert plural(2, "token") == "2 tokens"
    assert plural(0, "run") == "0 runs"
    assert plural(1, "run") == "1 run"
    assert plural(12_000, "token") == "12,000 tokens"
    assert plural(2, "child", "children") == "2 children"


def test_samples_count_from_one_and_kinds_have_their_own_labels() -> None:
    assert sample_label(0) == "sample 1"
    assert sample_label(4) == "sample 5"
    assert comparison_label("comparison", 3) == "#3"
    assert comparison_label("run", 3) == "Run 3"


@pytest.mark.parametrize(("text", "reference"), [
    ("3", ("comparison", 3)),
    ("#12", ("comparison", 12)),
    ("r3", ("run", 3)),
    ("R3", ("run", 3)),
    ("run3", ("run", 3)),
    ("run 3", ("run", 3)),
    ("Run 3", ("run", 3)),
])
def test_what_a_person_types_for_a_number(text: str, reference: tuple[str, int]) -> None:
    assert parse_reference(text) == reference


@pytest.mark.parametrize("text", ["", "x3", "run", "0", "r-1", "3.5", "#"])
def test_a_number_that_cannot_be_read_says_how_to_write_one(text: str) -> None:
    with pytest.raises(NumberError, match=r"use 3 \(or #3\) for comparison #3, r3"):
        parse_reference(text)
