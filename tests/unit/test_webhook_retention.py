"""Old webhook history is forgotten: delivered and failed deliveries and dispatched events
older than MODERATION_WEBHOOKS_KEEP_DAYS go, in bounded batches, while deliveries still
waiting (a disabled endpoint's line), their events, and fan-out's mark stay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import DeliveryStatus, OutboxEvent, WebhookDelivery, utcnow
from moderation.services import events, webhook_delivery, webhooks
from moderation.webhook_sender import WebhookSender

LONG_AGO = timedelta(days=31)


@pytest.fixture
def app_config():
    return {"MODERATION_WEBHOOKS_ALLOW_PRIVATE": True, "MODERATION_WEBHOOKS_KEEP_DAYS": 30}


@pytest.fixture
def history(ctx) -> list[int]:
    """Five events a month old: the first four went to a (now disabled) endpoint, with
    outcomes delivered long ago, failed long ago, delivered just now and still waiting; the
    fifth interested nobody. Returns the event ids."""
    endpoint, _ = webhooks.create(None, url="http://127.0.0.1:9/hook", description=None,
                                  kinds=["article.created"])
    written = [events.emit("article.created", {"id": n}) for n in range(4)]
    written.append(events.emit("comment.removed", {"id": 4}))
    db.session.commit()
    ids = [event.id for event in written]
    webhook_delivery.fan_out()
    webhooks.set_active(None, endpoint, False)
    month_ago = utcnow() - LONG_AGO
    db.session.execute(db.update(OutboxEvent).values(created_at=month_ago,
                                                     dispatched_at=month_ago))
    outcomes = [(DeliveryStatus.DELIVERED, month_ago), (DeliveryStatus.FAILED, month_ago),
                (DeliveryStatus.DELIVERED, utcnow()), (DeliveryStatus.PENDING, None)]
    for event_id, (status, tried) in zip(ids, outcomes, strict=False):
        db.session.execute(db.update(WebhookDelivery).where(WebhookDelivery.event_id == event_id)
                           .values(status=status, last_attempt_at=tried, created_at=month_ago))
    db.session.commit()
    return ids


def kept() -> tuple[list[int], list[int]]:
    db.session.expire_all()
    deliveries = db.session.execute(db.select(WebhookDelivery.event_id)
                                    .order_by(WebhookDelivery.event_id)).scalars()
    outbox = db.session.execute(db.select(OutboxEvent.id).order_by(OutboxEvent.id)).scalars()
    return list(deliveries), list(outbox)


def test_the_worker_forgets_finished_deliveries_and_their_events_after_keep_days(
        ctx, history):
    WebhookSender(ctx).run_once()

    recent, waiting, mark = history[2], history[3], history[4]
    assert kept() == ([recent, waiting], [recent, waiting, mark])


def test_old_history_goes_in_bounded_batches(ctx, history):
    assert webhook_delivery.purge(30, limit=1) == 2  # one delivery, then its event
    db.session.commit()
    assert kept()[0] == history[1:4]

    assert webhook_delivery.purge(30, limit=1) == 2
    assert webhook_delivery.purge(30, limit=1) == 0
    db.session.commit()
    assert kept() == (history[2:4], history[2:5])


def test_nothing_is_forgotten_when_keep_days_is_zero(ctx, history):
    ctx.config["MODERATION_WEBHOOKS_KEEP_DAYS"] = 0

    WebhookSender(ctx).run_once()

    assert kept() == (history[:4], history)
