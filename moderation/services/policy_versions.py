"""Policy versions: every save is a new version, old ones stay and can be re-activated; the
queue is re-banded under a new version only when an admin asks, one audited decision per
comment. Risk and bands themselves are computed in services/policy.py."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy.exc import IntegrityError

from moderation.extensions import db
from moderation.models import (
    LABELS,
    Comment,
    CommentState,
    Policy,
    Score,
    User,
)
from moderation.services import admin_log, words
from moderation.services import policy as policies
from moderation.services.lifecycle import StateConflict, change_state
from moderation.wordmatch import Matcher

# What re-banding may move: comments waiting for a moderator. Pending ones are banded by the
# worker under whichever version is active when it scores them.
WAITING = (CommentState.QUEUED, CommentState.HELD)
FIELDS = ("enabled", "approve", "reject")


class PolicyError(ValueError):
    """The proposed policy cannot be saved; the message says why, for a person."""


class PolicyConflict(PolicyError):
    """Another admin saved a version while this one was being edited."""


class NoteMissing(PolicyError):
    """A save (or re-activation) without a note: the proposal itself may be fine."""


NOTE_NEEDED = "Say in a note why the policy changes: it is shown in the history."


@dataclass(frozen=True)
class Change:
    label: str | None  # None for the site-wide reject action
    field: str
    before: object
    after: object

    def describe(self) -> str:
        if self.label is None:
            return f"reject band: {self.before} → {self.after}"
        name = self.label.replace("_", " ")
        if self.field == "enabled":
            return f"{name}: {'on' if self.after else 'off'}"
        verb = "approve below" if self.field == "approve" else "reject at"
        return f"{name} {verb}: {_fmt(self.before)} → {_fmt(self.after)}"


@dataclass
class RebandOutcome:
    considered: int = 0
    moved: int = 0
    conflicts: int = 0  # decided by a moderator meanwhile: left as they are


def _fmt(value) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def proposal(thresholds: dict, reject_action: str) -> SimpleNamespace:
    """An unsaved policy, usable wherever a Policy is read (band, risk, replay)."""
    return SimpleNamespace(thresholds=thresholds, reject_action=reject_action)


def validate(thresholds: dict, reject_action: str) -> dict:
    """Normalised thresholds, or PolicyError naming the first problem."""
    if reject_action not in policies.REJECT_ACTIONS:
        raise PolicyError("The reject band either holds comments for review or rejects them.")
    clean = {}
    for label in LABELS:
        rule = policies.rule_for(thresholds, label)
        if rule is None:
            raise PolicyError(f"{label.replace('_', ' ')}: thresholds are missing.")
        name = label.replace("_", " ").capitalize()
        try:
            approve, reject = float(rule["approve"]), float(rule["reject"])
        except (KeyError, TypeError, ValueError):
            raise PolicyError(f"{name}: thresholds must be numbers between 0 and 1.") from None
        if not (0 <= approve <= 1 and 0 <= reject <= 1):
            raise PolicyError(f"{name}: thresholds must be between 0 and 1.")
        if approve >= reject:
            raise PolicyError(
                f"{name}: approve-below ({approve:.2f}) must be lower than reject-at "
                f"({reject:.2f}), or every comment between them would be both.")
        clean[label] = {"enabled": bool(rule.get("enabled", True)),
                        "approve": round(approve, 4), "reject": round(reject, 4)}
    return clean


def diff(before: Policy | SimpleNamespace | None, after) -> list[Change]:
    if before is None:
        return []
    changes = []
    if before.reject_action != after.reject_action:
        changes.append(Change(None, "reject_action", before.reject_action, after.reject_action))
    for label in LABELS:
        old = policies.rule_for(before.thresholds, label) or {}
        new = policies.rule_for(after.thresholds, label) or {}
        for field in FIELDS:
            was, now = old.get(field), new.get(field)
            if field == "enabled":
                was, now = bool(was if was is not None else True), bool(
                    now if now is not None else True)
            if was != now:
                changes.append(Change(label, field, was, now))
    return changes


def versions() -> list[Policy]:
    return list(db.session.execute(db.select(Policy).order_by(Policy.version.desc())).scalars())


def history() -> list[tuple[Policy, list[Change]]]:
    """Every version, newest first, each with what changed from the version before it."""
    newest_first = versions()
    return [(policy, diff(older, policy))
            for policy, older in zip(newest_first, [*newest_first[1:], None], strict=True)]


def by_version(version: int) -> Policy | None:
    return db.session.execute(
        db.select(Policy).where(Policy.version == version)
    ).scalar_one_or_none()


def save(thresholds: dict, reject_action: str, *, note: str, actor: User | None,
         base_version: int | None = None, based_on: Policy | None = None) -> Policy:
    """Make the proposed thresholds the active policy as a new version.

    `base_version` is the version the admin was editing: if another one became active
    meanwhile, nothing is saved (PolicyConflict) so nobody overwrites a change they never saw.
    """
    clean = validate(thresholds, reject_action)
    note = (note or "").strip()
    if not note:
        raise NoteMissing(NOTE_NEEDED)
    current = policies.active_policy()
    if base_version is not None and current.version != base_version:
        raise PolicyConflict(
            f"Version {current.version} was saved by {_author(current)} while you were "
            f"editing version {base_version}. Nothing was saved: review the new version and "
            "your changes, then save again.")
    if based_on is None and not diff(current, proposal(clean, reject_action)):
        raise PolicyError(f"These settings are the same as the active version "
                          f"{current.version}; there is nothing to save.")
    latest = db.session.execute(db.select(db.func.max(Policy.version))).scalar_one() or 0
    # Deactivate first: the database allows one active row at a time.
    updated = db.session.execute(
        db.update(Policy).where(Policy.id == current.id, Policy.active)
        .values(active=False).execution_options(synchronize_session="fetch")
    )
    if updated.rowcount != 1:
        raise PolicyConflict("Another admin changed the active policy at the same moment. "
                             "Nothing was saved: reload and try again.")
    policy = Policy(version=latest + 1, thresholds=clean, reject_action=reject_action,
                    note=note[:2000], active=True,
                    created_by_id=actor.id if actor else None,
                    based_on_version=based_on.version if based_on else None)
    db.session.add(policy)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise PolicyConflict("Another admin saved a version at the same moment. Nothing was "
                             "saved: reload and try again.") from None
    _log_save(actor, current, policy, based_on)
    return policy


def _log_save(actor: User | None, current: Policy, policy: Policy,
              based_on: Policy | None) -> None:
    """The admin log's record: what changed from the version that was active, in detail."""
    changes = [{"label": change.label, "field": change.field, "before": change.before,
                "after": change.after} for change in diff(current, policy)]
    admin_log.record(actor, "policy.reactivate" if based_on else "policy.save",
                     f"policy v{policy.version}", version=policy.version,
                     previous=current.version, based_on=based_on.version if based_on else None,
                     changes=changes, note=policy.note[:200])


