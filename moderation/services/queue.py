"""What moderators see: comments waiting for a decision, riskiest first, filtered, and paged
by keyset so the millionth comment costs what the first does (no OFFSET scans)."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import selectinload

from moderation import jsonsafe
from moderation.extensions import db
from moderation.models import LABELS, Article, Comment, CommentState, Score
from moderation.services import queue_counts

AWAITING = (CommentState.QUEUED, CommentState.HELD)
ORDERS = ("risk", "oldest", "newest")
# "reported": comments readers reported, published or hidden by their reports, heaviest
# reports first whatever the order asked for.
BANDS = ("held", "queued", "unscored", "reported")
REPORTED_STATES = queue_counts.REPORTED_STATES
MAX_PAGE = 200


class QueueError(ValueError):
    """A filter or cursor that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class QueueFilter:
    order: str = "risk"
    band: str | None = None
    article: str | None = None  # slug
    label: str | None = None
    label_min: float | None = None
    scorer: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None

    def __post_init__(self):
        if self.order not in ORDERS:
            raise QueueError(f"Unknown order {self.order!r}: use one of {', '.join(ORDERS)}.")
        if self.band is not None and self.band not in BANDS:
            raise QueueError(f"Unknown band {self.band!r}: use one of {', '.join(BANDS)}.")
        if (self.label is None) != (self.label_min is None):
            raise QueueError("A label filter needs both the label and a minimum score.")
        if self.label is not None and self.label not in LABELS:
            raise QueueError(f"Unknown label {self.label!r}: use one of {', '.join(LABELS)}.")
        if self.label_min is not None and not 0 <= self.label_min <= 1:
            raise QueueError("A label's minimum score is between 0 and 1.")
        if self.since and self.until and self.since > self.until:
            raise QueueError("The start of the date range is after its end.")

    @property
    def narrows(self) -> bool:
        """Whether it leaves out some of a band's comments (order and band alone do not)."""
        return any((self.article, self.label, self.scorer, self.since, self.until, self.text))


@dataclass
class QueuePage:
    comments: list[Comment]
    next_cursor: str | None
    filter: QueueFilter = field(default_factory=QueueFilter)


# A phase is one index range walked in order: (state, scored?). In risk order held comments
# come first (the reject band is the top of the queue), each phase riskiest first, and the
# unscored ones (no risk yet) after the scored ones of their state.
_RISK_PHASES = {
    None: [(CommentState.HELD, True), (CommentState.HELD, False),
           (CommentState.QUEUED, True), (CommentState.QUEUED, False)],
    "held": [(CommentState.HELD, True), (CommentState.HELD, False)],
    "queued": [(CommentState.QUEUED, True)],
    "unscored": [(CommentState.HELD, False), (CommentState.QUEUED, False)],
}


def _filtered(query, queue_filter: QueueFilter):
    if queue_filter.article:
        query = query.where(Comment.article_id == db.select(Article.id).where(
            Article.slug == queue_filter.article).scalar_subquery())
    if queue_filter.scorer:
        query = query.where(Comment.scorer_name == queue_filter.scorer)
    if queue_filter.since:
        query = query.where(Comment.created_at >= queue_filter.since)
    if queue_filter.until:
        query = query.where(Comment.created_at <= queue_filter.until)
    if queue_filter.text:
        query = query.where(db.or_(
            Comment.body.icontains(queue_filter.text, autoescape=True),
            Comment.author_name.icontains(queue_filter.text, autoescape=True),
        ))
    if queue_filter.label:
        column = getattr(Score, queue_filter.label)
        query = query.where(db.select(Score.id).where(
            Score.comment_id == Comment.id,
            Score.scorer_name == Comment.scorer_name,
            Score.scorer_version == Comment.scorer_version,
            column >= queue_filter.label_min,
        ).exists())
    return query


def _load(query):
    return query.options(selectinload(Comment.article),
                         selectinload(Comment.current_score).selectinload(Score.site_model),
                         selectinload(Comment.policy))


def page(queue_filter: QueueFilter | None = None, *, limit: int = 50,
         cursor: str | None = None) -> QueuePage:
    queue_filter = queue_filter or QueueFilter()
    limit = max(1, min(limit, MAX_PAGE))
    position = _decode(cursor, queue_filter)
    if queue_filter.band == "reported":
        comments, more = _reported_page(queue_filter, limit, position)
    elif queue_filter.order == "risk":
        comments, more = _risk_page(queue_filter, limit, position)
    else:
        comments, more = _age_page(queue_filter, limit, position)
    next_cursor = _next_cursor(queue_filter, comments) if more else None
    return QueuePage(comments, next_cursor, queue_filter)


