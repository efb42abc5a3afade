"""Admin: the policy editor. Every proposal is replayed on real history before it is saved;
every save is a new version; any old version can come back."""


from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from moderation.admin.base import bp
from moderation.admin.forms_policy import PolicyForm
from moderation.charts import label_histogram_svg
from moderation.extensions import db
from moderation.models import LABELS
from moderation.services import policy as policies
from moderation.services import policy_versions as versions
from moderation.services import replay as replays
from moderation.services import suggest as suggestions
from moderation.services.scorer import produced_labels, scorer_choice


def _preview_form() -> PolicyForm:
    """The editor's fields from the query string (a GET preview), without CSRF: a preview
    changes nothing."""
    return PolicyForm(formdata=request.args, meta={"csrf": False})


def _window(form: PolicyForm) -> str:
    window = form.window.data
    return window if window in replays.WINDOWS else "30d"


def _evidence(form: PolicyForm, active, *, valid: bool, history=None):
    """Replay of the form's proposal (or of the active policy when the form is invalid)."""
    if valid:
        proposed = versions.proposal(form.thresholds(), form.reject_action.data)
    else:
        proposed = active
    return evidence(proposed, active, _window(form), history=history)


def evidence(proposed, active, window: str, history=None):
    """Replay of `proposed` against `active` on the window, one chart per label, the changes
    between them and the comments to read."""
    result = replays.replay(proposed, active, window=window, history=history)
    charts = {
        label: label_histogram_svg(
            result.histograms[label],
            now=_pair(active.thresholds.get(label)),
            proposed=_pair(proposed.thresholds.get(label)),
            enabled=bool(proposed.thresholds.get(label, {}).get("enabled", True)),
        )
        for label in LABELS
        if result.histograms[label].total  # a label no comment has a score for: just named
    }
    changes = versions.diff(active, proposed)
    return result, charts, changes, replays.example_comments(result)


def _pair(rule: dict | None):
    if not rule:
        return None
    return float(rule["approve"]), float(rule["reject"])


# The fields that make up the proposal: a problem elsewhere (the note, an expired form token)
# refuses the save but leaves the proposal worth replaying.
PROPOSAL_FIELDS = ("reject_action", "window",
                   *(f"{label}_{part}" for label in LABELS
                     for part in ("enabled", "approve", "reject")))


def _proposal_ok(form: PolicyForm) -> bool:
    return not any(form[name].errors for name in PROPOSAL_FIELDS) and _form_ok(form)


def _render_editor(form: PolicyForm, status: int = 200):
    active = policies.active_policy()
    valid = _proposal_ok(form)
    # One read of the history feeds the replay and the suggestions.
    history = replays.load_history(_window(form))
    result, charts, changes, examples = _evidence(form, active, valid=valid, history=history)
    return render_template(
        "admin/policy.html", form=form, active=active, replay=result, charts=charts,
        changes=changes, examples=examples, suggestions=suggestions.suggest(history=history),
        waiting=versions.waiting_count(), proposal_valid=valid,
        produced=produced_labels(), scorer_name=scorer_choice().scorer.identity.name,
    ), status


def _form_ok(form: PolicyForm) -> bool:
    """Field checks passed; now the rules across fields (approve below reject)."""
    try:
        versions.validate(form.thresholds(), form.reject_action.data)
    except versions.PolicyError as problem:
        if str(problem) not in form.form_errors:
            form.form_errors.append(str(problem))
        return False
    return True


@bp.get("/policy")
def policy():
    active = policies.active_policy()
    if request.args.get("use") == "suggestions":
        form = PolicyForm(meta={"csrf": False})
        form.window.data = request.args.get("window", "30d")
        found = suggestions.suggest(window=_window(form))
        form.fill(suggestions.filled_in(active.thresholds, found), active.reject_action)
    elif "reject_action" in request.args:
        form = _preview_form()
        if not form.validate():
            return _render_editor(form, status=400)
    else:
        form = PolicyForm()
        form.fill(active.thresholds, active.reject_action)
        form.window.data = request.args.get("window", "30d")
    form.base_version.data = str(active.version)
    return _render_editor(form)


@bp.get("/policy/replay")
def policy_replay():
    """The replay panel alone, for the editor's script to refresh as the admin types."""
    form = _preview_form()
    active = policies.active_policy()
    valid = form.validate() and _form_ok(form)
    if not valid:
        return render_template("admin/_replay_errors.html", form=form), 400
    result, charts, changes, examples = _evidence(form, active, valid=True)
    return render_template("admin/_replay.html", replay=result, charts=charts, changes=changes,
                           examples=examples, active=active, form=form)


@bp.post("/policy")
def save_policy():
    form = PolicyForm()
    if not form.validate():
        return _render_editor(form, status=400)
    base = (form.base_version.data or "").strip()
    if not (base.isascii() and base.isdigit() and len(base) <= 9):
        # Without it, a save could overwrite a version this admin never saw.
        form.form_errors.append(
            "This form does not say which policy version you were editing (it may come from "
            "an old or altered page). Nothing was saved: reload the editor and save again.")
        return _render_editor(form, status=409)
    try:
        saved = versions.save(form.thresholds(), form.reject_action.data, note=form.note.data,
                              actor=current_user, base_version=int(base))
    except versions.PolicyConflict as conflict:
        db.session.rollback()
        form.form_errors.append(str(conflict))
        return _render_editor(form, status=409)
    except versions.NoteMissing as missing:
        db.session.rollback()
        form.note.errors = [*form.note.errors, str(missing)]
        return _render_editor(form, status=400)
    except versions.PolicyError as problem:
        db.session.rollback()
        form.form_errors.append(str(problem))
        return _render_editor(form, status=400)
    message = f"Policy version {saved.version} is active. New comments are banded by it."
    if form.requeue_published.data:
        ids = versions.published_in_reject_band(saved, _window(form))
        outcome = versions.requeue_published(saved, ids)
        message += (f" Sent {outcome.moved} published comment{'s' if outcome.moved != 1 else ''}"
                    " in its reject band back to the queue for review.")
    return activated(saved, message, reband=form.reband.data)


def activated(saved, message: str, *, reband: bool):
    """Commit the new active version, re-band the queue if asked (its own commit), say so."""
    db.session.commit()
    if reband:
        message += " " + _reband(saved)
    flash(message, "info")
    return redirect(url_for("admin.policy_versions"), code=303)


def _reband(saved) -> str:
    outcome = versions.reband_waiting(saved)
    db.session.commit()
    text = (f"Re-banded the waiting queue: {outcome.moved} of {outcome.considered} comments "
            "changed state, each recorded as a decision.")
    if outcome.conflicts:
        text += f" {outcome.conflicts} were decided by a moderator meanwhile and kept."
    return text
