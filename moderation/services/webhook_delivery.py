"""Delivering webhooks, by the worker only (never inside a request).

1. fan_out: undispatched outbox events become one delivery per subscribed active endpoint,
   in event order; one worker at a time (a compare-and-swap on the events' dispatched_at).
2. claim_next: one endpoint's earliest pending delivery, if due, under a lease, claimed just
   before it is sent; a later event of an endpoint is never sent while an earlier one waits.
3. send: POST the signed JSON to the address the URL's host resolves to now, if allowed,
   within the timeout in all (services/webhook_http).
4. record: delivered on 2xx; otherwise retried with exponential backoff, failed after the
   last attempt. Only the claim's holder may record (a compare-and-swap on the token)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from moderation.extensions import db
from moderation.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
    utcnow,
)
from moderation.services import webhook_http, webhook_signing
from moderation.services.events import iso
from moderation.services.webhook_http import Result

FAN_OUT_BATCH = 500
ROWS_PER_INSERT = 1000  # six values a row: well under SQLite's limit on bound values
CLAIM_TRIES = 5  # heads another worker claims first are skipped: the next one is tried
# A lease outlives the longest send by this much, for the database round trips around it.
LEASE_MARGIN_SECONDS = 10.0
PENDING = DeliveryStatus.PENDING
PING = "ping"  # the test event an admin sends: dispatched by hand, to one endpoint
GAP_SECONDS = 10.0
PURGE_BATCH = 1000


class FanOutRace(Exception):
    """Another worker is fanning out the same events: roll back and leave them to it."""


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    max_seconds: float
    max_attempts: int

    @classmethod
    def from_config(cls, config) -> RetryPolicy:
        return cls(float(config["MODERATION_WEBHOOKS_RETRY_BASE_SECONDS"]),
                   float(config["MODERATION_WEBHOOKS_RETRY_MAX_SECONDS"]),
                   max(1, int(config["MODERATION_WEBHOOKS_MAX_ATTEMPTS"])))

    def delay(self, attempts: int) -> float:
        """After `attempts` failed attempts: base, 2*base, 4*base … capped."""
        return min(self.max_seconds, self.base_seconds * (2 ** max(0, attempts - 1)))


def check_lease(lease_seconds: float, timeout: float) -> None:
    """A claim must outlast the longest send, or another worker could claim and send the same
    delivery while the first still waits on the receiver."""
    if lease_seconds < timeout + LEASE_MARGIN_SECONDS:
        raise ValueError(
            f"MODERATION_WEBHOOKS_LEASE_SECONDS ({lease_seconds:g}) must be at least "
            f"MODERATION_WEBHOOKS_TIMEOUT_SECONDS ({timeout:g}) + {LEASE_MARGIN_SECONDS:g}: "
            "a delivery's lease must outlast its longest send.")


@dataclass(frozen=True)
class Outgoing:
    """One claimed delivery, read before any network call (no session is held open)."""
    delivery_id: int
    endpoint_id: int
    token: str  # the claim's: only its holder may record the attempt
    kind: str
    url: str
    secret: str
    body: bytes
    attempts: int


# -- 1. fan out ----------------------------------------------------------------------------
def fan_out(limit: int = FAN_OUT_BATCH, now: datetime | None = None,
            gap_seconds: float = GAP_SECONDS) -> int:
    """Turn up to `limit` undispatched events into deliveries, in id order and without
    passing a gap (see ready_events); returns how many events."""
    now = now or utcnow()
    table = OutboxEvent.__table__
    ids = ready_events(limit, settled_before=now - timedelta(seconds=gap_seconds))
    if not ids:
        return 0
    taken = db.session.execute(
        db.update(table).where(table.c.id.in_(ids), table.c.dispatched_at.is_(None))
        .values(dispatched_at=now).returning(table.c.id)).scalars().all()
    if len(taken) != len(ids):  # a concurrent fan-out holds some: keep the order, let it
        raise FanOutRace(f"{len(ids) - len(taken)} events were taken by another worker")
    kinds = db.session.execute(db.select(table.c.id, table.c.kind).where(table.c.id.in_(ids))
                               .order_by(table.c.id)).all()
    endpoints = db.session.execute(db.select(WebhookEndpoint.id, WebhookEndpoint.events)
                                   .where(WebhookEndpoint.active.is_(True))).all()
    rows = [{"endpoint_id": endpoint.id, "event_id": event.id,
             "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now,
             "created_at": now}
            for event in kinds for endpoint in endpoints if event.kind in (endpoint.events or ())]
    for start in range(0, len(rows), ROWS_PER_INSERT):
        db.session.execute(db.insert(WebhookDelivery.__table__)
                           .values(rows[start:start + ROWS_PER_INSERT]))
    return len(ids)


def ready_events(limit: int, settled_before: datetime) -> list[int]:
    """Undispatched events that may go out now, in id order. Ids are handed out before their
    transactions commit (on PostgreSQL), so a missing id just above the last dispatched one
    may be an event still on its way: the events after it wait until the first of them was
    written before `settled_before`; then the gap is taken for a rolled-back transaction. An
    event that commits even later still goes out, late (and out of order)."""
    table = OutboxEvent.__table__
    mark = _mark()
    newer = table.c.dispatched_at.is_(None)
    if mark is not None:
        newer = db.or_(newer, table.c.id > mark)
    rows = db.session.execute(
        db.select(table.c.id, table.c.created_at, table.c.dispatched_at).where(newer)
        .order_by(table.c.id).limit(limit)).all()
    ready, expected = [], None if mark is None else mark + 1
    for row in rows:
        if expected is not None and row.id > expected and row.created_at > settled_before:
            break  # ids expected … row.id - 1 may still commit: keep the order, wait
        if row.dispatched_at is None:
            ready.append(row.id)
        expected = row.id + 1 if expected is None else max(expected, row.id + 1)
    return ready


def _mark() -> int | None:
    """The highest id fan-out dispatched (pings are dispatched by hand): purge keeps it."""
    table = OutboxEvent.__table__
    return db.session.execute(
        db.select(db.func.max(table.c.id))
        .where(table.c.dispatched_at.is_not(None), table.c.kind != PING)).scalar()


# -- 2. claim ------------------------------------------------------------------------------
def claim_next(lease_seconds: float, *, skip=(), now: datetime | None = None) -> Outgoing | None:
    """Claim one active endpoint's earliest pending delivery that is due and not held by
    another worker (endpoints in `skip` wait their turn), and read it; None when there is none.
    One at a time, just before it is sent: no lease runs down while other sends go out."""
    now = now or utcnow()
    head, due = _due_heads(now)
    if skip:
        due = due.where(head.c.endpoint_id.not_in(list(skip)))
    candidates = db.session.execute(
        due.order_by(head.c.next_attempt_at, head.c.id).limit(CLAIM_TRIES)).scalars().all()
    table = WebhookDelivery.__table__
    for candidate in candidates:
        token = secrets.token_hex(16)
        # A compare-and-swap: another worker may hold it by now. The row's own conditions are
        # what PostgreSQL checks again after waiting for a concurrent claim's lock.
        _, still_due = _due_heads(now)
        claimed = db.session.execute(
            db.update(table).where(table.c.id == candidate, table.c.status == PENDING,
                                   _free(table, now), table.c.id.in_(still_due))
            .values(claim_token=token, claim_expires_at=now + timedelta(seconds=lease_seconds))
        ).rowcount
        if claimed == 1:
            return outgoing(token)
    return None


def _due_heads(now: datetime):
    """(the alias, a select of ids of) each active endpoint's earliest pending delivery,
    if it is due and free."""
    table = WebhookDelivery.__table__
    line, head = table.alias("line"), table.alias("head")
    first = (db.select(db.func.min(line.c.event_id))
             .where(line.c.endpoint_id == head.c.endpoint_id, line.c.status == PENDING)
             .correlate(head).scalar_subquery())
    endpoints = WebhookEndpoint.__table__
    return head, (db.select(head.c.id)
                  .join(endpoints, endpoints.c.id == head.c.endpoint_id)
                  .where(endpoints.c.active.is_(True), head.c.status == PENDING,
                         head.c.event_id == first, head.c.next_attempt_at <= now,
                         _free(head, now)))


def _free(table, now: datetime):
    return db.or_(table.c.claim_expires_at.is_(None), table.c.claim_expires_at < now)


def outgoing(token: str) -> Outgoing | None:
    row = db.session.execute(
        db.select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.attempts,
                  WebhookEndpoint.url, WebhookEndpoint.secret,
                  OutboxEvent.id.label("event_id"), OutboxEvent.kind,
                  OutboxEvent.created_at, OutboxEvent.payload)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.claim_token == token)).one_or_none()
    if row is None:
        return None
    return Outgoing(row.id, row.endpoint_id, token, row.kind, row.url, row.secret, body(row),
                    row.attempts)


def body(event) -> bytes:
    """The JSON a receiver gets: the event's id (the same for every endpoint and every
    redelivery: receivers dedupe on it), its type, when it happened and its data."""
    return json.dumps({"id": event.event_id, "type": event.kind,
                       "created_at": iso(event.created_at), "data": event.payload},
                      separators=(",", ":"), ensure_ascii=False).encode()


# -- 3. send -------------------------------------------------------------------------------
def send(item: Outgoing, *, timeout: float, allow_private: bool) -> Result:
    """One attempt, over within `timeout` seconds in all. It never raises: whatever goes
    wrong is a failed attempt with the error's text."""
    headers = {"Content-Type": "application/json", "X-Moderation-Event": item.kind,
               "X-Moderation-Delivery": str(item.delivery_id),
               "X-Moderation-Signature": webhook_signing.header(item.secret, item.body)}
    return webhook_http.send(item.url, headers, item.body, timeout=timeout,
                             allow_private=allow_private)


