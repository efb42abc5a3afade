"""The admin blueprint: every route under /admin is for signed-in admins only."""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from moderation.auth import reauth
from moderation.extensions import login_manager
from moderation.services import admin_changes

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()  # to the sign-in page, and back here after
    if not current_user.is_admin:
        abort(403, "This page is for admins.")
    if request.method == "POST" and not reauth.is_recent():
        # Every admin change (policy, words, imports, articles, users, examples, models)
        # needs a password check within MODERATION_REAUTH_SECONDS; reading does not.
        return reauth.ask()
    return None


@bp.get("/")
def index():
    return render_template("admin/index.html", changes=admin_changes.recent(limit=30))
