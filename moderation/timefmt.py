"""Human times for templates: "3 minutes ago"."""

from datetime import datetime

from moderation.models import utcnow

_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60))


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return ""
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in _UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "just now"
