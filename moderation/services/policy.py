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


def _enabled(policy: Policy, labels: Mapping[str, float]):
    for label in LABELS:
        rule = policy.thresholds.get(label)
        value = labels.get(label)
        # NaN (a scorer's bad day) counts as missing, as in band_codes below.
        if rule and rule.get("enabled", True) and value is not None and not math.isnan(value):
            yield label, float(value), rule


def risk(labels: Mapping[str, float], policy: Policy) -> float:
    """Risk is the highest probability among the labels the policy enables."""
    return max((value for _, value, _ in _enabled(policy, labels)), default=0.0)


def band(labels: Mapping[str, float], policy: Policy) -> Band:
    """Reject when any enabled label reaches its reject threshold; approve when every
    enabled label is under its approve threshold; queue the rest."""
    rules = list(_enabled(policy, labels))
    if any(value >= rule["reject"] for _, value, rule in rules):
        return Band.REJECT
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
    codes[not_under] = 1
    codes[rejects] = 2
    return codes


def risk_values(values: np.ndarray, policy: Policy) -> np.ndarray:
    """risk() for every row: the highest enabled label with a value, 0.0 when there is none."""
    values = np.asarray(values, dtype=float)
    columns, _, _ = _enabled_columns(policy)
    if not columns:
        return np.zeros(len(values), dtype=float)
    enabled = values[:, columns]
    present = ~np.isnan(enabled)
    highest = np.where(present, enabled, -np.inf).max(axis=1)
    return np.where(present.any(axis=1), highest, 0.0)
