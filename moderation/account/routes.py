"""A signed-in user's own settings: API tokens."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from moderation.account.forms import RevokeForm, TokenForm
from moderation.extensions import db
from moderation.services import tokens
from moderation.services.users import moderator_required

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(form=None, created=None, raw_token=None) -> str:
    return render_template(
        "account/tokens.html",
        tokens=tokens.list_for(current_user),
        form=form if form is not None else TokenForm(formdata=None),
        created=created,
        raw_token=raw_token,
    )


@bp.get("/tokens")
@moderator_required
def token_list():
    return _page()


@bp.post("/tokens")
@moderator_required
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form=form), 400
    token, raw_token = tokens.create(current_user, form.name.data)
    db.session.commit()
    # Shown on this page once and never again: not in a redirect's URL, not cached.
    return _page(created=token, raw_token=raw_token), 201, {"Cache-Control": "no-store"}


@bp.post("/tokens/<id:token_id>/revoke")
@moderator_required
def revoke_token(token_id):
    if not RevokeForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again; nothing was changed.")
    try:
        token = tokens.revoke(token_id, current_user)
    except tokens.TokenError:
        abort(404, "You have no such token.")
    db.session.commit()
    flash(f"Revoked the token “{token.name}”; scripts using it are refused from now on.",
          "success")
    return redirect(url_for("account.token_list"), code=303)
