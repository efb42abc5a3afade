"""The security log for admins: sign-ins good and bad, sign-outs, password changes and
resets, sessions ended, tokens made and revoked, two-step changes."""

from flask import abort, render_template, request

from moderation.admin.base import bp
from moderation.services import security_log


@bp.get("/security")
def security():
    kind = request.args.get("kind") or None
    if kind is not None and kind not in security_log.KINDS:
        abort(400, "Unknown kind of event: choose one from the list.")
    username = (request.args.get("username") or "").strip()[:80] or None
    before = request.args.get("before") or None
    if before is not None and not (before.isascii() and before.isdigit() and len(before) < 10):
        abort(400, "“before” is an event number.")
    events = security_log.page(kind, username, int(before) if before else None)
    more = len(events) == security_log.PAGE
    return render_template("admin/security.html", events=events, kinds=security_log.KINDS,
                           kind=kind, username=username or "",
                           next_before=events[-1].id if more else None)
