"""A signed-in user's own settings: password and API tokens. Also the guard that keeps a user
whose password an admin set or reset on the password page until they choose their own."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from moderation import hashing
from moderation.account.forms import PasswordChangeForm, RevokeForm, TokenForm
from moderation.auth import reauth
from moderation.extensions import db, limiter
from moderation.services import security_log, sessions, tokens, users
from moderation.services.users import moderator_required

bp = Blueprint("account", __name__, url_prefix="/account")

# All a user who must change their password can reach until they do.
OPEN_DURING_CHANGE = frozenset({"account.password", "account.strength", "auth.logout",
                                "static"})
CHANGE_REQUIRED = ("A password change is required: an admin set or reset your password. "
                   "Choose your own at /account/password first.")


@bp.before_app_request
def password_change_first():
    if request.endpoint is None or request.endpoint in OPEN_DURING_CHANGE:
        return None  # unknown addresses still 404
    if request.blueprint == "api" and "Authorization" in request.headers:
        return None  # a script's token, not this browser's session: the API checks it
    if not sessions.may_be_signed_in():
        return None  # a reader: no one to ask for a password change
    if not current_user.is_authenticated or not current_user.must_change_password:
        return None
    if request.blueprint == "api":
        abort(403, CHANGE_REQUIRED)  # answered as JSON under /api/
    flash("Choose a new password before you continue: the one you signed in with was set "
          "by an admin.", "info")
    return redirect(url_for("account.password"), code=302 if request.method == "GET" else 303)


def _login_limit() -> str:
    return current_app.config["MODERATION_LOGIN_LIMIT"]


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])  # the current password is checked here too
@moderator_required
def password():
    form = PasswordChangeForm()
    errors = []
    if form.validate_on_submit():
        try:
            ended = users.change_own_password(current_user, form.current_password.data,
                                              form.new_password.data,
                                              keep=getattr(g, "staff_session", None))
        except hashing.Busy as busy:
            errors.append(str(busy))
            return render_template("account/password.html", form=form, errors=errors,
                                   min_length=users.MIN_PASSWORD_LENGTH), 429, {
                                       "Retry-After": "5"}
        except users.UserError as error:
            db.session.rollback()
            errors.append(str(error))
        else:
            db.session.commit()
            reauth.mark_authenticated()
            others = (f" {ended} other signed-in device{'s were' if ended != 1 else ' was'} "
                      "signed out.") if ended else ""
            flash("Your password is changed. Use the new one from now on." + others,
                  "success")
            return redirect(url_for("queue.index"), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template("account/password.html", form=form, errors=errors,
                           min_length=users.MIN_PASSWORD_LENGTH), status


def _page(form=None, created=None, raw_token=None) -> str:
    return render_template(
        "account/tokens.html",
        tokens=tokens.list_for(current_user),
        form=form if form is not None else TokenForm(formdata=None),
        created=created,
        raw_token=raw_token,
        status=tokens.status,
    )


@bp.get("/tokens")
@moderator_required
def token_list():
    return _page()


@bp.post("/tokens")
@moderator_required
@reauth.sensitive
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form=form), 400
    try:
        token, raw_token = tokens.create(current_user, form.name.data, days=form.days(),
                                         scope=form.scope.data)
    except tokens.TokenError as error:
        form.scope.errors = [*form.scope.errors, str(error)]
        return _page(form=form), 400
    security_log.record("token.created", current_user._get_current_object(),
                        token=token.prefix, name=token.name, scope=token.scope,
                        expires=token.expires_at.isoformat() if token.expires_at else None)
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
    security_log.record("token.revoked", current_user._get_current_object(),
                        token=token.prefix, name=token.name)
    db.session.commit()
    flash(f"Revoked the token “{token.name}”; scripts using it are refused from now on.",
          "success")
    return redirect(url_for("account.token_list"), code=303)
