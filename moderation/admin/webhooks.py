"""Admin: webhook endpoints, their secrets, their delivery log (routes on the admin
blueprint, which asks admins for a recent password check before any POST)."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from moderation.admin.base import bp
from moderation.admin.forms_webhooks import EndpointForm, WebhookActionForm
from moderation.extensions import db
from moderation.services import webhooks

# A page showing a secret must not be kept by the browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}
EXPIRED = "This form has expired. Reload the page and try again; nothing was changed."


def _list_page(form=None, *, shown_secret=None, shown_for=None, errors=(), status=200):
    return render_template(
        "admin/webhooks.html", endpoints=webhooks.list_endpoints(),
        form=form if form is not None else EndpointForm(formdata=None), errors=errors,
        shown_secret=shown_secret, shown_for=shown_for,
    ), status, (NO_STORE if shown_secret else {})


def _endpoint_page(endpoint, form=None, *, shown_secret=None, errors=(), status=200):
    if form is None:
        form = EndpointForm(formdata=None, obj=endpoint)
    return render_template(
        "admin/webhook.html", endpoint=endpoint, form=form, action_form=WebhookActionForm(),
        deliveries=webhooks.recent_deliveries(endpoint), shown_secret=shown_secret,
        errors=errors,
    ), status, (NO_STORE if shown_secret else {})


def _endpoint_or_404(endpoint_id: int):
    return webhooks.get_endpoint(endpoint_id) or abort(404, "There is no such webhook.")


def _checked_action(endpoint):
    """None when the field-less form is valid, else the page saying it expired."""
    if WebhookActionForm().validate_on_submit():
        return None
    return _endpoint_page(endpoint, errors=[EXPIRED], status=400)


@bp.get("/webhooks")
def webhooks_list():
    return _list_page()


@bp.post("/webhooks")
def create_webhook():
    form = EndpointForm()
    if not form.validate_on_submit():
        return _list_page(form, status=400)
    try:
        endpoint, secret = webhooks.create(current_user, url=form.url.data,
                                           description=form.description.data,
                                           kinds=form.events.data, active=form.active.data)
    except webhooks.WebhookError as error:
        db.session.rollback()
        return _list_page(form, errors=[str(error)], status=400)
    db.session.commit()
    # Shown in this response only: not in a redirect, a flash (the session cookie) or a log.
    return _list_page(shown_secret=secret, shown_for=endpoint, status=201)


@bp.get("/webhooks/<id:endpoint_id>")
def webhook(endpoint_id):
    return _endpoint_page(_endpoint_or_404(endpoint_id))


@bp.post("/webhooks/<id:endpoint_id>")
def edit_webhook(endpoint_id):
    endpoint = _endpoint_or_404(endpoint_id)
    form = EndpointForm()
    if not form.validate_on_submit():
        return _endpoint_page(endpoint, form, status=400)
    try:
        changed = webhooks.update(current_user, endpoint, url=form.url.data,
                                  description=form.description.data, kinds=form.events.data,
                                  active=form.active.data)
    except webhooks.WebhookError as error:
        db.session.rollback()
        return _endpoint_page(_endpoint_or_404(endpoint_id), form, errors=[str(error)],
                              status=400)
    db.session.commit()
    flash("Saved the webhook." if changed else "Nothing to change.",
          "success" if changed else "info")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint.id), code=303)


def _set_active(endpoint_id: int, active: bool):
    endpoint = _endpoint_or_404(endpoint_id)
    if (refused := _checked_action(endpoint)) is not None:
        return refused
    changed = webhooks.set_active(current_user, endpoint, active)
    db.session.commit()
    if not changed:
        flash(f"The webhook was already {'active' if active else 'disabled'}.", "info")
    elif active:
        flash("Enabled: new events are sent again, and those that waited go out in order.",
              "success")
    else:
        flash("Disabled: nothing is sent to it; its waiting deliveries are kept.", "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint.id), code=303)


@bp.post("/webhooks/<id:endpoint_id>/disable")
def disable_webhook(endpoint_id):
    return _set_active(endpoint_id, False)


@bp.post("/webhooks/<id:endpoint_id>/enable")
def enable_webhook(endpoint_id):
    return _set_active(endpoint_id, True)


@bp.post("/webhooks/<id:endpoint_id>/rotate")
def rotate_webhook_secret(endpoint_id):
    endpoint = _endpoint_or_404(endpoint_id)
    if (refused := _checked_action(endpoint)) is not None:
        return refused
    secret = webhooks.rotate_secret(current_user, endpoint)
    db.session.commit()
    return _endpoint_page(endpoint, shown_secret=secret)


@bp.post("/webhooks/<id:endpoint_id>/test")
def test_webhook(endpoint_id):
    endpoint = _endpoint_or_404(endpoint_id)
    if (refused := _checked_action(endpoint)) is not None:
        return refused
    try:
        webhooks.send_test(current_user, endpoint)
    except webhooks.WebhookError as error:
        db.session.rollback()
        return _endpoint_page(endpoint, errors=[str(error)], status=409)
    db.session.commit()
    flash("A test event (ping) is on its way; the worker sends it within seconds.", "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint.id), code=303)


@bp.post("/webhooks/<id:endpoint_id>/deliveries/<id:delivery_id>/redeliver")
def redeliver_webhook(endpoint_id, delivery_id):
    endpoint = _endpoint_or_404(endpoint_id)
    delivery = webhooks.get_delivery(endpoint, delivery_id) or abort(404, "No such delivery.")
    if (refused := _checked_action(endpoint)) is not None:
        return refused
    webhooks.redeliver(current_user, delivery)
    db.session.commit()
    flash(f"Delivery #{delivery.id} will be sent again.", "success")
    return redirect(url_for("admin.webhook", endpoint_id=endpoint.id), code=303)
