"""The decision log: every decision, filtered and paged newest first by keyset (decision id),
exported as CSV, and one comment's whole history."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import aliased, joinedload, selectinload

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Decision, Policy, Score, User
from moderation.services.decide import IMPORTED, REASONS, UNDO

# What the log calls a decision: the state it moved the comment to, or an undo.
ACTIONS = {
    "approved": CommentState.APPROVED,
    "rejected": CommentState.REJECTED,
    "queued": CommentState.QUEUED,
    "held": CommentState.HELD,
    "removed": CommentState.REJECTED,  # taken down after it was published
    UNDO: None,
}
AUTOMATIC = "policy"  # the moderator filter's name for decisions nobody signed in made
PAGE_SIZE = 50
EXPORT_BATCH = 1000
EXCERPT_CHARS = 120
# New columns go at the end, so a spreadsheet built on the old export keeps its columns.
CSV_HEADER = ("id", "at", "by", "from_state", "to_state", "reason", "note", "comment_id",
              "article_slug", "comment_excerpt", "author", "risk", "scorer", "policy_version",
              "undone_at", "undone_by")
# A spreadsheet runs a cell starting with these as a formula (OWASP "CSV injection").
# What a spreadsheet may read as the start of a formula or a DDE command, full-width forms
# included (some spreadsheets fold "＝" to "=").
_FORMULA_STARTS = ("=", "+", "-", "@", "|", "%", "\t", "\r", "\n",
                   "\uff1d", "\uff0b", "\uff0d", "\uff20", "\uff5c", "\uff05")


class AuditError(ValueError):
    """A filter or page link that cannot be used; the message says which and why."""


# What the log can be filtered by: moderators' reason codes, and the reasons the system writes
# (a key ending in ":" matches every band after it: "band:reject", "band:queue" ...).
SYSTEM_REASONS = {
    IMPORTED: "Imported history",
    "band:": "Banded by the scoring worker",
    "reband:": "Re-banded after a policy change",
    "rescore:": "Rescored",
    "unscored": "Scorer failed (queued unscored)",
}
LOG_REASONS = {**REASONS, **SYSTEM_REASONS}


@dataclass(frozen=True)
class DecisionFilter:
    moderator: str | None = None  # a username, or AUTOMATIC
    action: str | None = None
    reason: str | None = None
    article: str | None = None  # slug
    since: date | None = None  # from the start of this day (UTC)
    until: date | None = None  # to the end of this day (UTC)

    def __post_init__(self):
        if self.action is not None and self.action not in ACTIONS:
            raise AuditError(f"Unknown action {self.action!r}: use one of "
                             f"{', '.join(ACTIONS)}.")
        if self.reason is not None and self.reason not in LOG_REASONS:
            raise AuditError(f"Unknown reason {self.reason!r}: use one of "
                             f"{', '.join(LOG_REASONS)}.")
        if self.since and self.until and self.since > self.until:
            raise AuditError("The start of the date range is after its end.")

    def query_args(self) -> dict[str, str]:
        """The filter as query-string values, for links that keep it (next page, CSV)."""
        values = {"moderator": self.moderator, "action": self.action, "reason": self.reason,
                  "article": self.article,
                  "since": self.since.isoformat() if self.since else None,
                  "until": self.until.isoformat() if self.until else None}
        return {name: value for name, value in values.items() if value}


@dataclass
class DecisionPage:
    decisions: list[Decision]
    next_before: int | None  # the `before` of the next page's link; None on the last page
    filter: DecisionFilter = field(default_factory=DecisionFilter)
    undone_by: dict[int, Decision] = field(default_factory=dict)  # decision id -> its undo

    def undo_of(self, decision: Decision) -> Decision | None:
        return self.undone_by.get(decision.id)


def _conditions(decision_filter: DecisionFilter) -> list:
    """WHERE clauses for the filter; unknown moderators and articles are errors, not empty
    pages, so a typo is not mistaken for "nobody did anything"."""
    conditions = []
    if decision_filter.moderator == AUTOMATIC:
        conditions.append(Decision.actor_id.is_(None))
    elif decision_filter.moderator:
        actor_id = db.session.execute(
            db.select(User.id).where(User.username == decision_filter.moderator)
        ).scalar_one_or_none()
        if actor_id is None:
            raise AuditError(f"There is no moderator called {decision_filter.moderator!r}. "
                             f"Use a username, or {AUTOMATIC!r} for automatic decisions.")
        conditions.append(Decision.actor_id == actor_id)
    if decision_filter.action == UNDO:
        conditions.append(Decision.reason == UNDO)
    elif decision_filter.action:
        conditions.append(Decision.to_state == ACTIONS[decision_filter.action])
        conditions.append(db.or_(Decision.reason.is_(None), Decision.reason != UNDO))
        if decision_filter.action == "removed":
            conditions.append(Decision.from_state == CommentState.APPROVED)
    if decision_filter.reason and decision_filter.reason.endswith(":"):
        conditions.append(Decision.reason.startswith(decision_filter.reason, autoescape=True))
    elif decision_filter.reason:
        conditions.append(Decision.reason == decision_filter.reason)
    if decision_filter.article:
        article_id = db.session.execute(
            db.select(Article.id).where(Article.slug == decision_filter.article)
        ).scalar_one_or_none()
        if article_id is None:
            raise AuditError(f"There is no article {decision_filter.article!r}.")
        conditions.append(Decision.comment_id.in_(
            db.select(Comment.id).where(Comment.article_id == article_id)))
    if decision_filter.since:
        conditions.append(Decision.created_at >= datetime.combine(decision_filter.since, time()))
    if decision_filter.until and decision_filter.until < date.max:
        end = datetime.combine(decision_filter.until + timedelta(days=1), time())
        conditions.append(Decision.created_at < end)
    return conditions


def page(decision_filter: DecisionFilter | None = None, *, before: int | None = None,
         limit: int = PAGE_SIZE) -> DecisionPage:
    """Newest first. `before` is the id the previous page ended at: each page is one index
    range walk on the primary key however deep it is, with its rows' people, policies,
    comments and articles joined in the same statement."""
    decision_filter = decision_filter or DecisionFilter()
    limit = max(1, limit)
    query = db.select(Decision).where(*_conditions(decision_filter))
    if decision_filter.action != UNDO:
        # An undo is shown on the row of the decision it reverted ("undone 2 min later"),
        # not as a row of its own; asking for action=undo lists them.
        query = query.where(Decision.reverts_id.is_(None))
    if before is not None:
        query = query.where(Decision.id < before)
    query = query.options(
        joinedload(Decision.actor), joinedload(Decision.policy),
        joinedload(Decision.comment).joinedload(Comment.article),
        joinedload(Decision.comment).joinedload(Comment.policy),
    ).order_by(Decision.id.desc()).limit(limit + 1)
    decisions = list(db.session.execute(query).scalars())
    more = len(decisions) > limit
    decisions = decisions[:limit]
    return DecisionPage(decisions, decisions[-1].id if more else None, decision_filter,
                        undos_of([decision.id for decision in decisions]))


def undos_of(decision_ids: list[int]) -> dict[int, Decision]:
    """The undo of each of these decisions that was undone, in one query."""
    if not decision_ids:
        return {}
    undos = db.session.execute(
        db.select(Decision).where(Decision.reverts_id.in_(decision_ids))
        .options(joinedload(Decision.actor))).scalars()
    return {undo.reverts_id: undo for undo in undos}


def later(start: datetime, end: datetime) -> str:
    """"2 min later": how long after a decision its undo came."""
    seconds = max(0, int((end - start).total_seconds()))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if unit == 'day' and count != 1 else ''} later"
    return f"{seconds} s later"


def summary(decision: Decision) -> str:
    """"approved by maria", "held by policy v1", "undo by maria": the row's headline."""
    verb = UNDO if decision.reason == UNDO else decision.to_state.value
    if verb == "rejected" and decision.from_state is CommentState.APPROVED:
        verb = "removed"
    return f"{verb} by {decision.by}"


