"""Webhook endpoints (admins add, edit, disable them and rotate their secrets) and the events
a change writes to the outbox for them. Events are written only for kinds some active
endpoint subscribes to; each process keeps that set of kinds for a few seconds, so a comment
post costs no statement when nobody listens."""

from __future__ import annotations

import secrets
import time

from flask import current_app

from moderation.extensions import db
from moderation.models import (
    Comment,
    CommentState,
    Decision,
    DeliveryStatus,
    OutboxEvent,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from moderation.services import admin_log, events, webhook_delivery, webhook_guard

KINDS = events.KINDS
PING = webhook_delivery.PING  # the test event an admin sends by hand; never subscribed to
MAX_DESCRIPTION = 200
# A comment's new state and the event that tells subscribers (queued and pending: none).
STATE_EVENTS = {CommentState.APPROVED: "comment.published", CommentState.HELD: "comment.held",
                CommentState.REJECTED: "comment.rejected"}
_CACHE = "webhook_kinds"  # app.extensions key: (frozenset of kinds, monotonic expiry)


class WebhookError(ValueError):
    """The endpoint cannot be saved as asked; the message says why, for a person."""


# -- which kinds anyone listens to ------------------------------------------------------
def subscribed_kinds() -> frozenset[str]:
    """Kinds some active endpoint subscribes to, read at most every
    MODERATION_WEBHOOKS_KINDS_SECONDS per process."""
    app = current_app._get_current_object()
    cached = app.extensions.get(_CACHE)
    if cached is not None and time.monotonic() < cached[1]:
        return cached[0]
    lists = db.session.execute(db.select(WebhookEndpoint.events)
                               .where(WebhookEndpoint.active.is_(True))).scalars()
    kinds = frozenset(kind for listed in lists for kind in listed or ())
    ttl = float(app.config["MODERATION_WEBHOOKS_KINDS_SECONDS"])
    app.extensions[_CACHE] = (kinds, time.monotonic() + ttl)
    return kinds


def wants(kind: str) -> bool:
    return kind in subscribed_kinds()


def forget_kinds() -> None:
    """After a change to endpoints: this process reads them afresh (others within seconds)."""
    current_app.extensions.pop(_CACHE, None)


# -- events about comments ---------------------------------------------------------------
def kind_for(decision: Decision) -> str | None:
    """The event a state change (by a person or a policy) means, if any."""
    from moderation.services.decide import is_take_down  # decide imports lifecycle

    if is_take_down(decision):
        return "comment.removed"
    return STATE_EVENTS.get(decision.to_state)


def after_change(comment: Comment, decision: Decision) -> None:
    """lifecycle.change_state calls this in the change's own transaction."""
    kind = kind_for(decision)
    if kind is not None and wants(kind):
        events.emit(kind, events.comment_data(comment))


def emit_moves(moved: dict[int, CommentState], now=None) -> int:
    """The worker banded a batch: one multi-row insert of the events its moves mean
    (comment id -> new state), in comment order; returns how many were written."""
    wanted = subscribed_kinds()
    kinds = {cid: STATE_EVENTS.get(state) for cid, state in moved.items()}
    kinds = {cid: kind for cid, kind in kinds.items() if kind in wanted}
    if not kinds:
        return 0
    comments = db.session.execute(
        db.select(Comment).where(Comment.id.in_(list(kinds))).order_by(Comment.id)
        .options(db.joinedload(Comment.article)).execution_options(populate_existing=True)
    ).scalars()
    now = now or utcnow()
    rows = [{"kind": kinds[comment.id], "payload": events.comment_data(comment),
             "created_at": now} for comment in comments]
    db.session.execute(db.insert(OutboxEvent.__table__).values(rows))
    return len(rows)


# -- endpoints ---------------------------------------------------------------------------
def list_endpoints() -> list[WebhookEndpoint]:
    return list(db.session.execute(db.select(WebhookEndpoint).order_by(WebhookEndpoint.id))
                .scalars())


def get_endpoint(endpoint_id: int) -> WebhookEndpoint | None:
    return db.session.get(WebhookEndpoint, endpoint_id)


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def _settings(endpoint: WebhookEndpoint) -> dict:
    return {"url": endpoint.url, "description": endpoint.description,
            "events": list(endpoint.events or []), "active": endpoint.active}


def _validated(url: str, description: str | None, kinds) -> tuple[str, str | None, list[str]]:
    url = (url or "").strip()
    try:
        timeout = float(current_app.config["MODERATION_WEBHOOKS_TIMEOUT_SECONDS"])
        webhook_guard.check(url, allow_private=allow_private(), timeout=timeout)
    except webhook_guard.UnsafeURL as error:
        raise WebhookError(str(error)) from None
    description = (description or "").strip() or None
    if description and len(description) > MAX_DESCRIPTION:
        raise WebhookError(f"A description is at most {MAX_DESCRIPTION} characters.")
    chosen = [kind for kind in KINDS if kind in set(kinds or ())]
    unknown = set(kinds or ()) - set(KINDS)
    if unknown:
        raise WebhookError(f"Unknown event {sorted(unknown)[0]!r}: use {', '.join(KINDS)}.")
    if not chosen:
        raise WebhookError("Choose at least one event to send.")
    return url, description, chosen


def allow_private() -> bool:
    return bool(current_app.config["MODERATION_WEBHOOKS_ALLOW_PRIVATE"])


def create(actor: User | None, *, url: str, description: str | None, kinds,
           active: bool = True) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (show it to the admin: the page is the only place)."""
    url, description, kinds = _validated(url, description, kinds)
    secret = new_secret()
    endpoint = WebhookEndpoint(url=url, description=description, events=kinds,
                               active=bool(active), secret=secret, created_at=utcnow(),
                               updated_at=utcnow())
    db.session.add(endpoint)
    db.session.flush()
    admin_log.record(actor, "webhook.create", f"webhook #{endpoint.id} to {url}",
                     after=_settings(endpoint))
    forget_kinds()
    return endpoint, secret


def update(actor: User | None, endpoint: WebhookEndpoint, *, url: str,
           description: str | None, kinds, active: bool) -> bool:
    """Save an edit; False when nothing changed (and nothing is logged)."""
    url, description, kinds = _validated(url, description, kinds)
    before = _settings(endpoint)
    endpoint.url, endpoint.description, endpoint.events = url, description, kinds
    endpoint.active = bool(active)
    after = _settings(endpoint)
    if after == before:
        return False
    endpoint.updated_at = utcnow()
    db.session.flush()
    admin_log.record(actor, "webhook.update", f"webhook #{endpoint.id} to {url}",
                     before=before, after=after)
    forget_kinds()
    return True


def set_active(actor: User | None, endpoint: WebhookEndpoint, active: bool) -> bool:
    if endpoint.active == bool(active):
        return False
    endpoint.active, endpoint.updated_at = bool(active), utcnow()
    db.session.flush()
    admin_log.record(actor, "webhook.enable" if active else "webhook.disable",
                     f"webhook #{endpoint.id} to {endpoint.url}")
    forget_kinds()
    return True


def rotate_secret(actor: User | None, endpoint: WebhookEndpoint) -> str:
    """A new secret at once: deliveries from now on (retries too) are signed with it."""
    endpoint.secret, endpoint.updated_at = new_secret(), utcnow()
    db.session.flush()
    admin_log.record(actor, "webhook.rotate_secret", f"webhook #{endpoint.id} to {endpoint.url}")
    return endpoint.secret


# -- the delivery log, redelivery and the test event ----------------------------------------
def recent_deliveries(endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    return list(db.session.execute(
        db.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
        .options(db.joinedload(WebhookDelivery.event))
        .order_by(WebhookDelivery.id.desc()).limit(limit)).scalars())


def get_delivery(endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery | None:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    return delivery if delivery is not None and delivery.endpoint_id == endpoint.id else None


def redeliver(actor: User | None, delivery: WebhookDelivery) -> None:
    """Send it again (delivered, failed or waiting alike) as soon as the worker gets to it,
    with a fresh set of attempts. It takes its place in the endpoint's event order."""
    delivery.status, delivery.attempts, delivery.next_attempt_at = (
        DeliveryStatus.PENDING, 0, utcnow())
    # A send in flight can no longer record its result: this attempt replaces it.
    delivery.claim_token = delivery.claim_expires_at = None
    db.session.flush()
    admin_log.record(actor, "webhook.redeliver",
                     f"webhook #{delivery.endpoint_id}: delivery #{delivery.id}",
                     event_id=delivery.event_id)


def send_test(actor: User | None, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `ping` for this endpoint only, queued behind its other deliveries."""
    if not endpoint.active:
        raise WebhookError("This endpoint is disabled: enable it to send a test event.")
    now = utcnow()
    event = OutboxEvent(kind=PING, created_at=now, dispatched_at=now,  # fanned out by hand
                        payload={"endpoint_id": endpoint.id,
                                 "message": "A test event sent from the admin pages."})
    db.session.add(event)
    db.session.flush()
    delivery = WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id,
                               status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now,
                               created_at=now)
    db.session.add(delivery)
    db.session.flush()
    admin_log.record(actor, "webhook.test", f"webhook #{endpoint.id} to {endpoint.url}",
                     delivery_id=delivery.id)
    return delivery
