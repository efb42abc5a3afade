"""Enums and helpers shared by the ORM classes."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import Enum

from moderation.scoring.base import BASE_LABELS, LABELS, SITE_LABEL  # noqa: F401  (re-exported)

# What an id column holds (PostgreSQL's integer); a bigger number is no row, and SQLite's
# driver cannot even bind one past 2**63.
MAX_ID = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def enum_column(enum_class: type[enum.Enum], name: str) -> Enum:
    # Store the value, as a plain string column with a CHECK: easy to read in SQL and to migrate.
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Role(enum.Enum):
    MODERATOR = "moderator"
    ADMIN = "admin"


class CommentState(enum.Enum):
    PENDING = "pending"  # received, not yet banded
    QUEUED = "queued"  # waiting for a moderator
    HELD = "held"  # reject band, held for review: top of the queue
    APPROVED = "approved"  # published
    REJECTED = "rejected"

    @property
    def awaits_moderator(self) -> bool:
        return self in (CommentState.QUEUED, CommentState.HELD)

    @property
    def is_final(self) -> bool:
        return self in (CommentState.APPROVED, CommentState.REJECTED)


OPEN_STATES = (CommentState.PENDING, CommentState.QUEUED, CommentState.HELD)


class Band(enum.Enum):
    APPROVE = "approve"
    QUEUE = "queue"
    REJECT = "reject"
