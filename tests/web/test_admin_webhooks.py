"""An admin adds a webhook, sees its secret once, edits it, disables it, rotates its secret,
reads its delivery log, redelivers and sends a test event; every change needs a recent
sign-in and lands in the admin log, and private addresses are refused unless allowed."""

import re
import time

import pytest

from moderation.auth.reauth import SESSION_KEY
from moderation.extensions import db
from moderation.models import AdminEvent, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from moderation.services import events, webhooks
from moderation.webhook_sender import WebhookSender
from tests.webhook_receiver import Receiver

SECRET = re.compile(r'<code class="temp-password" id="webhook-secret">([^<]+)</code>')
PUBLIC = "https://93.184.216.34/hooks/moderation"  # an address literal: no DNS in tests


def form(url=PUBLIC, kinds=("comment.published", "comment.removed"), active=True, **extra):
    data = {"url": url, "description": "Newsroom Slack bridge", "events": list(kinds), **extra}
    if active:
        data["active"] = "y"
    return data


def endpoints(app) -> list[WebhookEndpoint]:
    with app.app_context():
        rows = list(db.session.execute(db.select(WebhookEndpoint)).scalars())
        for row in rows:
            db.session.expunge(row)
        return rows


def log(app) -> list[tuple[str, str, dict | None]]:
    with app.app_context():
        rows = db.session.execute(db.select(AdminEvent).where(
            AdminEvent.action.startswith("webhook.")).order_by(AdminEvent.id)).scalars()
        return [(event.action, event.target, event.detail) for event in rows]


def text(response) -> str:
    return response.get_data(as_text=True)


def add(admin_client, **fields) -> tuple[int, str]:
    response = admin_client.post("/admin/webhooks", data=form(**fields))
    assert response.status_code == 201, text(response)
    secret = SECRET.search(text(response)).group(1)
    [endpoint] = [row for row in endpoints(admin_client.application) if row.secret == secret]
    return endpoint.id, secret


def test_an_admin_adds_a_webhook_and_sees_its_secret_once(app, admin_client):
    response = admin_client.post("/admin/webhooks", data=form())
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = SECRET.search(text(response)).group(1)
    assert secret.startswith("whsec_") and len(secret) > 40
    [endpoint] = endpoints(app)
    assert (endpoint.url, endpoint.events, endpoint.active, endpoint.secret) == \
        (PUBLIC, ["comment.published", "comment.removed"], True, secret)
    [(action, target, detail)] = log(app)
    assert action == "webhook.create" and PUBLIC in target and secret not in str(detail)

    page = text(admin_client.get("/admin/webhooks"))
    assert PUBLIC in page and "comment.published, comment.removed" in page
    assert secret not in page and secret not in text(admin_client.get(
        f"/admin/webhooks/{endpoint.id}"))


@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1:8000/hook", "loopback"),
    ("http://10.0.0.8/hook", "private"),
    ("http://169.254.169.254/latest/meta-data", "link-local"),
    ("https://user:pw@93.184.216.34/hook", "user name or password"),
    ("ftp://93.184.216.34/hook", "https://"),
])
def test_private_addresses_and_odd_urls_are_refused_with_a_reason(app, admin_client, url,
                                                                   says):
    response = admin_client.post("/admin/webhooks", data=form(url=url))
    assert response.status_code == 400 and says in text(response)
    assert endpoints(app) == [] and log(app) == []


def test_a_webhook_needs_at_least_one_event(app, admin_client):
    response = admin_client.post("/admin/webhooks", data=form(kinds=()))
    assert response.status_code == 400 and "at least one event" in text(response)
    assert endpoints(app) == []


def test_an_admin_edits_disables_enables_and_rotates(app, admin_client):
    endpoint_id, secret = add(admin_client)
    edited = admin_client.post(f"/admin/webhooks/{endpoint_id}",
                               data=form(kinds=("comment.created",)))
    assert edited.status_code == 303
    assert endpoints(app)[0].events == ["comment.created"]

    assert admin_client.post(f"/admin/webhooks/{endpoint_id}/disable").status_code == 303
    assert endpoints(app)[0].active is False
    assert admin_client.post(f"/admin/webhooks/{endpoint_id}/enable").status_code == 303

    rotated = admin_client.post(f"/admin/webhooks/{endpoint_id}/rotate")
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    new_secret = SECRET.search(text(rotated)).group(1)
    assert new_secret != secret and endpoints(app)[0].secret == new_secret

    actions = [action for action, _, _ in log(app)]
    assert actions == ["webhook.create", "webhook.update", "webhook.disable", "webhook.enable",
                       "webhook.rotate_secret"]
    update = log(app)[1][2]
    assert update["before"]["events"] == ["comment.published", "comment.removed"]
    assert update["after"]["events"] == ["comment.created"]
    assert secret not in str(log(app)) and new_secret not in str(log(app))


def test_an_old_sign_in_must_confirm_before_adding_a_webhook(app, admin_client):
    with admin_client.session_transaction() as session:
        session[SESSION_KEY] = time.time() - 3600
    response = admin_client.post("/admin/webhooks", data=form(),
                                 headers={"Referer": "http://localhost/admin/webhooks"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/confirm")
    assert endpoints(app) == [] and log(app) == []


def test_the_delivery_log_shows_each_attempt_and_redeliver_sends_it_again(app, admin_client):
    app.config["MODERATION_WEBHOOKS_ALLOW_PRIVATE"] = True
    with Receiver() as receiver:
        endpoint_id, _ = add(admin_client, url=receiver.url, kinds=("article.created",))
        receiver.fail_next = 1
        with app.app_context():
            events.emit("article.created", {"id": 41, "headline": "Flood barrier"})
            db.session.commit()
        WebhookSender(app).run_once()
        page = text(admin_client.get(f"/admin/webhooks/{endpoint_id}"))
        row = page.split('id="delivery-')[1].split("</tr>")[0]
        assert "article.created" in row and "pending" in row and "HTTP 500" in row
        assert "Redeliver" in row

        delivery_id = int(row.split('"')[0])
        assert admin_client.post(f"/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}"
                                 "/redeliver").status_code == 303
        WebhookSender(app).run_once()  # due at once, whatever the backoff said
        assert [request.answered for request in receiver.requests] == [500, 200]

        sent = admin_client.post(f"/admin/webhooks/{endpoint_id}/test")
        assert sent.status_code == 303
        WebhookSender(app).run_once()
        assert receiver.requests[-1].event["type"] == "ping"
    with app.app_context():
        statuses = db.session.execute(db.select(WebhookDelivery.status)
                                      .order_by(WebhookDelivery.id)).scalars().all()
    assert statuses == [DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]
    assert [action for action, _, _ in log(app)][-2:] == ["webhook.redeliver", "webhook.test"]


def test_a_disabled_webhook_cannot_send_a_test_event(app, admin_client):
    endpoint_id, _ = add(admin_client, active=False)
    response = admin_client.post(f"/admin/webhooks/{endpoint_id}/test")
    assert response.status_code == 409 and "disabled" in text(response)
    with app.app_context():
        assert db.session.execute(db.select(WebhookDelivery)).first() is None
        assert webhooks.subscribed_kinds() == frozenset()


def test_a_delivery_of_another_webhook_is_not_found(app, admin_client):
    first, _ = add(admin_client)
    response = admin_client.post(f"/admin/webhooks/{first}/deliveries/999/redeliver")
    assert response.status_code == 404
    assert admin_client.get("/admin/webhooks/999").status_code == 404
