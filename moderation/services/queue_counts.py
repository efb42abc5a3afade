"""How many comments wait in each band, without counting them on every queue view.

Database triggers on `comments` append every move into or out of a band to
`queue_count_changes` (migration a4c6e8f0b2d1). A band's count is its folded total plus the
changes not yet folded, so a read costs a few rows however large the table grows. The worker
folds the changes now and then; `recount` rebuilds everything from the comments themselves."""

from __future__ import annotations

import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentState, queue_count_changes, queue_counts

BANDS = ("held", "queued", "unscored", "pending", "reported")
WAITING = (CommentState.HELD, CommentState.QUEUED)
REPORTED_STATES = (CommentState.APPROVED, CommentState.HELD, CommentState.QUEUED)
_FOLD_LOCK = 0x71756575  # PostgreSQL advisory lock: one folder at a time ("queu")


def read() -> dict[str, int]:
    """{band: count} for held, queued, unscored, pending and reported."""
    moves = sa.union_all(
        sa.select(queue_counts.c.band, queue_counts.c.total.label("amount")),
        sa.select(queue_count_changes.c.band, queue_count_changes.c.delta.label("amount")),
    ).subquery()
    rows = db.session.execute(
        sa.select(moves.c.band, sa.func.sum(moves.c.amount)).group_by(moves.c.band)).all()
    counts = dict.fromkeys(BANDS, 0)
    counts.update({band: int(total or 0) for band, total in rows if band in counts})
    return counts


def fold() -> int:
    """Fold the pending changes into the totals; returns how many change rows it folded.

    Only the rows this statement deletes are added, so a change committed meanwhile waits for
    the next fold instead of being lost or counted twice. The caller commits."""
    if db.session.get_bind().dialect.name == "postgresql":
        got = db.session.execute(sa.select(sa.func.pg_try_advisory_xact_lock(_FOLD_LOCK)))
        if not got.scalar_one():
            return 0
    taken = db.session.execute(
        sa.delete(queue_count_changes).returning(queue_count_changes.c.band,
                                                 queue_count_changes.c.delta)).all()
    sums: dict[str, int] = {}
    for band, delta in taken:
        sums[band] = sums.get(band, 0) + delta
    for band, delta in sorted(sums.items()):
        if delta:
            _add(band, delta)
    return len(taken)


def _add(band: str, delta: int) -> None:
    changed = db.session.execute(
        sa.update(queue_counts).where(queue_counts.c.band == band)
        .values(total=queue_counts.c.total + delta)).rowcount
    if not changed:
        db.session.execute(sa.insert(queue_counts).values(band=band, total=delta))


def recount() -> dict[str, int]:
    """Rebuild the totals from the comments (a repair; the triggers keep them right). Returns
    the counts. The caller commits."""
    if db.session.get_bind().dialect.name == "postgresql":
        # No comment may change band between the count and the reset.
        db.session.execute(sa.text("LOCK TABLE comments IN SHARE MODE"))
    # Writes first: on SQLite they take the database's write lock before anything is counted.
    db.session.execute(sa.delete(queue_count_changes))
    db.session.execute(sa.delete(queue_counts))
    counts = direct()
    db.session.execute(sa.insert(queue_counts),
                       [{"band": band, "total": total} for band, total in counts.items()])
    return counts


def direct() -> dict[str, int]:
    """The counts by counting the comments themselves (what `read` must always agree with)."""
    rows = db.session.execute(
        sa.select(Comment.state, Comment.risk.is_(None), sa.func.count())
        .where(Comment.state.in_((CommentState.PENDING, *WAITING)))
        .group_by(Comment.state, Comment.risk.is_(None))).all()
    counts = dict.fromkeys(BANDS, 0)
    for state, unscored, count in rows:
        if state is CommentState.PENDING:
            counts["pending"] += count
        elif unscored:
            counts["unscored"] += count
        else:
            counts[state.value] += count
    counts["reported"] = db.session.execute(
        sa.select(sa.func.count()).select_from(Comment)
        .where(Comment.report_weight > 0, Comment.state.in_(REPORTED_STATES))).scalar_one()
    return counts
