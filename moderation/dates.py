"""The one parser for dates people and scripts type: YYYY-MM-DD days and ISO 8601 moments.

Python's own parsers accept digits from any script, and a moment near year 1 or 9999 with an
offset overflows when converted to UTC (a 500). Here a date is ASCII digits, a moment whose UTC
form would leave the calendar is refused, and anything wrong is a ValueError with a sentence to
show. Whole days at the ends of the calendar (0001-01-01 … 9999-12-31) stay valid: filters
use them to mean "from the start" and "to the end"."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.,]+)?(Z|[+-][0-9:]+)?",
                     re.IGNORECASE)


def parse_day(value: str) -> date:
    """A calendar day written YYYY-MM-DD."""
    value = (value or "").strip()
    if not _DAY.fullmatch(value):
        raise ValueError("write the date as YYYY-MM-DD, for example 2024-05-31")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("there is no such day (YYYY-MM-DD, for example 2024-05-31)") from None


def parse_moment(value: str) -> datetime:
    """An ISO 8601 date or date and time; an offset is converted to UTC and dropped (what is
    stored is naive UTC). A bare date is its midnight."""
    value = (value or "").strip()
    if not value.isascii() or not _MOMENT.fullmatch(value):
        raise ValueError("use ISO 8601, like 2024-05-01 or 2024-05-01T12:00:00Z")
    if value[-1] in "zZ":
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValueError("in UTC that moment falls outside the calendar") from None
    return moment
