"""Delivering webhooks, by the worker only (never inside a request).

1. fan_out: undispatched outbox events become one delivery per subscribed active endpoint,
   in event order; one worker at a time (a compare-and-swap on the events' dispatched_at).
2. claim_heads: each endpoint's earliest pending delivery, if due, under a lease; a later
   event of an endpoint is never sent while an earlier one waits for a retry.
3. send: POST the signed JSON to the address the URL's host resolves to now, if allowed.
4. record: delivered on 2xx; otherwise retried with exponential backoff, failed after the
   last attempt. Only the claim's holder may record (a compare-and-swap on the token)."""

from __future__ import annotations

import http.client
import json
import logging
import secrets
import socket
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
from moderation.services import webhook_guard, webhook_signing
from moderation.services.events import iso

FAN_OUT_BATCH = 500
ROWS_PER_INSERT = 1000  # six values a row: well under SQLite's limit on bound values
MAX_ERROR = 500
USER_AGENT = "moderation-webhooks/1"
log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Outgoing:
    """One claimed delivery, read before any network call (no session is held open)."""
    delivery_id: int
    kind: str
    url: str
    secret: str
    body: bytes
    attempts: int


@dataclass(frozen=True)
class Result:
    status: int | None  # the HTTP status, when the endpoint answered
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


# -- 1. fan out ----------------------------------------------------------------------------
def fan_out(limit: int = FAN_OUT_BATCH, now: datetime | None = None) -> int:
    """Turn up to `limit` undispatched events into deliveries; returns how many events."""
    now = now or utcnow()
    table = OutboxEvent.__table__
    ids = list(db.session.execute(
        db.select(table.c.id).where(table.c.dispatched_at.is_(None))
        .order_by(table.c.id).limit(limit)).scalars())
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


# -- 2. claim ------------------------------------------------------------------------------
def claim_heads(lease_seconds: float, now: datetime | None = None) -> str:
    """Claim each active endpoint's earliest pending delivery that is due and not held by
    another worker; returns the claim's token (outgoing(token) reads what it holds)."""
    now = now or utcnow()
    table = WebhookDelivery.__table__
    line, head = table.alias("line"), table.alias("head")
    pending = DeliveryStatus.PENDING
    first = (db.select(db.func.min(line.c.event_id))
             .where(line.c.endpoint_id == head.c.endpoint_id, line.c.status == pending)
             .correlate(head).scalar_subquery())
    endpoints = WebhookEndpoint.__table__
    due = (db.select(head.c.id)
           .join(endpoints, endpoints.c.id == head.c.endpoint_id)
           .where(endpoints.c.active.is_(True), head.c.status == pending,
                  head.c.event_id == first, head.c.next_attempt_at <= now, _free(head, now)))
    token = secrets.token_hex(16)
    db.session.execute(
        db.update(table).where(table.c.id.in_(due), table.c.status == pending,
                               _free(table, now))
        .values(claim_token=token, claim_expires_at=now + timedelta(seconds=lease_seconds)))
    return token


def _free(table, now: datetime):
    return db.or_(table.c.claim_expires_at.is_(None), table.c.claim_expires_at < now)


def outgoing(token: str) -> list[Outgoing]:
    rows = db.session.execute(
        db.select(WebhookDelivery.id, WebhookDelivery.attempts, WebhookEndpoint.url,
                  WebhookEndpoint.secret, OutboxEvent.id.label("event_id"), OutboxEvent.kind,
                  OutboxEvent.created_at, OutboxEvent.payload)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.claim_token == token).order_by(WebhookDelivery.id)).all()
    return [Outgoing(row.id, row.kind, row.url, row.secret, body(row), row.attempts)
            for row in rows]


def body(event) -> bytes:
    """The JSON a receiver gets: the event's id (the same for every endpoint and every
    redelivery: receivers dedupe on it), its type, when it happened and its data."""
    return json.dumps({"id": event.event_id, "type": event.kind,
                       "created_at": iso(event.created_at), "data": event.payload},
                      separators=(",", ":"), ensure_ascii=False).encode()


# -- 3. send -------------------------------------------------------------------------------
def send(item: Outgoing, *, timeout: float, allow_private: bool) -> Result:
    """One attempt. It never raises: whatever goes wrong is a failed attempt with the error's
    text, so one bad endpoint can neither stop the worker nor block its own line for good."""
    try:
        return _post(item, timeout=timeout, allow_private=allow_private)
    except Exception as error:
        log.exception("webhook delivery %d failed unexpectedly", item.delivery_id)
        return Result(None, f"{error.__class__.__name__}: {error}"[:MAX_ERROR])


def _post(item: Outgoing, *, timeout: float, allow_private: bool) -> Result:
    try:
        target = webhook_guard.check(item.url, allow_private=allow_private)
    except webhook_guard.UnsafeURL as refused:
        return Result(None, f"refused: {refused}")
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-Moderation-Event": item.kind, "X-Moderation-Delivery": str(item.delivery_id),
               "X-Moderation-Signature": webhook_signing.header(item.secret, item.body)}
    connection = _pinned(target, timeout)
    try:
        connection.request("POST", target.path, body=item.body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)
        return Result(response.status, None if 200 <= response.status < 300
                      else f"HTTP {response.status} {response.reason}"[:MAX_ERROR])
    except (OSError, http.client.HTTPException) as error:
        return Result(None, f"{error.__class__.__name__}: {error}"[:MAX_ERROR])
    finally:
        connection.close()


def _pinned(target: webhook_guard.Target, timeout: float) -> http.client.HTTPConnection:
    """A connection to the checked address, with the URL's host name for the Host header and
    for TLS (server name and certificate check). It never follows redirects."""
    kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = kind(target.host, target.port, timeout=timeout)

    def connect_to_checked(_address, *args):
        return socket.create_connection((target.address, target.port), *args)

    connection._create_connection = connect_to_checked
    return connection


# -- 4. record -----------------------------------------------------------------------------
def record(token: str, item: Outgoing, result: Result, policy: RetryPolicy,
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
        db.update(table).where(table.c.id == item.delivery_id, table.c.claim_token == token)
        .values(**values)).rowcount == 1
