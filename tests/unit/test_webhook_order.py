"""Events go out in id order even though PostgreSQL hands ids out before commit: an event is
not fanned out while an earlier id may still commit, until that gap is older than
MODERATION_WEBHOOKS_GAP_SECONDS (a rolled-back transaction); an event that commits even
later still goes out. Time is moved by passing `now`, never by sleeping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import OutboxEvent, WebhookDelivery, utcnow
from moderation.services import events, webhook_delivery, webhooks

GAP = webhook_delivery.GAP_SECONDS


@pytest.fixture
def app_config():
    return {"MODERATION_WEBHOOKS_ALLOW_PRIVATE": True}


@pytest.fixture
def first_event(ctx) -> int:
    """An endpoint for article events, and one such event already fanned out."""
    webhooks.create(None, url="http://127.0.0.1:9/hook", description=None,
                    kinds=["article.created"])
    event = events.emit("article.created", {"id": 0})
    db.session.commit()
    assert webhook_delivery.fan_out() == 1
    db.session.commit()
    return event.id


def write_event(event_id: int, created_at=None, **columns) -> None:
    """An event committed with this id, as a transaction that got it earlier would."""
    values = {"id": event_id, "kind": "article.created", "payload": {"id": event_id},
              "created_at": created_at or utcnow(), **columns}
    db.session.execute(db.insert(OutboxEvent.__table__).values(**values))
    db.session.commit()


def delivered_order() -> list[int]:
    return list(db.session.execute(db.select(WebhookDelivery.event_id)
                                   .order_by(WebhookDelivery.id)).scalars())


def test_an_event_waits_while_an_earlier_id_may_still_commit(first_event):
    write_event(first_event + 2)  # first_event + 1 is still in its transaction

    assert webhook_delivery.fan_out() == 0
    write_event(first_event + 1)
    assert webhook_delivery.fan_out() == 2

    assert delivered_order() == [first_event, first_event + 1, first_event + 2]


def test_a_gap_older_than_the_grace_is_a_rolled_back_transaction(first_event):
    written = utcnow()
    write_event(first_event + 2, created_at=written)
    assert webhook_delivery.fan_out(now=written + timedelta(seconds=GAP - 1)) == 0

    assert webhook_delivery.fan_out(now=written + timedelta(seconds=GAP + 1)) == 1
    write_event(first_event + 1)  # it committed after all, very late: still sent
    assert webhook_delivery.fan_out() == 1

    assert delivered_order() == [first_event, first_event + 2, first_event + 1]


def test_a_test_event_does_not_let_later_events_pass_a_gap(first_event):
    write_event(first_event + 2)
    # what webhooks.send_test writes: dispatched at once (here with the next id)
    write_event(first_event + 3, kind=webhooks.PING, dispatched_at=utcnow())

    assert webhook_delivery.fan_out() == 0


def test_an_uncommitted_event_holds_back_the_ones_committed_after_it(first_event):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: ids are committed in order")
    with db.engine.connect() as slow:
        slow_id = slow.execute(db.insert(OutboxEvent.__table__).values(
            kind="article.created", payload={"id": "slow"}, created_at=utcnow())
            .returning(OutboxEvent.id)).scalar_one()
        fast = events.emit("article.created", {"id": "fast"})
        db.session.commit()
        assert fast.id > slow_id

        assert webhook_delivery.fan_out() == 0
        db.session.commit()
        slow.commit()
    assert webhook_delivery.fan_out() == 2

    assert delivered_order() == [first_event, slow_id, fast.id]
