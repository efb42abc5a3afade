"""The one place that turns label scores into risk and a band under a policy."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from moderation.extensions import db
from moderation.models import LABELS, SITE_LABEL, Band, CommentState, Policy

# Label -> (approve below, reject at or above). Risk bands for a general news site:
# the rarer, graver labels (threat, severe toxicity, identity attack) hold sooner.
DEFAULT_THRESHOLDS: dict[str, tuple[float, float]] = {
    "toxicity": (0.30, 0.90),
    "severe_toxicity": (0.10, 0.50),
    "obscene": (0.30, 0.90),
    "threat": (0.10, 0.60),
    "insult": (0.30, 0.90),
    "identity_attack": (0.15, 0.70),
    "sexual_explicit": (0.30, 0.90),
    # Only scored while a site model is active (see services/site_models.py).
    "site_reject": (0.20, 0.90),
}
REJECT_ACTIONS = ("hold", "reject")


def default_thresholds() -> dict[str, dict]:
    return {
        label: {"enabled": True, "approve": approve, "reject": reject}
        for label, (approve, reject) in DEFAULT_THRESHOLDS.items()
    }


def rule_for(thresholds: Mapping[str, dict], label: str) -> dict | None:
    """A label's rule; versions saved before site models existed have none for their label,
    which reads as off at the default thresholds."""
    rule = thresholds.get(label)
    if rule is None and label == SITE_LABEL:
        approve, reject = DEFAULT_THRESHOLDS[label]
        return {"enabled": False, "approve": approve, "reject": reject}
    return rule


def active_site_model_id() -> int | None:
    """The site model whose scores count now; a rolled-back model's stored scores do not."""
    from moderation.models import SiteModel

    return db.session.execute(
        db.select(SiteModel.id).where(SiteModel.active)).scalar_one_or_none()


def counted_labels(labels: Mapping[str, float], site_model_id: int | None,
                   active_site_model: int | None) -> dict[str, float]:
    """A stored score's labels as the policy should read them now: the site label only while
    the model that gave it is the active one."""
    if SITE_LABEL in labels and (site_model_id is None or site_model_id != active_site_model):
        return {label: value for label, value in labels.items() if label != SITE_LABEL}
    return dict(labels)


def active_policy() -> Policy:
    """The active policy; a fresh database gets version 1 with the defaults."""
    policy = db.session.execute(db.select(Policy).where(Policy.active)).scalar_one_or_none()
    if policy is None:
        policy = Policy(
            version=1,
            thresholds=default_thresholds(),
            reject_action="hold",
            note="Default policy",
            active=True,
        )
        db.session.add(policy)
        db.session.flush()
    return policy