def reactivate(version: int, *, actor: User, note: str = "") -> Policy:
    """Re-activating an old version copies it into a new one, so history only grows. Like a
    save, it needs a note saying why."""
    old = by_version(version)
    if old is None:
        raise LookupError(f"There is no policy version {version}.")
    current = policies.active_policy()
    if old.id == current.id:
        raise PolicyError(f"Version {version} is already the active policy.")
    return save(old.thresholds, old.reject_action, actor=actor, based_on=old, note=note)


def _author(policy: Policy) -> str:
    return policy.created_by.username if policy.created_by else "the system"


def reband_waiting(policy: Policy, *, batch: int = 500) -> RebandOutcome:
    """Band every scored comment still waiting for a moderator under `policy`: one Decision
    per comment that changes state (reason "reband:<band>"), the band, risk and policy of the
    others updated in place. Comments a moderator decides meanwhile are left alone."""
    outcome = RebandOutcome()
    word_lists = words.matcher()
    last_id = 0
    while (last_id := reband_batch(policy, outcome, after_id=last_id, limit=batch,
                                   word_lists=word_lists)) is not None:
        pass
    return outcome


def reband_batch(policy: Policy, outcome: RebandOutcome, *, after_id: int, limit: int,
                 word_lists: Matcher | None = None) -> int | None:
    """Re-band the next `limit` waiting comments after `after_id` (keyset order), adding to
    `outcome`; the last id seen, or None when there were none left. The command line commits
    between batches; the web request runs them all in one transaction."""
    word_lists = word_lists if word_lists is not None else words.matcher()
    rows = db.session.execute(
        db.select(Comment, Score)
        .join(Score, db.and_(Score.comment_id == Comment.id,
                             Score.scorer_name == Comment.scorer_name,
                             Score.scorer_version == Comment.scorer_version))
        .where(Comment.state.in_(WAITING), Comment.scored_at.is_not(None),
               Comment.id > after_id)
        .order_by(Comment.id).limit(limit)
    ).all()
    if not rows:
        return None
    site_model = policies.active_site_model_id()
    from moderation.services.pipeline import must_wait_ids  # pipeline → site_evidence → here

    waits = must_wait_ids([comment for comment, _ in rows])
    for comment, score in rows:
        outcome.considered += 1
        labels = policies.counted_labels(score.labels, score.site_model_id, site_model)
        outcome.moved += _reband_one(comment, labels, policy, outcome, word_lists,
                                     must_wait=comment.id in waits)
    db.session.flush()
    return rows[-1][0].id


