"""The signed-in user's own security: the account page (signed-in devices, sign out
everywhere), two-step sign-in setup, and the password strength meter."""

from flask import (
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from moderation.account.forms import DeviceForm, TwoStepDisableForm, TwoStepForm
from moderation.account.routes import bp
from moderation.auth import reauth
from moderation.extensions import db
from moderation.services import devices, passwords, security_log, sessions
from moderation.services import two_step as totp
from moderation.services.users import moderator_required

SETUP_KEY = "totp_setup"  # the secret being set up, until the first code confirms it
# What an admin who must set up two-step sign-in can still reach.
OPEN_DURING_SETUP = frozenset({"account.two_step", "account.password", "account.strength",
                               "auth.logout", "static"})


@bp.before_app_request
def two_step_first():
    if request.endpoint is None or request.endpoint in OPEN_DURING_SETUP:
        return None
    if request.blueprint == "api" and "Authorization" in request.headers:
        return None
    if not sessions.may_be_signed_in():
        return None
    if not current_user.is_authenticated or not totp.required(current_user) \
            or current_user.has_totp:
        return None
    if current_user.must_change_password:
        return None  # the password first (account.routes sends them there)
    message = ("Admins must use two-step sign-in: set it up on your account page first.")
    if request.blueprint == "api":
        abort(403, message)
    flash(message + " It takes a minute with any authenticator app.", "info")
    return redirect(url_for("account.two_step"), code=302 if request.method == "GET" else 303)


@bp.after_app_request
def write_sign_in_cookies(response):
    return devices.set_cookie(sessions.set_cookie(response))


@bp.after_app_request
def signed_in_pages_are_private(response):
    """Pages, exports and API answers for staff carry readers' emails and decisions: never
    kept by a browser or proxy cache."""
    if getattr(g, "staff_session", None) is not None or "Authorization" in request.headers:
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


@bp.get("/")
@moderator_required
def index():
    return _index_page()


def _index_page(status: int = 200):
    user = current_user._get_current_object()
    here = getattr(g, "staff_session", None)
    return render_template(
        "account/index.html", devices=sessions.live(user), here=here,
        describe=sessions.describe_agent, form=DeviceForm(),
        recovery_left=totp.recovery_left(user), kinds=security_log.KINDS,
        events=security_log.page(user_id=user.id, limit=20)), status


@bp.post("/sessions/<id:session_id>/end")
@moderator_required
def end_session(session_id):
    if not DeviceForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again; nothing was changed.")
    user = current_user._get_current_object()
    here = getattr(g, "staff_session", None)
    if here is not None and here.id == session_id:
        abort(400, "That is this browser: use “Sign out” instead.")
    if not sessions.end_one(user, session_id):
        abort(404, "You have no such signed-in device (it may have ended already).")
    security_log.record("session.revoked", user, reason="signed out from another device")
    db.session.commit()
    flash("That device is signed out.", "success")
    return redirect(url_for("account.index"), code=303)


@bp.post("/sessions/end-others")
@moderator_required
def end_other_sessions():
    if not DeviceForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again; nothing was changed.")
    user = current_user._get_current_object()
    ended = sessions.end_all(user, "signed out everywhere else",
                             keep=getattr(g, "staff_session", None))
    if ended:
        security_log.record("session.revoked", user, reason="signed out everywhere else",
                            sessions=ended)
    db.session.commit()
    flash(f"Signed out {ended} other device{'s' if ended != 1 else ''}. This browser stays "
          "signed in.", "success")
    return redirect(url_for("account.index"), code=303)


@bp.route("/two-step", methods=["GET", "POST"])
@moderator_required
def two_step():
    user = current_user._get_current_object()
    if user.has_totp:
        return render_template("account/two_step.html", enabled=True,
                               form=TwoStepDisableForm(),
                               recovery_left=totp.recovery_left(user),
                               required=totp.required(user))
    secret = session.get(SETUP_KEY)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session[SETUP_KEY] = totp.new_secret()
    form = TwoStepForm()
    status = 200
    if request.method == "POST" and not reauth.is_recent():
        return reauth.ask()  # a stolen session must not enrol its own phone
    if form.validate_on_submit():
        try:
            codes = totp.enable(user, secret, form.code.data)
        except totp.TwoStepError as error:
            form.code.errors = [str(error)]
            status = 400
        else:
            session.pop(SETUP_KEY, None)
            ended = sessions.end_all(user, "two-step sign-in turned on",
                                     keep=getattr(g, "staff_session", None))
            security_log.record("totp.enabled", user, other_sessions_ended=ended)
            db.session.commit()
            return render_template("account/recovery_codes.html", codes=codes), 201, {
                "Cache-Control": "no-store"}
    elif form.is_submitted():
        status = 400
    uri = totp.setup_uri(user, secret)
    return render_template("account/two_step.html", enabled=False, form=form, secret=secret,
                           qr=totp.qr_svg(uri), uri=uri,
                           required=totp.required(user)), status


@bp.post("/two-step/recovery-codes")
@moderator_required
@reauth.sensitive
def new_recovery_codes():
    user = current_user._get_current_object()
    if not DeviceForm().validate_on_submit() or not user.has_totp:
        abort(400, "Two-step sign-in is not on, or this form expired; nothing was changed.")
    codes = totp.new_recovery_codes(user)
    db.session.commit()
    return render_template("account/recovery_codes.html", codes=codes), 201, {
        "Cache-Control": "no-store"}


@bp.post("/two-step/off")
@moderator_required
@reauth.sensitive
def two_step_off():
    user = current_user._get_current_object()
    if not TwoStepDisableForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again; nothing was changed.")
    if totp.required(user):
        abort(403, "Admins must keep two-step sign-in on here. Nothing was changed.")
    totp.disable(user)
    security_log.record("totp.disabled", user)
    db.session.commit()
    flash("Two-step sign-in is off. Your password alone signs you in now.", "info")
    return redirect(url_for("account.index"), code=303)


@bp.post("/password/strength")
@moderator_required
def strength():
    """The meter under a new-password field: {"score", "label", "acceptable", "warning",
    "suggestions"}. POST, so the password is never in a URL or a log."""
    password = request.form.get("password", "")
    if len(password) > 1024:
        abort(400, "A password is at most 1024 characters.")
    return jsonify(passwords.strength(password, username=current_user.username))
