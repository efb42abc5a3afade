"""Sensitive admin actions ask for the password again when the sign-in is old.

The time of the last password check lives in the (signed) session. A session restored from a
"remember me" cookie has none, so it counts as old."""

from __future__ import annotations

import time
from functools import wraps

from flask import current_app, flash, redirect, request, session, url_for

from moderation.services.users import safe_next

SESSION_KEY = "auth_at"


def mark_authenticated() -> None:
    session[SESSION_KEY] = time.time()


def is_recent() -> bool:
    checked = session.get(SESSION_KEY)
    limit = float(current_app.config["MODERATION_REAUTH_SECONDS"])
    return isinstance(checked, int | float) and time.time() - checked <= limit


def _return_to() -> str:
    """Where to come back after confirming: the page itself for a GET, the page the form was
    on for a POST (the browser cannot replay a POST through a redirect, so the admin submits
    again, now confirmed)."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = request.referrer or ""
    host = request.host_url.rstrip("/")
    if referrer.startswith(host):
        return safe_next(referrer[len(host):]) or url_for("admin.index")
    return url_for("admin.index")


def sensitive(view):
    """Use under admin protection: redirects to the password prompt when the sign-in is older
    than MODERATION_REAUTH_SECONDS; nothing of the action happens before that."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if is_recent():
            return view(*args, **kwargs)
        return ask()

    return wrapped


def ask():
    """The redirect to the password prompt, saying nothing was changed yet."""
    flash("Please confirm your password to continue: your sign-in is more than "
          f"{int(current_app.config['MODERATION_REAUTH_SECONDS']) // 60} minutes old. "
          "Nothing was changed yet.", "info")
    return redirect(url_for("auth.confirm", next=_return_to()), code=303)
