"""The worker's webhook step: fan new outbox events out to endpoints, then send what is due,
committing after each step so a crash loses nothing (services/webhook_delivery holds the
rules). Several workers may run it at once: fan-out and claims are compare-and-swaps."""

from __future__ import annotations

import logging

from flask import Flask

from moderation.extensions import db
from moderation.services import webhook_delivery as delivery

log = logging.getLogger(__name__)
MAX_ROUNDS = 50  # rounds per step: each sends at most one delivery per endpoint


class WebhookSender:
    def __init__(self, app: Flask):
        config = app.config
        self.app = app
        self.policy = delivery.RetryPolicy.from_config(config)
        self.timeout = float(config["MODERATION_WEBHOOKS_TIMEOUT_SECONDS"])
        self.lease_seconds = float(config["MODERATION_WEBHOOKS_LEASE_SECONDS"])
        self.allow_private = bool(config["MODERATION_WEBHOOKS_ALLOW_PRIVATE"])

    def run_once(self, max_rounds: int = MAX_ROUNDS) -> int:
        """One step; returns how many delivery attempts it made."""
        with self.app.app_context():
            try:
                self.fan_out()
                attempts = 0
                for _ in range(max_rounds):
                    made = self.send_round()
                    attempts += made
                    if not made:
                        break
                return attempts
            finally:
                db.session.remove()

    def fan_out(self) -> int:
        events = 0
        while True:
            try:
                taken = delivery.fan_out()
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
            if not taken:
                return events

    def send_round(self) -> int:
        """Claim each endpoint's due head, send them, record each as it returns."""
        try:
            token = delivery.claim_heads(self.lease_seconds)
            db.session.commit()
            items = delivery.outgoing(token)
            db.session.commit()  # no transaction stays open while we wait on the network
        except Exception:
            db.session.rollback()
            log.warning("could not claim webhook deliveries; trying again later", exc_info=True)
            return 0
        for item in items:
            result = delivery.send(item, timeout=self.timeout, allow_private=self.allow_private)
            try:
                delivery.record(token, item, result, self.policy)
                db.session.commit()
            except Exception:  # the lease runs out and the delivery is tried again
                db.session.rollback()
                log.exception("could not record webhook delivery %d", item.delivery_id)
        return len(items)
