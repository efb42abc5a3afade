"""Sign in (password, then the two-step code when the account has one) and sign out.

Every signed-in browser is a row on the server (services/sessions): the user loader accepts a
session cookie only while its row is live, so a copied cookie dies when its owner signs out,
changes the password, is reset or deactivated."""

import hashlib
import time

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from moderation import hashing
from moderation.auth import reauth
from moderation.auth.forms import CodeForm, ConfirmPasswordForm, LoginForm, LogoutForm
from moderation.extensions import db, limiter, login_manager
from moderation.models import User
from moderation.services import devices, security_log, sessions, signin, two_step, users

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"

PENDING = "pending_login"  # password checked, two-step code not yet
PENDING_SECONDS = 300
PENDING_TRIES = 5


@login_manager.user_loader
def load_user(user_id: str):
    if not user_id.isascii() or not user_id.isdigit() or len(user_id) > 10:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    g.staff_session = sessions.current(user)
    return user if g.staff_session is not None else None


@login_manager.request_loader
def load_remembered(request_):
    """A browser whose session ended but holds a live "remember me" token: a new session."""
    restored = sessions.restore(request_.cookies.get(sessions.cookie_name()))
    if restored is None:
        if request_.cookies.get(sessions.cookie_name()):
            g.remember_cookie = None  # dead or forged: delete it
        return None
    user, row = restored
    keep = session.get(sessions.SID_KEY)
    session.clear()
    session[sessions.SID_KEY] = keep
    login_user(user, remember=False, fresh=False)
    g.staff_session = row
    security_log.record("remember.used", user)
    db.session.commit()
    return user


def _login_limit() -> str:
    return current_app.config["MODERATION_LOGIN_LIMIT"]


def _too_many(message: str, seconds: int, form):
    flash(message, "error")
    return (render_template("auth/login.html", form=form), 429,
            {"Retry-After": str(max(1, seconds))})


def _finish(user: User, remember: bool, target: str | None, notice: str | None = None):
    """Password (and code) accepted: a fresh session, nothing kept from before sign-in (a
    session this browser had is ended, its remember cookie dropped)."""
    sessions.end_current("signed in again")
    session.clear()
    sessions.start(user, remember=remember)
    login_user(user, remember=False)
    reauth.mark_authenticated()
    users.mark_signed_in(user)
    devices.remember(user.username)
    db.session.commit()
    if notice:
        flash(notice, "info")
    if user.must_change_password:
        flash("Choose a new password first: the one you signed in with was set by an "
              "admin.", "info")
        return redirect(url_for("account.password"))
    return redirect(target or url_for("queue.index"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        name = signin.normalise(form.username.data)
        try:
            user = signin.sign_in(name, form.password.data, device=devices.read(name))
        except signin.Throttled as refused:
            return _too_many(refused.message(), refused.seconds, form)
        except hashing.Busy as busy:
            return _too_many(str(busy), 5, form)
        if user is None:
            flash("That username and password do not match an active account.", "error")
            return render_template("auth/login.html", form=form), 401
        target = users.safe_next(form.next.data)
        if user.has_totp:
            db.session.commit()
            session.clear()
            session[PENDING] = {"uid": user.id, "at": time.time(), "tries": 0,
                                "remember": bool(form.remember.data), "next": target,
                                "pw": _fingerprint(user)}
            return redirect(url_for("auth.code"), code=303)
        return _finish(user, bool(form.remember.data), target)
    if not form.is_submitted():
        form.next.data = users.safe_next(request.args.get("next")) or ""
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


def _fingerprint(user: User) -> str:
    """Ties a pending two-step sign-in to the password it passed: a reset or change (or a
    deactivation) in the 5 minutes before the code ends it."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _pending_user() -> tuple[dict, User] | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("at"), int | float) \
            or time.time() - pending["at"] > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    user_id = pending.get("uid")
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active or not user.has_totp \
            or pending.get("pw") != _fingerprint(user):
        session.pop(PENDING, None)
        return None
    return pending, user


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def code():
    found = _pending_user()
    if found is None:
        flash("Sign in with your password first (the two-step step lasts 5 minutes).", "info")
        return redirect(url_for("auth.login"), code=303)
    pending, user = found
    form = CodeForm()
    if form.validate_on_submit():
        device = devices.read(user.username)
        try:  # wrong codes count as failed sign-ins: the same per-account backoff applies
            signin.check_wait(user.username, user, device)
        except signin.Throttled as refused:
            flash(refused.message(), "error")
            return (render_template("auth/code.html", form=form), 429,
                    {"Retry-After": str(refused.seconds)})
        used = two_step.verify(user, form.code.data)
        if used is not None:
            security_log.record("login.success", user, two_step=used, device=device)
            notice = None
            if used == "recovery":
                left = two_step.recovery_left(user)
                security_log.record("recovery.used", user, left=left)
                notice = (f"You used a recovery code; {left} left. Make new ones on your "
                          "account page if you are running low.")
            return _finish(user, bool(pending.get("remember")),
                           users.safe_next(pending.get("next")), notice)
        pending["tries"] = int(pending.get("tries") or 0) + 1
        signin.code_failed(user, device, pending["tries"])
        if pending["tries"] >= PENDING_TRIES:
            session.pop(PENDING, None)
            flash("Too many wrong codes: sign in with your password again.", "error")
            return redirect(url_for("auth.login"), code=303)
        session[PENDING] = pending
        flash("That code is not right (or was already used). Type the 6 digits your app "
              "shows now, or a recovery code.", "error")
        return render_template("auth/code.html", form=form), 401
    status = 400 if form.is_submitted() else 200
    return render_template("auth/code.html", form=form), status


@bp.post("/logout")
def logout():
    if LogoutForm().validate_on_submit():
        if current_user.is_authenticated:
            security_log.record("logout", current_user._get_current_object())
        sessions.end_current("signed out")
        logout_user()
        session.clear()
        db.session.commit()
        flash("You are signed out.", "info")
    return redirect(url_for("public.index"))


@bp.route("/confirm", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@login_required
def confirm():
    """Ask for the signed-in user's password again before a sensitive action."""
    form = ConfirmPasswordForm()
    target = users.safe_next(request.values.get("next")) or url_for("admin.index")
    if form.validate_on_submit():
        user = current_user._get_current_object()
        device = devices.read(user.username)
        try:
            signin.check_wait(user.username, user, device)
            right = user.check_password(form.password.data)
        except signin.Throttled as refused:
            flash(refused.message(), "error")
            return (render_template("auth/confirm.html", form=form, next=target), 429,
                    {"Retry-After": str(refused.seconds)})
        except hashing.Busy as busy:
            flash(str(busy), "error")
            return (render_template("auth/confirm.html", form=form, next=target), 429,
                    {"Retry-After": "5"})
        if right:
            reauth.mark_authenticated()
            flash("Password confirmed.", "info")
            return redirect(target, code=303)
        security_log.record("login.failure", user, why="wrong password when confirming",
                            device=device)
        db.session.commit()
        flash("That password is not right.", "error")
        return render_template("auth/confirm.html", form=form, next=target), 401
    status = 400 if form.is_submitted() else 200
    return render_template("auth/confirm.html", form=form, next=target), status
