"""The one parser for dates people and scripts type: YYYY-MM-DD days and ISO 8601 moments.

Python's own parsers accept years 1 to 9999, where adding a day or converting an offset to
UTC overflows (a 500), and they accept digits from any script. Here a date is ASCII, between
FIRST_YEAR and LAST_YEAR, and anything else is a ValueError with a sentence to show."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

FIRST_YEAR = 1900
LAST_YEAR = 2999
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.,]+)?(Z|[+-][0-9:]+)?",
                     re.IGNORECASE)
RANGE = f"between {FIRST_YEAR} and {LAST_YEAR}"


def _in_range(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"the year must be {RANGE}")


def parse_day(value: str) -> date:
    """A calendar day written YYYY-MM-DD."""
    value = (value or "").strip()
    if not _DAY.fullmatch(value):
        raise ValueError("write the date as YYYY-MM-DD, for example 2024-05-31")
    day = date.fromisoformat(value)
    _in_range(day.year)
    return day


def parse_moment(value: str) -> datetime:
    """An ISO 8601 date or date and time; an offset is converted to UTC and dropped (what is
    stored is naive UTC). A bare date is its midnight."""
    value = (value or "").strip()
    if not value.isascii() or not _MOMENT.fullmatch(value):
        raise ValueError("use ISO 8601, like 2024-05-01 or 2024-05-01T12:00:00Z")
    if value[-1] in "zZ":
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    _in_range(moment.year)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
        _in_range(moment.year)
    return moment
