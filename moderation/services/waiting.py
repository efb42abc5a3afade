"""Why a comment waits for a moderator, in a few words for its card: the band and the label
that put it there, the word list, the author hold, the article's pre-moderation or readers'
reports, read from what the pipeline recorded (its last decision) and the comment's scores."""

from __future__ import annotations

from collections.abc import Sequence

from moderation.extensions import db
from moderation.models import SITE_LABEL, Band, Comment, CommentState, Decision
from moderation.services import policy as policies
from moderation.services.reports import HIDDEN
from moderation.services.sanctions import Match


def last_decisions(comment_ids: Sequence[int]) -> dict[int, Decision]:
    """Each comment's latest decision, in two queries whatever the page's length."""
    if not comment_ids:
        return {}
    latest = db.select(db.func.max(Decision.id)).where(
        Decision.comment_id.in_(list(comment_ids))).group_by(Decision.comment_id)
    return {decision.comment_id: decision for decision in db.session.execute(
        db.select(Decision).where(Decision.id.in_(latest))).scalars()}


# What put a comment there, in words, where the label's name does not say it.
_FEATURE = {"obscene": "swear words (obscene)", SITE_LABEL: "site model"}


def _named(label: str) -> str:
    return _FEATURE.get(label, label.replace("_", " "))


def _top_label(comment: Comment, reaching: str) -> tuple[str, float] | None:
    """The enabled label furthest over its `reaching` threshold ("reject" or "approve"); for
    "approve", the site model's label when it is counted, since it alone decides then."""
    score, policy = comment.current_score, comment.policy
    if score is None or policy is None:
        return None
    labels = score.labels
    site_rule = policies.rule_for(policy.thresholds, SITE_LABEL)
    if (reaching == "approve" and SITE_LABEL in labels and site_rule
            and site_rule.get("enabled", True) and labels[SITE_LABEL] >= site_rule["approve"]):
        return SITE_LABEL, labels[SITE_LABEL]
    best = None
    for label, value in labels.items():
        rule = policies.rule_for(policy.thresholds, label)
        if not rule or not rule.get("enabled", True) or value < rule[reaching]:
            continue
        margin = value - rule[reaching]
        if best is None or margin > best[2]:
            best = (label, value, margin)
    return (best[0], best[1]) if best else None


def _sanctioned(verb: str, match: Match) -> str:
    """"held: same email as “Skeptic”", "held: banned author, same address as “Skeptic”"."""
    kind = {"hold": "", "suspend": "suspended author, ", "ban": "banned author, "}
    return f"{verb}: {kind[match.sanction.kind]}{match.same()}"


def reason(comment: Comment, last: Decision | None, *, author_held: bool,
           sanction: Match | None = None) -> str | None:
    state = comment.state
    if state not in (CommentState.HELD, CommentState.QUEUED):
        return None
    if last is not None and last.reason == HIDDEN:
        return f"hidden: reported {comment.report_count}× by readers"
    if comment.scored_at is None:
        return None  # the card says "unscored" and why
    verb = "held" if state is CommentState.HELD else "queued"
    if last is not None and last.note and last.note.startswith(("banned word", "suspect word")):
        return f"{verb}: {last.note}"
    if comment.band is Band.REJECT and (top := _top_label(comment, "reject")):
        return f"{verb}: reject band, {_named(top[0])} {top[1]:.2f}"
    if comment.band is Band.APPROVE:
        if sanction is not None:
            return _sanctioned(verb, sanction)
        if author_held:
            return f"{verb}: author on hold"
        if comment.article is not None and comment.article.premoderate:
            return f"{verb}: article is pre-moderated"
    if comment.band is Band.QUEUE and (top := _top_label(comment, "approve")):
        return f"{verb}: {_named(top[0])} {top[1]:.2f}, between its thresholds"
    if sanction is not None:
        return _sanctioned(verb, sanction)
    if author_held:
        return f"{verb}: author on hold"
    return None


def reasons(comments: Sequence[Comment], held_keys: set[str],
            sanctioned: dict[int, Match] | None = None) -> dict[int, str]:
    found = last_decisions([comment.id for comment in comments])
    sanctioned = sanctioned or {}
    out = {}
    for comment in comments:
        text = reason(comment, found.get(comment.id),
                      author_held=comment.author_key in held_keys,
                      sanction=sanctioned.get(comment.id))
        if text:
            out[comment.id] = text
    return out