def active_or_defaults(on_missing_database=None) -> Policy:
    """The active policy, read and let go (for the CLI's scoring and measuring); on a database
    not migrated yet, an unsaved policy with the defaults, after calling `on_missing_database`."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        policy = active_policy()
    except SQLAlchemyError:
        if on_missing_database is not None:
            on_missing_database()
        policy = Policy(version=None, thresholds=default_thresholds(), reject_action="hold")
    db.session.rollback()  # a default policy made up for a fresh database is not saved here
    return policy


def _enabled(policy: Policy, labels: Mapping[str, float]):
    for label in LABELS:
        rule = policy.thresholds.get(label)
        value = labels.get(label)
        # NaN (a scorer's bad day) counts as missing, as in band_codes below.
        if rule and rule.get("enabled", True) and value is not None and not math.isnan(value):
            yield label, float(value), rule


def risk(labels: Mapping[str, float], policy: Policy) -> float:
    """Risk is the highest probability among the labels the policy enables; with an active
    site model's label enabled it is the site model's probability, unless a base label reaches
    its reject threshold (then the highest of all)."""
    rules = list(_enabled(policy, labels))
    site = next((value for label, value, _ in rules if label == SITE_LABEL), None)
    if site is not None and not any(value >= rule["reject"] for _, value, rule in rules):
        return site
    return max((value for _, value, _ in rules), default=0.0)


def band(labels: Mapping[str, float], policy: Policy) -> Band:
    """Reject when any enabled label reaches its reject threshold; approve when every
    enabled label is under its approve threshold; queue the rest.

    An active site model (its label enabled and present) replaces the base labels' approve
    thresholds rather than adding one more label to them: it learned where this site's
    moderators draw the line from the base labels and the text, so it approves what they
    approve and queues what they reject, both ways. The base labels' reject thresholds stay as
    a floor: a comment the base scorer finds extreme is held whatever the site model says."""
    rules = list(_enabled(policy, labels))
    if any(value >= rule["reject"] for _, value, rule in rules):
        return Band.REJECT
    site = next(((value, rule) for label, value, rule in rules if label == SITE_LABEL), None)
    if site is not None:
        return Band.APPROVE if site[0] < site[1]["approve"] else Band.QUEUE
    if all(value < rule["approve"] for _, value, rule in rules):
        return Band.APPROVE
    return Band.QUEUE


def state_for(band_: Band, policy: Policy, *, premoderate: bool = False) -> CommentState:
    if band_ is Band.REJECT:
        return CommentState.REJECTED if policy.reject_action == "reject" else CommentState.HELD
    if band_ is Band.APPROVE and not premoderate:
        return CommentState.APPROVED
    return CommentState.QUEUED


# Vectorized twins of band() and risk() for replaying a policy over many scored comments at
# once. Rows are comments, columns follow LABELS, NaN marks a label the model did not produce.
BAND_CODES: tuple[Band, ...] = (Band.APPROVE, Band.QUEUE, Band.REJECT)  # code -> band


def _enabled_columns(policy: Policy) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Column indexes of the labels the policy enables, with their approve and reject
    thresholds; the same selection _enabled() makes, less the per-comment "has a value"."""
    columns, approve, reject = [], [], []
    for index, label in enumerate(LABELS):
        rule = policy.thresholds.get(label)
        if rule and rule.get("enabled", True):
            columns.append(index)
            approve.append(float(rule["approve"]))
            reject.append(float(rule["reject"]))
    return columns, np.array(approve, dtype=float), np.array(reject, dtype=float)


def band_codes(values: np.ndarray, policy: Policy) -> np.ndarray:
    """band() for every row: 0 approve, 1 queue, 2 reject (BAND_CODES maps them back)."""
    values = np.asarray(values, dtype=float)
    codes = np.zeros(len(values), dtype=np.int8)
    columns, approve, reject = _enabled_columns(policy)
    if not columns:
        return codes  # nothing enabled: every comment is vacuously under every threshold
    enabled = values[:, columns]
    # Comparisons with NaN are False, so a missing label neither rejects nor blocks approval.
    with np.errstate(invalid="ignore"):
        rejects = (enabled >= reject).any(axis=1)
        not_under = (enabled >= approve).any(axis=1)
        site = _site_column(columns)
        if site is not None:  # rows with the site label: it alone decides approve or queue
            has_site = ~np.isnan(enabled[:, site])
            not_under[has_site] = enabled[has_site, site] >= approve[site]
    codes[not_under] = 1
    codes[rejects] = 2
    return codes


def _site_column(columns: list[int]) -> int | None:
    """Where the site label sits among the enabled columns, if enabled."""
    index = LABELS.index(SITE_LABEL)
    return columns.index(index) if index in columns else None


def risk_values(values: np.ndarray, policy: Policy) -> np.ndarray:
    """risk() for every row: the highest enabled label with a value, 0.0 when there is none;
    the site label where it is present and no label reaches its reject threshold."""
    values = np.asarray(values, dtype=float)
    columns, _, reject = _enabled_columns(policy)
    if not columns:
        return np.zeros(len(values), dtype=float)
    enabled = values[:, columns]
    present = ~np.isnan(enabled)
    highest = np.where(present.any(axis=1),
                       np.where(present, enabled, -np.inf).max(axis=1), 0.0)
    site = _site_column(columns)
    if site is None:
        return highest
    with np.errstate(invalid="ignore"):
        rejects = (enabled >= reject).any(axis=1)
    use_site = present[:, site] & ~rejects
    return np.where(use_site, enabled[:, site], highest)
