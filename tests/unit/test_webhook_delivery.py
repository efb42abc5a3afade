"""Webhooks reach a real receiver (http.server on 127.0.0.1): signed, in order, retried until
the receiver recovers, redelivered on demand, and never sent twice by two workers. Retries are
made due by moving next_attempt_at in the database, never by sleeping."""

from __future__ import annotations

import socket
import threading
from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import DeliveryStatus, OutboxEvent, WebhookDelivery, utcnow
from moderation.services import (
    events,
    submit,
    webhook_delivery,
    webhook_http,
    webhook_signing,
    webhooks,
)
from moderation.webhook_sender import WebhookSender
from moderation.worker import Worker
from tests.factories import make_article
from tests.webhook_receiver import Receiver

ALL = list(webhooks.KINDS)


@pytest.fixture
def app_config():
    # A step's time is not what these tests are about: each step sends all that is due.
    return {"MODERATION_WEBHOOKS_ALLOW_PRIVATE": True, "MODERATION_WEBHOOKS_MAX_ATTEMPTS": 4,
            "MODERATION_WEBHOOKS_STEP_SECONDS": 600}


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def subscribe(url: str, kinds=ALL):
    endpoint, secret = webhooks.create(None, url=url, description="test receiver", kinds=kinds)
    db.session.commit()
    return endpoint, secret


def post(article, body: str):
    posted = submit.submit_comment(article, author_name="Sam", author_email="sam@example.org",
                                   body=body, ip_hash="address-hash")
    db.session.commit()
    return posted.id


def deliveries() -> list[WebhookDelivery]:
    db.session.expire_all()
    return list(db.session.execute(db.select(WebhookDelivery).order_by(WebhookDelivery.id))
                .scalars())