def _risk_page(queue_filter, limit, position):
    phases = _RISK_PHASES[queue_filter.band]
    start_phase = position.get("phase", 0) if position else 0
    found: list[Comment] = []
    for index in range(start_phase, len(phases)):
        state, scored = phases[index]
        query = _filtered(db.select(Comment).where(Comment.state == state), queue_filter)
        after = position if position and index == start_phase else None
        if scored:
            query = query.where(Comment.risk.is_not(None)).order_by(Comment.risk.desc(),
                                                                    Comment.id.desc())
            if after:
                query = query.where(db.tuple_(Comment.risk, Comment.id)
                                    < (after["risk"], after["id"]))
        else:
            query = query.where(Comment.risk.is_(None)).order_by(Comment.id.desc())
            if after:
                query = query.where(Comment.id < after["id"])
        rows = db.session.execute(_load(query).limit(limit + 1 - len(found))).scalars().all()
        for comment in rows:
            comment._queue_phase = index  # for the cursor
        found.extend(rows)
        if len(found) > limit:
            return found[:limit], True
    return found, False


def _reported_page(queue_filter, limit, position):
    query = _filtered(db.select(Comment).where(Comment.report_weight > 0,
                                               Comment.state.in_(REPORTED_STATES)), queue_filter)
    if position:
        query = query.where(db.tuple_(Comment.report_weight, Comment.id)
                            < (position["weight"], position["id"]))
    query = query.order_by(Comment.report_weight.desc(), Comment.id.desc())
    rows = db.session.execute(_load(query).limit(limit + 1)).scalars().all()
    return rows[:limit], len(rows) > limit


def _age_page(queue_filter, limit, position):
    """Oldest/newest across states: one index walk per state, merged by id."""
    newest = queue_filter.order == "newest"
    states = {"held": [CommentState.HELD], "queued": [CommentState.QUEUED]}.get(
        queue_filter.band, list(AWAITING))
    merged: list[Comment] = []
    for state in states:
        query = _filtered(db.select(Comment).where(Comment.state == state), queue_filter)
        if queue_filter.band == "queued":
            query = query.where(Comment.risk.is_not(None))
        if queue_filter.band == "unscored":
            query = query.where(Comment.risk.is_(None))
        if position:
            query = query.where(Comment.id < position["id"] if newest
                                else Comment.id > position["id"])
        query = query.order_by(Comment.id.desc() if newest else Comment.id)
        merged.extend(db.session.execute(_load(query).limit(limit + 1)).scalars())
    merged.sort(key=lambda comment: comment.id, reverse=newest)
    return merged[:limit], len(merged) > limit


def _next_cursor(queue_filter: QueueFilter, comments: list[Comment]) -> str | None:
    if not comments:
        return None
    last = comments[-1]
    position = {"order": queue_filter.order, "id": last.id}
    if queue_filter.band == "reported":
        position.update(weight=last.report_weight)
    elif queue_filter.order == "risk":
        position.update(phase=last._queue_phase, risk=last.risk)
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str | None, queue_filter: QueueFilter) -> dict | None:
    """A cursor made by _next_cursor for this order; anything else is a clear error, never a
    value that reaches SQL unchecked."""
    if not cursor:
        return None
    broken = QueueError("That page link is broken or out of date: start from the first page.")
    try:
        if len(cursor) > 512:
            raise ValueError("too long")
        position = jsonsafe.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise broken from None
    if not isinstance(position, dict) or position.get("order") != queue_filter.order:
        raise broken
    comment_id = position.get("id")
    if not isinstance(comment_id, int) or not 0 < comment_id < 2**31:
        raise broken
    if queue_filter.band == "reported":
        if not _finite(position.get("weight"), 0, 1e9):
            raise broken
    elif queue_filter.order == "risk":
        phase, risk = position.get("phase"), position.get("risk")
        if not isinstance(phase, int) or not 0 <= phase < len(_RISK_PHASES[queue_filter.band]):
            raise broken
        if risk is not None and not _finite(risk, 0, 1):
            raise broken
    return position