def _reband_one(comment: Comment, labels: dict[str, float], policy: Policy,
                outcome: RebandOutcome, word_lists: Matcher, *, must_wait: bool) -> bool:
    band, note = words.adjust_band(policies.band(labels, policy), comment.body, using=word_lists)
    target = policies.state_for(band, policy, premoderate=must_wait)
    moved = False
    if target is not comment.state:
        try:
            moved = change_state(comment, target, allowed_from=WAITING, policy=policy,
                                 reason=f"reband:{band.value}",
                                 note=note or f"re-banded under policy v{policy.version}"
                                 ) is not None
        except StateConflict:
            outcome.conflicts += 1
            return False
    # Written only while the comment still waits, so a decision made meanwhile keeps the band
    # it was decided under. (Core UPDATE: the loaded object may be stale by now.)
    still_waiting = db.session.execute(
        db.update(Comment)
        .where(Comment.id == comment.id, Comment.state.in_(WAITING + (target,)))
        .values(band=band, risk=policies.risk(labels, policy), policy_id=policy.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not still_waiting:
        outcome.conflicts += 1
    return moved


def waiting_count() -> int:
    return db.session.execute(
        db.select(db.func.count()).select_from(Comment)
        .where(Comment.state.in_(WAITING), Comment.scored_at.is_not(None))
    ).scalar_one()


# ---- published comments a stricter policy would not have published ------------------------

REQUEUE_REASON = "requeue:reject band"


def published_in_reject_band(proposed, window: str = "30d") -> list[int]:
    """Ids of published comments (posted here, in the replay window) that the proposed policy
    puts in its reject band: what a stricter policy may send back for review."""
    import numpy as np

    from moderation.services import replay

    query = (
        db.select(Comment.id, *(replay.counted_column(label) for label in LABELS))
        .join(Score, db.and_(Score.comment_id == Comment.id,
                             Score.scorer_name == Comment.scorer_name,
                             Score.scorer_version == Comment.scorer_version))
        .where(Comment.state == CommentState.APPROVED, Comment.import_id.is_(None))
    )
    since = replay.window_start(window)
    if since is not None:
        query = query.where(Comment.created_at >= since)
    # The driver's tuples straight into one float array (None becomes NaN), as
    # replay.load_history reads: a Row per comment and a list per row cost 0.9 s of the
    # editor's 1.3 s at 100k published comments.
    result = db.session.connection().execute(query)
    try:
        rows = result.cursor.fetchall()
    finally:
        result.close()
    if not rows:
        return []
    table = np.array(rows, dtype=float)  # ids are below 2^31: exact in a float64
    codes = policies.band_codes(table[:, 1:], proposed)
    return table[codes == 2, 0].astype(np.int64).tolist()


def requeue_published(policy: Policy, comment_ids: list[int]) -> RebandOutcome:
    """Send these published comments back to the queue for a moderator, one decision by
    `policy` each. Nothing is removed; a comment decided meanwhile is left alone."""
    outcome = RebandOutcome()
    for comment in db.session.execute(
            db.select(Comment).where(Comment.id.in_(comment_ids))).scalars():
        outcome.considered += 1
        try:
            moved = change_state(comment, CommentState.QUEUED,
                                 allowed_from=[CommentState.APPROVED], policy=policy,
                                 reason=REQUEUE_REASON,
                                 note=f"in the reject band of policy v{policy.version}")
            outcome.moved += moved is not None
        except StateConflict:
            outcome.conflicts += 1
    db.session.flush()
    return outcome
