"""Threshold suggestions learnt from moderators' decisions: per label, where moderators almost
always reject and where they almost always approve. A suggestion an admin can accept or not;
nothing here changes a policy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moderation.models import LABELS
from moderation.services.replay import APPROVED, REJECTED, UNDECIDED, History, load_history

MIN_DECISIONS = 30  # decided comments with a value for the label, below which we refuse
MIN_SUPPORT = 10  # comments a suggested threshold must rest on
# Candidate thresholds 0.01 .. 1.00: what the editor lets an admin type.
GRID = np.arange(1, 101) / 100
# A share that is the target up to float rounding (57/60 against 0.95) still reaches it.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class LabelSuggestion:
    label: str
    decisions: int  # decided comments with a value for this label
    reject: float | None
    reject_support: int  # decided comments at or above the reject threshold
    reject_precision: float | None  # of those, the share moderators rejected
    approve: float | None
    approve_support: int  # decided comments below the approve threshold
    approve_precision: float | None  # of those, the share moderators approved
    reason: str | None  # why there is no reject or approve suggestion, for a person


def suggest(*, precision: float = 0.95, approve_precision: float = 0.99, window: str = "all",
            history: History | None = None) -> list[LabelSuggestion]:
    """One suggestion per label, in LABELS order.

    Reject: the lowest threshold at which at least `precision` of the decided comments at or
    above it were rejected by moderators. Approve: the highest threshold under which at least
    `approve_precision` of the decided comments were approved. Each rests on MIN_SUPPORT
    comments at least."""
    if history is None:
        history = load_history(window)
    decided = history.verdict != UNDECIDED
    return [
        _suggest_label(label, history.values[decided, index], history.verdict[decided],
                       precision, approve_precision)
        for index, label in enumerate(LABELS)
    ]


def _suggest_label(label: str, column: np.ndarray, verdict: np.ndarray, precision: float,
                   approve_precision: float) -> LabelSuggestion:
    present = ~np.isnan(column)
    values, verdict = column[present], verdict[present]
    decisions = len(values)

    def refuse(reason: str) -> LabelSuggestion:
        return LabelSuggestion(label, decisions, None, 0, None, None, 0, None, reason)

    score = f"{_article(label)} {label.replace('_', '-')} score"
    if decisions == 0:
        return refuse(f"No decided comment has {score} yet.")
    if decisions < MIN_DECISIONS:
        return refuse(
            f"Only {decisions} decided comment{'s' if decisions != 1 else ''} "
            f"{'have' if decisions != 1 else 'has'} {score}; suggestions need at least "
            f"{MIN_DECISIONS}."
        )
    rejected_total = int((verdict == REJECTED).sum())
    if rejected_total == 0:
        # Every threshold would look right: there is no evidence of where rejections start.
        return refuse(
            f"Moderators rejected none of the {decisions} decided comments with {score}, "
            "so there is no line to learn yet."
        )
    if rejected_total == decisions:
        return refuse(
            f"Moderators rejected all {decisions} decided comments with {score}, so there "
            "is no line to learn yet."
        )

    order = np.argsort(values, kind="stable")
    values = values[order]
    # rejected_before[i] / approved_before[i]: moderator calls among the i lowest values.
    rejected_before = np.concatenate(([0], np.cumsum(verdict[order] == REJECTED)))
    approved_before = np.concatenate(([0], np.cumsum(verdict[order] == APPROVED)))
    below = np.searchsorted(values, GRID, side="left")  # comments with value < t, per t

    at_or_above = decisions - below
    rejected_above = rejected_total - rejected_before[below]
    reject_ok = (at_or_above >= MIN_SUPPORT) & (
        rejected_above >= precision * at_or_above - _TOLERANCE)
    approved_below = approved_before[below]
    approve_ok = (below >= MIN_SUPPORT) & (
        approved_below >= approve_precision * below - _TOLERANCE)

    reasons = []
    reject = reject_support = reject_share = None
    if reject_ok.any():
        at = int(np.argmax(reject_ok))  # the lowest threshold that qualifies
        reject, reject_support = round(float(GRID[at]), 2), int(at_or_above[at])
        reject_share = float(rejected_above[at]) / reject_support
    else:
        reasons.append(
            f"No threshold has {_percent(precision)} moderator rejections at or above it on at "
            f"least {MIN_SUPPORT} comments."
        )
    approve = approve_support = approve_share = None
    crossing = None
    if reject is not None and approve_ok.any():
        # On well-separated decisions the highest approve threshold that fits can reach past
        # the lowest reject one; the approve band must stay below the reject band.
        highest = len(GRID) - 1 - int(np.argmax(approve_ok[::-1]))
        if GRID[highest] >= reject - _TOLERANCE:
            crossing = round(float(GRID[highest]), 2)
            approve_ok = approve_ok & (GRID < reject - _TOLERANCE)
    if approve_ok.any():
        at = len(GRID) - 1 - int(np.argmax(approve_ok[::-1]))  # the highest that qualifies
        approve, approve_support = round(float(GRID[at]), 2), int(below[at])
        approve_share = float(approved_below[at]) / approve_support
        if crossing is not None:
            reasons.append(
                f"Approving below {crossing:.2f} would also fit the decisions, but that is not "
                f"below the reject threshold ({reject:.2f}), so the approve threshold is the "
                "highest one under it."
            )
    elif crossing is not None:
        reasons.append(
            f"The approve threshold that fits the decisions ({crossing:.2f}) is not below the "
            f"reject one ({reject:.2f}), and none under it does, so only the reject threshold "
            "is suggested."
        )
    else:
        reasons.append(
            f"No threshold has {_percent(approve_precision)} moderator approvals below it on at "
            f"least {MIN_SUPPORT} comments."
        )
    return LabelSuggestion(
        label=label,
        decisions=decisions,
        reject=reject,
        reject_support=reject_support or 0,
        reject_precision=reject_share,
        approve=approve,
        approve_support=approve_support or 0,
        approve_precision=approve_share,
        reason=" ".join(reasons) or None,
    )


def _article(label: str) -> str:
    return "an" if label[0] in "aeiou" else "a"


def _percent(share: float) -> str:
    return f"{share * 100:g}%"  # 0.95 -> "95%", 0.995 -> "99.5%"


def filled_in(thresholds: dict, found: list[LabelSuggestion]) -> dict:
    """`thresholds` with each suggestion put in where there is one. The result stays a valid
    policy: where a suggested reject threshold falls to or below the approve one kept from
    before, that approve threshold comes down to just under it."""
    filled = {label: dict(rule) for label, rule in thresholds.items()}
    for suggestion in found:
        rule = filled.setdefault(suggestion.label, {"enabled": True, "approve": 0.0,
                                                    "reject": 1.0})
        if suggestion.reject is not None:
            rule["reject"] = suggestion.reject
        if suggestion.approve is not None and suggestion.approve < rule["reject"]:
            rule["approve"] = suggestion.approve
        elif rule["approve"] >= rule["reject"]:
            rule["approve"] = max(0.0, round(rule["reject"] - 0.01, 2))
    return filled