def policy_version(decision: Decision) -> int | None:
    """The policy a decision was made under: its own for automatic ones, else the comment's."""
    policy = decision.policy or decision.comment.policy
    return policy.version if policy else None


def excerpt(text: str | None, length: int = EXCERPT_CHARS) -> str:
    """The start of a comment on one line; escaping is the template's (or the CSV's) job."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def action_of(decision: Decision) -> str:
    return UNDO if decision.reason == UNDO else decision.to_state.value


def moderator_names() -> list[str]:
    """For the filter's suggestions."""
    return list(db.session.execute(db.select(User.username).order_by(User.username)).scalars())


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will show, never evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(" ").startswith(_FORMULA_STARTS) else text


def _who(username: str | None, policy_version: int | None) -> str:
    # Decision.by for a row read as plain columns.
    if username is not None:
        return username
    if policy_version is not None:
        return f"policy v{policy_version}"
    return "system"


def export_rows(decision_filter: DecisionFilter | None = None, *,
                batch: int = EXPORT_BATCH) -> Iterator[tuple]:
    """Every matching decision, newest first, as CSV_HEADER tuples. Read in keyset batches of
    plain columns (no ORM objects piling up in the session), so memory stays flat however
    many rows there are. The filter is resolved before the first row."""
    decision_filter = decision_filter or DecisionFilter()
    conditions = _conditions(decision_filter)
    actor, undo, undo_actor = aliased(User), aliased(Decision), aliased(User)
    comment_policy = aliased(Policy)
    query = (
        db.select(
            Decision.id, Decision.created_at, actor.username, Policy.version,
            Decision.from_state, Decision.to_state, Decision.reason, Decision.note,
            Decision.comment_id, Article.slug,
            # Only what the excerpt needs crosses the wire; excerpt() flattens whitespace.
            db.func.substr(Comment.body, 1, EXCERPT_CHARS * 2),
            Comment.author_name, Comment.risk, Comment.scorer_name, Comment.scorer_version,
            comment_policy.version, undo.created_at, undo_actor.username,
        )
        .join(Comment, Comment.id == Decision.comment_id)
        .join(Article, Article.id == Comment.article_id)
        .outerjoin(actor, actor.id == Decision.actor_id)
        .outerjoin(Policy, Policy.id == Decision.policy_id)
        .outerjoin(comment_policy, comment_policy.id == Comment.policy_id)
        .outerjoin(undo, undo.reverts_id == Decision.id)
        .outerjoin(undo_actor, undo_actor.id == undo.actor_id)
        .where(*conditions)
        .order_by(Decision.id.desc())
        .limit(batch)
    )
    return _export_batches(query, batch)


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _export_batches(query, batch: int) -> Iterator[tuple]:
    before = None
    while True:
        rows = db.session.execute(
            query if before is None else query.where(Decision.id < before)).all()
        for (decision_id, created_at, username, policy_version, from_state, to_state, reason,
             note, comment_id, slug, body, author, risk, scorer_name, scorer_version,
             comment_policy_version, undone_at, undone_by) in rows:
            scorer = f"{scorer_name} {scorer_version}" if scorer_name else None
            yield (decision_id, _stamp(created_at), _who(username, policy_version),
                   from_state.value, to_state.value, reason, note, comment_id, slug,
                   excerpt(body), author, f"{risk:.3f}" if risk is not None else None, scorer,
                   policy_version or comment_policy_version, _stamp(undone_at), undone_by)
        if len(rows) < batch:
            return
        before = rows[-1][0]


def csv_lines(rows: Iterator[tuple]) -> Iterator[str]:
    """The header, then one CSV line per row, every cell made formula-safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells) -> str:
        writer.writerow([safe_cell(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(CSV_HEADER)
    for row in rows:
        yield line(row)


@dataclass
class CommentHistory:
    comment: Comment
    scores: list[Score]
    decisions: list[Decision]
    reverted_by: dict[int, int]  # decision id -> id of the undo that reverted it


def comment_history(comment_id: int) -> CommentHistory | None:
    comment = db.session.execute(
        db.select(Comment).where(Comment.id == comment_id).options(
            joinedload(Comment.article),
            joinedload(Comment.policy),
            selectinload(Comment.scores),
            selectinload(Comment.decisions).options(joinedload(Decision.actor),
                                                    joinedload(Decision.policy)),
        )
    ).scalar_one_or_none()
    if comment is None:
        return None
    reverted_by = {decision.reverts_id: decision.id for decision in comment.decisions
                   if decision.reverts_id is not None}
    return CommentHistory(comment, list(comment.scores), list(comment.decisions), reverted_by)