# -- 4. record -----------------------------------------------------------------------------
def record(item: Outgoing, result: Result, policy: RetryPolicy,
           now: datetime | None = None) -> bool:
    """Store the attempt if the claim is still ours; False when it is not (a redelivery
    reset it, or our lease ran out): then another attempt is already in line."""
    now = now or utcnow()
    attempts = item.attempts + 1
    values = {"attempts": attempts, "last_attempt_at": now, "last_status": result.status,
              "last_error": result.error, "claim_token": None, "claim_expires_at": None}
    if result.delivered:
        values.update(status=DeliveryStatus.DELIVERED, delivered_at=now)
    elif attempts >= policy.max_attempts:
        values.update(status=DeliveryStatus.FAILED)
    else:
        values.update(next_attempt_at=now + timedelta(seconds=policy.delay(attempts)))
    table = WebhookDelivery.__table__
    return db.session.execute(
        db.update(table).where(table.c.id == item.delivery_id, table.c.claim_token == item.token)
        .values(**values)).rowcount == 1


# -- 5. forget -----------------------------------------------------------------------------
def purge(keep_days: float, *, limit: int = PURGE_BATCH, now: datetime | None = None) -> int:
    """Delete one batch (at most `limit` rows of each) of what is over and older than
    `keep_days`: delivered and failed deliveries last tried before then, then dispatched events
    no delivery refers to any more. Waiting deliveries and their events stay however old (a
    disabled endpoint's line), and so does fan-out's mark. Returns how many rows went."""
    cutoff = (now or utcnow()) - timedelta(days=keep_days)
    deliveries = WebhookDelivery.__table__
    finished = (db.select(deliveries.c.id)
                .where(deliveries.c.status.in_([DeliveryStatus.DELIVERED, DeliveryStatus.FAILED]),
                       db.func.coalesce(deliveries.c.last_attempt_at,
                                        deliveries.c.created_at) < cutoff)
                .limit(limit))
    gone = db.session.execute(
        db.delete(deliveries).where(deliveries.c.id.in_(finished))).rowcount
    events = OutboxEvent.__table__
    old = (db.select(events.c.id)
           .where(events.c.dispatched_at < cutoff,
                  ~db.exists().where(deliveries.c.event_id == events.c.id)))
    mark = _mark()
    if mark is not None:
        old = old.where(events.c.id != mark)
    return gone + db.session.execute(
        db.delete(events).where(events.c.id.in_(old.limit(limit)))).rowcount
