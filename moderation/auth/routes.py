"""Sign in and out."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from moderation.auth import reauth
from moderation.auth.forms import ConfirmPasswordForm, LoginForm, LogoutForm
from moderation.extensions import db, limiter, login_manager
from moderation.models import User
from moderation.services import users

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str):
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    # A deactivated user's open session (or remember cookie) ends at their next request:
    # login_required alone does not look at is_active.
    return user if user is not None and user.active else None


def _login_limit() -> str:
    return current_app.config["MODERATION_LOGIN_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = users.authenticate(form.username.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            reauth.mark_authenticated()
            if user.must_change_password:
                flash("Choose a new password first: the one you signed in with was set by an "
                      "admin.", "info")
                return redirect(url_for("account.password"))
            return redirect(users.safe_next(form.next.data) or url_for("queue.index"))
        flash("That username and password do not match an active account.", "error")
        return render_template("auth/login.html", form=form), 401
    if not form.is_submitted():
        form.next.data = users.safe_next(request.args.get("next")) or ""
    status = 400 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    if LogoutForm().validate_on_submit():
        logout_user()
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
        if current_user.check_password(form.password.data):
            reauth.mark_authenticated()
            flash("Password confirmed.", "info")
            return redirect(target, code=303)
        flash("That password is not right.", "error")
        return render_template("auth/confirm.html", form=form, next=target), 401
    status = 400 if form.is_submitted() else 200
    return render_template("auth/confirm.html", form=form, next=target), status
