"""The worker's webhook step: fan new outbox events out to endpoints, then send what is due,
one delivery at a time, committing after each so a crash loses nothing (services/
webhook_delivery holds the rules). Several workers may run it at once: fan-out and claims are
compare-and-swaps.

The step runs between scoring batches, so it is bounded: it starts no new send once
MODERATION_WEBHOOKS_STEP_SECONDS have passed, and each send ends within
MODERATION_WEBHOOKS_TIMEOUT_SECONDS, so a step holds scoring back at most about their sum."""

from __future__ import annotations

import logging
import time

from flask import Flask

from moderation.extensions import db
from moderation.services import webhook_delivery as delivery

log = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 3600.0  # sooner while a purge finds full batches to delete


class WebhookSender:
    def __init__(self, app: Flask):
        config = app.config
        self.app = app
        self.policy = delivery.RetryPolicy.from_config(config)
        self.timeout = float(config["MODERATION_WEBHOOKS_TIMEOUT_SECONDS"])
        self.lease_seconds = float(config["MODERATION_WEBHOOKS_LEASE_SECONDS"])
        delivery.check_lease(self.lease_seconds, self.timeout)
        self.step_seconds = float(config["MODERATION_WEBHOOKS_STEP_SECONDS"])
        self.allow_private = bool(config["MODERATION_WEBHOOKS_ALLOW_PRIVATE"])
        self.gap_seconds = float(config["MODERATION_WEBHOOKS_GAP_SECONDS"])
        self.keep_days = float(config["MODERATION_WEBHOOKS_KEEP_DAYS"])
        self._next_purge = 0.0
        # Endpoints sent to in this round: the others go first, so one slow endpoint cannot
        # take every step's time (the round carries over from step to step).
        self._served: set[int] = set()

    def run_once(self) -> int:
        """One step; returns how many delivery attempts it made."""
        until = time.monotonic() + self.step_seconds
        with self.app.app_context():
            try:
                self.fan_out(until)
                attempts = self.send_due(until)
                self.purge_if_due()
                return attempts
            finally:
                db.session.remove()

    def fan_out(self, until: float) -> int:
        events = 0
        while True:
            try:
                taken = delivery.fan_out(gap_seconds=self.gap_seconds)
                db.session.commit()
            except delivery.FanOutRace:
                db.session.rollback()  # the other worker keeps the order
                return events
            except Exception:  # SQLite refuses a second writer's snapshot: next step
                db.session.rollback()
                log.warning("could not fan webhook events out; trying again later",
                            exc_info=True)
                return events
            events += taken
            if not taken or time.monotonic() >= until:
                return events

    def send_due(self, until: float) -> int:
        """Send due deliveries one by one, each endpoint in turn, until none is due or the
        step's time is spent (at least one is sent, so every step makes progress)."""
        attempts = 0
        while True:
            item = self.claim()
            if item is None and self._served:
                self._served = set()  # everyone due has had a turn: the next round
                item = self.claim()
            if item is None:
                return attempts
            self._served.add(item.endpoint_id)
            self.send_one(item)
            attempts += 1
            if time.monotonic() >= until:
                return attempts

    def claim(self) -> delivery.Outgoing | None:
        try:
            item = delivery.claim_next(self.lease_seconds, skip=self._served)
            db.session.commit()  # no transaction stays open while we wait on the network
            return item
        except Exception:
            db.session.rollback()
            log.warning("could not claim a webhook delivery; trying again later", exc_info=True)
            return None

    def send_one(self, item: delivery.Outgoing) -> None:
        result = delivery.send(item, timeout=self.timeout, allow_private=self.allow_private)
        try:
            delivery.record(item, result, self.policy)
            db.session.commit()
        except Exception:  # the lease runs out and the delivery is tried again
            db.session.rollback()
            log.exception("could not record webhook delivery %d", item.delivery_id)

    def purge_if_due(self) -> None:
        """Forget old deliveries and events (MODERATION_WEBHOOKS_KEEP_DAYS; 0 keeps them all),
        one batch of each per step, about hourly once caught up."""
        if self.keep_days <= 0 or time.monotonic() < self._next_purge:
            return
        try:
            deleted = delivery.purge(self.keep_days)
            db.session.commit()
        except Exception:  # e.g. SQLite busy with another writer: next time
            db.session.rollback()
            log.warning("could not delete old webhook deliveries", exc_info=True)
            deleted = 0
        full = deleted >= delivery.PURGE_BATCH
        self._next_purge = time.monotonic() + (0 if full else PURGE_EVERY_SECONDS)
