"""The webhook step never holds the scoring worker for long: a request ends by one deadline
however its receiver trickles, a host that never resolves is given up, each step stops
starting sends after its time, endpoints take turns, a delivery is claimed only just before
it is sent, and a lease shorter than the longest send is refused."""

from __future__ import annotations

import threading

import pytest

from moderation.extensions import db
from moderation.models import WebhookDelivery
from moderation.services import submit, webhook_delivery, webhook_guard, webhook_http, webhooks
from moderation.services.webhook_guard import UnsafeURL
from moderation.webhook_sender import WebhookSender
from tests.factories import make_article
from tests.webhook_receiver import Receiver, Trickler


@pytest.fixture
def app_config():
    return {"MODERATION_WEBHOOKS_ALLOW_PRIVATE": True}


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def subscribe(url: str):
    endpoint, _ = webhooks.create(None, url=url, description=None, kinds=["comment.created"])
    db.session.commit()
    return endpoint


def post_comments(count: int) -> None:
    article = make_article()
    db.session.commit()
    for n in range(count):
        submit.submit_comment(article, author_name="Sam", author_email=None,
                              body=f"Remark {n}.", ip_hash=None)
        db.session.commit()


def test_a_receiver_trickling_its_answer_is_cut_off_at_the_deadline():
    with Trickler() as trickler:
        result = webhook_http.send(trickler.url, {"X-Moderation-Signature": "t=1,v1=0"}, b"{}",
                                   timeout=0.5, allow_private=True)

        assert result.status is None and result.error.startswith("timed out")
        assert trickler.disconnected.wait(30)  # we hung up; it did not finish its answer


def test_a_host_that_never_resolves_is_given_up_after_the_timeout(monkeypatch):
    release = threading.Event()

    def hanging_resolver(host, port):
        release.wait()
        return ["93.184.216.34"]

    monkeypatch.setattr(webhook_guard, "resolve", hanging_resolver)
    try:
        with pytest.raises(UnsafeURL, match="did not resolve within 0.2 s"):
            webhook_guard.check("https://stuck.example/hook", timeout=0.2)
    finally:
        release.set()


def test_a_step_without_time_left_sends_one_delivery_and_endpoints_take_turns(ctx, receiver):
    ctx.config["MODERATION_WEBHOOKS_STEP_SECONDS"] = 0
    first = subscribe(receiver.url + "/first")
    second = subscribe(receiver.url + "/second")
    post_comments(2)
    sender = WebhookSender(ctx)

    made = [sender.run_once() for _ in range(5)]

    assert made == [1, 1, 1, 1, 0]
    assert [request.path.rsplit("/", 1)[1] for request in receiver.requests] == \
        ["first", "second", "first", "second"]
    by_endpoint = {first.id: [], second.id: []}
    for request in receiver.requests:
        row = db.session.get(WebhookDelivery, int(request.headers["X-Moderation-Delivery"]))
        by_endpoint[row.endpoint_id].append(request.event["id"])
    assert all(events == sorted(events) for events in by_endpoint.values())


def test_each_delivery_is_claimed_just_before_it_is_sent(ctx, receiver, monkeypatch):
    for name in ("first", "second", "third"):
        subscribe(f"{receiver.url}/{name}")
    post_comments(1)
    claimed_while_sending = []
    real_send = webhook_delivery.send

    def send(item, **options):
        claimed_while_sending.append(db.session.execute(
            db.select(db.func.count()).select_from(WebhookDelivery)
            .where(WebhookDelivery.claim_token.is_not(None))).scalar_one())
        return real_send(item, **options)

    monkeypatch.setattr(webhook_delivery, "send", send)

    WebhookSender(ctx).run_once()

    assert claimed_while_sending == [1, 1, 1] and len(receiver.accepted) == 3


@pytest.mark.parametrize("lease, timeout", [(60, 55), (10, 5), (5, 5)])
def test_a_lease_that_a_send_could_outlast_is_refused(ctx, lease, timeout):
    ctx.config.update(MODERATION_WEBHOOKS_LEASE_SECONDS=lease,
                      MODERATION_WEBHOOKS_TIMEOUT_SECONDS=timeout)
    with pytest.raises(ValueError, match="LEASE_SECONDS .* must be at least"):
        WebhookSender(ctx)


def test_the_default_lease_outlasts_the_default_timeout(ctx):
    assert WebhookSender(ctx).lease_seconds > WebhookSender(ctx).timeout