def make_retries_due() -> None:
    db.session.execute(db.update(WebhookDelivery)
                       .where(WebhookDelivery.status == DeliveryStatus.PENDING)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_events_arrive_signed_and_in_the_order_they_happened(ctx, receiver):
    _, secret = subscribe(receiver.url)
    article = make_article()
    db.session.commit()
    first = post(article, "Thanks for this.")
    second = post(article, "You idiot [toxicity=0.97]")
    Worker(ctx).run_once()  # bands both: one published, one held

    WebhookSender(ctx).run_once()

    got = [(request.event["type"], request.event["data"]["id"]) for request in receiver.accepted]
    assert got == [("comment.created", first), ("comment.created", second),
                   ("comment.published", first), ("comment.held", second)]
    for request in receiver.accepted:
        assert webhook_signing.verify(secret, request.body,
                                      request.headers["X-Moderation-Signature"])
        assert not webhook_signing.verify("whsec_other", request.body,
                                          request.headers["X-Moderation-Signature"])
        assert request.headers["X-Moderation-Event"] == request.event["type"]
        assert request.headers["Content-Type"] == "application/json"
        data = request.event["data"]
        assert "author_email" not in data and "ip_hash" not in data
        assert b"sam@example.org" not in request.body and b"address-hash" not in request.body
    delivered = deliveries()
    assert [request.headers["X-Moderation-Delivery"] for request in receiver.accepted] == \
        [str(delivery.id) for delivery in delivered]
    assert {delivery.status for delivery in delivered} == {DeliveryStatus.DELIVERED}


def test_a_receiver_down_for_a_while_gets_every_event_in_order_after_retries(ctx, receiver):
    subscribe(receiver.url, ["comment.created"])
    article = make_article()
    db.session.commit()
    ids = [post(article, f"Remark number {n}.") for n in range(3)]
    receiver.fail_next = 2
    sender = WebhookSender(ctx)

    sender.run_once()
    assert len(receiver.requests) == 1  # the later events wait behind the first
    head = deliveries()[0]
    assert (head.status, head.attempts, head.last_status) == (DeliveryStatus.PENDING, 1, 500)
    assert head.next_attempt_at > utcnow()
    sender.run_once()
    assert len(receiver.requests) == 1  # not due yet: nothing sent

    make_retries_due()
    sender.run_once()
    make_retries_due()
    sender.run_once()

    assert [request.event["data"]["id"] for request in receiver.accepted] == ids
    assert [request.answered for request in receiver.requests] == [500, 500, 200, 200, 200]
    assert [delivery.attempts for delivery in deliveries()] == [3, 1, 1]


def test_a_closed_port_is_retried_then_the_delivery_fails_after_the_last_attempt(ctx, receiver):
    with socket.socket() as probe:  # a port nothing listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoint, _ = subscribe(f"http://127.0.0.1:{port}/gone", ["comment.created"])
    later, _ = subscribe(receiver.url, ["comment.created"])
    article = make_article()
    db.session.commit()
    post(article, "Anyone there?")
    sender = WebhookSender(ctx)
    for _ in range(4):  # MODERATION_WEBHOOKS_MAX_ATTEMPTS
        sender.run_once()
        make_retries_due()

    closed, other = sorted(deliveries(), key=lambda delivery: delivery.endpoint_id)
    assert closed.endpoint_id == endpoint.id and closed.status is DeliveryStatus.FAILED
    assert closed.attempts == 4 and closed.last_status is None
    assert "Connection" in closed.last_error or "refused" in closed.last_error.lower()
    assert other.endpoint_id == later.id and other.status is DeliveryStatus.DELIVERED


def test_redeliver_sends_a_delivered_event_again_as_the_same_event(ctx, receiver):
    endpoint, _ = subscribe(receiver.url, ["comment.created"])
    article = make_article()
    db.session.commit()
    post(article, "Worth saying twice.")
    sender = WebhookSender(ctx)
    sender.run_once()
    [delivery] = deliveries()

    webhooks.redeliver(None, delivery)
    db.session.commit()
    sender.run_once()

    first, again = receiver.accepted
    assert first.event["id"] == again.event["id"]
    assert first.headers["X-Moderation-Delivery"] == again.headers["X-Moderation-Delivery"]
    assert deliveries()[0].status is DeliveryStatus.DELIVERED


def test_a_test_event_goes_to_that_endpoint_only(ctx, receiver):
    endpoint, _ = subscribe(receiver.url, ["comment.created"])
    with Receiver() as other:
        subscribe(other.url, ["comment.created"])
        webhooks.send_test(None, endpoint)
        db.session.commit()
        WebhookSender(ctx).run_once()
        assert other.requests == []
    [ping] = receiver.accepted
    assert ping.event["type"] == "ping" and ping.headers["X-Moderation-Event"] == "ping"


def test_a_private_address_is_refused_at_delivery_when_not_allowed(ctx, receiver):
    subscribe(receiver.url, ["comment.created"])  # saved while private addresses were allowed
    article = make_article()
    db.session.commit()
    post(article, "Hello.")
    ctx.config["MODERATION_WEBHOOKS_ALLOW_PRIVATE"] = False

    WebhookSender(ctx).run_once()

    assert receiver.requests == []
    [delivery] = deliveries()
    assert delivery.status is DeliveryStatus.PENDING and "loopback" in delivery.last_error


def test_two_workers_claim_disjoint_deliveries(ctx, receiver):
    subscribe(receiver.url, ["comment.created"])
    article = make_article()
    db.session.commit()
    post(article, "Only once, please.")
    webhook_delivery.fan_out()
    db.session.commit()

    first = webhook_delivery.claim_next(lease_seconds=60)
    db.session.commit()
    second = webhook_delivery.claim_next(lease_seconds=60)
    db.session.commit()

    assert first is not None and second is None


def test_two_workers_running_at_once_never_send_one_delivery_twice(ctx, receiver):
    for _ in range(2):
        subscribe(receiver.url, ["comment.created"])
    article = make_article()
    db.session.commit()
    for n in range(10):
        post(article, f"Busy afternoon {n}.")
    senders = [WebhookSender(ctx), WebhookSender(ctx)]

    for _ in range(20):  # a writer refused by SQLite simply tries again next step
        threads = [threading.Thread(target=sender.run_once) for sender in senders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if all(delivery.status is DeliveryStatus.DELIVERED for delivery in deliveries()) \
                and len(deliveries()) == 20:
            break

    sent = [request.headers["X-Moderation-Delivery"] for request in receiver.requests]
    assert len(sent) == len(set(sent)) == 20
    for endpoint_id in {delivery.endpoint_id for delivery in deliveries()}:
        mine = {str(delivery.id): delivery.event_id for delivery in deliveries()
                if delivery.endpoint_id == endpoint_id}
        order = [mine[delivery] for delivery in sent if delivery in mine]
        assert order == sorted(order)


def test_events_nobody_subscribes_to_are_dispatched_without_deliveries(ctx, receiver):
    subscribe(receiver.url, ["comment.removed"])
    events.emit("article.created", {"id": 1})
    db.session.commit()

    WebhookSender(ctx).run_once()

    assert receiver.requests == [] and deliveries() == []
    assert db.session.execute(db.select(OutboxEvent.dispatched_at)).scalar_one() is not None


def test_a_url_with_non_ascii_letters_is_delivered_percent_encoded(ctx, receiver):
    subscribe(receiver.url.replace("/hooks/moderation", "/café/crème?über=ja&x=%41"),
              ["comment.created"])
    article = make_article()
    db.session.commit()
    post(article, "Très bien.")

    WebhookSender(ctx).run_once()

    [request] = receiver.accepted
    assert request.path == "/caf%C3%A9/cr%C3%A8me?%C3%BCber=ja&x=%41"
    assert deliveries()[0].status is DeliveryStatus.DELIVERED


def test_an_unexpected_error_while_sending_is_a_failed_attempt_and_the_rest_go_out(
        ctx, receiver, monkeypatch):
    broken, _ = subscribe("http://127.0.0.1:9/broken", ["comment.created"])
    healthy, _ = subscribe(receiver.url, ["comment.created"])
    article = make_article()
    db.session.commit()
    post(article, "Something odd happens.")
    real_pinned = webhook_http._pinned

    def pinned(target, deadline):
        if target.port == 9:
            raise UnicodeEncodeError("ascii", "é", 0, 1, "a surprise from the HTTP library")
        return real_pinned(target, deadline)

    monkeypatch.setattr(webhook_http, "_pinned", pinned)

    WebhookSender(ctx).run_once()

    by_endpoint = {delivery.endpoint_id: delivery for delivery in deliveries()}
    failed = by_endpoint[broken.id]
    assert (failed.status, failed.attempts) == (DeliveryStatus.PENDING, 1)
    assert failed.last_error.startswith("UnicodeEncodeError") and failed.claim_token is None
    assert by_endpoint[healthy.id].status is DeliveryStatus.DELIVERED