def _finite(value, low: float, high: float) -> bool:
    """A real number in [low, high]: not a bool, not NaN, not 10**30 (past what SQL holds)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and low <= value <= high)


# Open reports always weigh more than 0 (each reader counts at least a little), so the
# index on report_weight finds every reported comment.


def band_of(comment: Comment) -> str | None:
    """Which waiting band a comment is in: held, queued or unscored; None if not waiting."""
    if comment.state not in AWAITING:
        return None
    if comment.risk is None:
        return "unscored"
    return "held" if comment.state is CommentState.HELD else "queued"


def matching_ids(queue_filter: QueueFilter, limit: int) -> list[int]:
    """Ids of the first `limit` comments the filter shows, in queue order (bulk decisions)."""
    ids: list[int] = []
    cursor = None
    while len(ids) < limit:
        batch = page(queue_filter, limit=min(MAX_PAGE, limit - len(ids)), cursor=cursor)
        ids.extend(comment.id for comment in batch.comments)
        if not batch.next_cursor:
            break
        cursor = batch.next_cursor
    return ids


def state_counts() -> dict[str, int]:
    """How many wait in each band, how many are still being scored, and how many readers
    reported: kept by triggers (services/queue_counts), so it costs the same at a million
    comments as at ten."""
    return queue_counts.read()


def filtered_counts(queue_filter: QueueFilter) -> dict[str, int] | None:
    """Each band's count under the filter's other conditions ("12 of 340 held"); None when
    the filter narrows nothing and the global counts already say it."""
    if not queue_filter.narrows:
        return None
    unbanded = replace(queue_filter, band=None)
    rows = db.session.execute(_filtered(
        db.select(Comment.state, Comment.risk.is_(None), db.func.count())
        .where(Comment.state.in_(AWAITING)), unbanded)
        .group_by(Comment.state, Comment.risk.is_(None))).all()
    counts = dict.fromkeys(("held", "queued", "unscored", "reported"), 0)
    for state, unscored, count in rows:
        counts["unscored" if unscored else state.value] += count
    counts["reported"] = db.session.execute(_filtered(
        db.select(db.func.count()).select_from(Comment).where(
            Comment.report_weight > 0, Comment.state.in_(REPORTED_STATES)), unbanded)
    ).scalar_one()
    return counts


def articles_waiting(limit: int = 300) -> list[tuple[str, str]]:
    """(slug, headline) of the articles with comments waiting or reported: what the article
    filter offers to pick by headline."""
    # Two index-friendly halves: waiting comments by (article, state), one probe per
    # article; reported ones through the reports index, once. As one OR inside a single
    # EXISTS it read every comment of every article (1.1 s a page at 1M comments).
    waiting = db.select(Comment.id).where(Comment.article_id == Article.id,
                                          Comment.state.in_(AWAITING))
    reported = db.select(Comment.article_id).where(Comment.report_weight > 0,
                                                   Comment.state.in_(REPORTED_STATES))
    rows = db.session.execute(db.select(Article.slug, Article.headline)
                              .where(db.or_(waiting.exists(), Article.id.in_(reported)))
                              .order_by(Article.headline).limit(limit)).all()
    return [(slug, headline) for slug, headline in rows]


def label_scores(score: Score | None, produced: tuple[str, ...] | None = None
                 ) -> list[tuple[str, float]]:
    """A card's bars, highest first: the labels the active scorer produces (`produced`), or,
    for a comment scored by a model that gave none of them, every label that model gave."""
    if score is None:
        return []
    labels = score.labels
    if produced is not None:
        labels = {label: value for label, value in labels.items() if label in produced
                  } or labels
    return sorted(labels.items(), key=lambda item: item[1], reverse=True)


def close_matches(score: Score | None, limit: int = 2, floor: float = 0.2
                  ) -> list[tuple[str, str, float]]:
    """(labels, example sentence, similarity) for the examples behind the comment's highest
    labels, where the scorer compared it with example sentences and a label reached `floor`.
    An example behind several labels is named once, with all of them."""
    if score is None or not score.matches:
        return []
    values = score.labels
    ranked = sorted(((label, match) for label, match in score.matches.items()
                     if values.get(label, 0.0) >= floor),
                    key=lambda item: values.get(item[0], 0.0), reverse=True)
    by_text: dict[str, tuple[list[str], float]] = {}
    for label, match in ranked:
        labels, _ = by_text.setdefault(match["text"], ([], match["similarity"]))
        labels.append(label.replace("_", " "))
    return [(", ".join(labels), text, similarity)
            for text, (labels, similarity) in list(by_text.items())[:limit]]


def stack_name(score: Score | None) -> str | None:
    """Which models scored it: the base scorer and, when one added its label, the site model."""
    if score is None:
        return None
    name = f"{score.scorer_name} ({score.scorer_version})"
    if score.site_model is not None:
        name += f" + {score.site_model.label}"
    return name


def queue_page(limit: int = 50) -> list[Comment]:
    """The first page in the default order."""
    return page(limit=limit).comments
