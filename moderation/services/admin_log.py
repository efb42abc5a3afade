"""The admin event log: who changed a user, an article, a word list or imported history."""

from __future__ import annotations

from moderation.extensions import db
from moderation.models import AdminEvent, User, utcnow


def record(actor: User | None, action: str, target: str, **detail) -> AdminEvent:
    event = AdminEvent(actor_id=actor.id if actor else None, action=action, target=target[:200],
                       detail=detail or None, created_at=utcnow())
    db.session.add(event)
    db.session.flush()
    return event


def recent(limit: int = 50, action_prefix: str | None = None) -> list[AdminEvent]:
    query = db.select(AdminEvent).order_by(AdminEvent.id.desc()).limit(limit)
    if action_prefix:
        query = query.where(AdminEvent.action.startswith(action_prefix, autoescape=True))
    return list(db.session.execute(query).scalars())
