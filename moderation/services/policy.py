"""The one place that turns label scores into risk and a band under a policy."""

from __future__ import annotations

from collections.abc import Mapping

from moderation.extensions import db
from moderation.models import LABELS, Band, CommentState, Policy

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
}
REJECT_ACTIONS = ("hold", "reject")


def default_thresholds() -> dict[str, dict]:
    return {
        label: {"enabled": True, "approve": approve, "reject": reject}
        for label, (approve, reject) in DEFAULT_THRESHOLDS.items()
    }


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
        if rule and rule.get("enabled", True) and labels.get(label) is not None:
            yield label, float(labels[label]), rule


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
