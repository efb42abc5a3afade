"""Admin: the policy's versions. Any two can be compared on history; an old one comes back
only after its replay is shown and a note says why, like a save."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from moderation.admin.base import bp
from moderation.admin.forms_policy import WINDOW_CHOICES, ActivateForm
from moderation.admin.policy import activated, evidence
from moderation.extensions import db
from moderation.services import policy as policies
from moderation.services import policy_versions as versions
from moderation.services import replay as replays


def _window() -> str:
    window = request.args.get("window", "30d")
    return window if window in replays.WINDOWS else "30d"


def _version(number: int | None):
    found = versions.by_version(number) if number and 0 < number < 2**31 else None
    return found or abort(404, f"There is no policy version {number}.")


@bp.get("/policy/versions")
def policy_versions():
    history = versions.history()
    return render_template("admin/policy_versions.html", history=history,
                           numbers=[policy.version for policy, _ in history])


@bp.get("/policy/versions/compare")
def compare_policy_versions():
    """Two versions side by side on the same history: what changed from one to the other and
    what the second would have done differently."""
    base = _version(request.args.get("from", type=int))
    other = _version(request.args.get("to", type=int))
    window = _window()
    result, charts, changes, examples = evidence(other, base, window)
    return render_template(
        "admin/policy_compare.html", base=base, other=other, replay=result, charts=charts,
        changes=changes, examples=examples, window=window, windows=WINDOW_CHOICES,
        numbers=[policy.version for policy in versions.versions()])


def _render_reactivate(old, form: ActivateForm, status: int = 200):
    active = policies.active_policy()
    window = _window()
    result, charts, changes, examples = evidence(old, active, window)
    return render_template(
        "admin/policy_reactivate.html", old=old, active=active, form=form, replay=result,
        charts=charts, changes=changes, examples=examples, window=window,
        windows=WINDOW_CHOICES, waiting=versions.waiting_count()), status


@bp.get("/policy/versions/<id:version>/activate")
def reactivate_preview(version):
    return _render_reactivate(_version(version), ActivateForm())


@bp.post("/policy/versions/<id:version>/activate")
def activate_policy(version):
    form = ActivateForm()
    old = _version(version)
    if not form.validate():
        return _render_reactivate(old, form, 400)
    try:
        saved = versions.reactivate(version, actor=current_user, note=form.note.data or "")
    except versions.NoteMissing as missing:
        db.session.rollback()
        form.note.errors = [*form.note.errors, str(missing)]
        return _render_reactivate(old, form, 400)
    except versions.PolicyError as problem:
        db.session.rollback()
        flash(str(problem), "error")
        return redirect(url_for("admin.policy_versions"), code=303)
    return activated(saved, f"Version {version} is active again, as version {saved.version}.",
                     reband=form.reband.data)
