"""Scoring pipeline rules: claim unscored comments under a lease, store scores and band them,
or record a failure and retry later. The worker (moderation/worker.py) commits between steps."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from moderation.extensions import db
from moderation.models import (
    LABELS,
    SITE_LABEL,
    Article,
    Band,
    Comment,
    CommentState,
    Decision,
    Score,
    utcnow,
)
from moderation.scoring import ScoredText, ScorerIdentity
from moderation.services import authors, sanctions, webhooks, words
from moderation.services import policy as policies
from moderation.services.lifecycle import StateConflict, change_state
from moderation.services.site_evidence import pack_embedding

# A comment the worker may still band: nobody has decided it yet.
BANDABLE = (CommentState.PENDING, CommentState.QUEUED)
# apply_scores binds about five values a comment in one statement; SQLite allows 32,766.
MAX_BATCH = 5000


@dataclass(frozen=True)
class Claimed:
    id: int
    body: str


@dataclass
class BatchOutcome:
    banded: int = 0  # scored and in its band now
    moved: int = 0  # of those, how many changed state
    lost: int = 0  # our lease expired and another worker took the comment
    kept: int = 0  # already decided (or not to be re-banded): scores stored, state kept


def claimable(now: datetime):
    # Imported history is decided already; it is scored (never banded) to feed replay.
    return db.select(Comment.id).where(
        db.or_(Comment.state.in_(BANDABLE), Comment.import_id.is_not(None)),
        Comment.scored_at.is_(None),
        db.or_(Comment.next_score_at.is_(None), Comment.next_score_at <= now),
        db.or_(Comment.claim_expires_at.is_(None), Comment.claim_expires_at < now),
    )


def claim_batch(limit: int, lease_seconds: float, now: datetime | None = None):
    """Mark up to `limit` unscored comments as ours until the lease expires.

    PostgreSQL: SKIP LOCKED lets concurrent workers take disjoint rows without waiting.
    SQLite has no row locks but runs one writer at a time, so the single UPDATE is atomic.
    """
    now = now or utcnow()
    candidates = (
        claimable(now).order_by(Comment.id).limit(limit).with_for_update(skip_locked=True)
    )
    return _claim(Comment.id.in_(candidates.scalar_subquery()), lease_seconds, now)


def claim_ids(ids: list[int], lease_seconds: float, now: datetime | None = None):
    """Claim these comments (rescoring), skipping any another worker holds right now."""
    now = now or utcnow()
    free = db.or_(Comment.claim_expires_at.is_(None), Comment.claim_expires_at < now)
    return _claim(db.and_(Comment.id.in_(ids), free), lease_seconds, now)


def _claim(which, lease_seconds: float, now: datetime) -> tuple[str, list[Claimed]]:
    token = secrets.token_hex(16)
    db.session.execute(
        db.update(Comment)
        .where(which)
        .values(claim_token=token, claim_expires_at=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    rows = db.session.execute(
        db.select(Comment.id, Comment.body).where(Comment.claim_token == token).order_by(Comment.id)
    ).all()
    return token, [Claimed(id=row.id, body=row.body) for row in rows]


def renew(token: str, lease_seconds: float, now: datetime | None = None) -> int:
    """Extend our lease on the comments still claimed under `token` (the heartbeat while the
    scorer works); returns how many are still ours."""
    now = now or utcnow()
    return db.session.execute(
        db.update(Comment).where(Comment.claim_token == token)
        .values(claim_expires_at=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    ).rowcount


def release_claims(token: str) -> None:
    """Give claims back untouched (the scorer failed during a rescore)."""
    db.session.execute(
        db.update(Comment).where(Comment.claim_token == token)
        .values(claim_token=None, claim_expires_at=None)
        .execution_options(synchronize_session=False)
    )


def _release(comment_id: int, token: str, **values) -> bool:
    """Clear our claim and set `values`, only if the claim is still ours."""
    result = db.session.execute(
        db.update(Comment)
        .where(Comment.id == comment_id, Comment.claim_token == token)
        .values(claim_token=None, claim_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def store_score(comment_id: int, identity: ScorerIdentity, scored: ScoredText, now: datetime,
                site_model_id: int | None = None):
    """One row per (comment, model, version): rescoring with the same model overwrites it.
    The site model that added its label, the embedding and the closest examples go with it."""
    score = db.session.execute(
        db.select(Score).where(
            Score.comment_id == comment_id,
            Score.scorer_name == identity.name,
            Score.scorer_version == identity.version,
        )
    ).scalar_one_or_none()
    if score is None:
        score = Score(comment_id=comment_id, scorer_name=identity.name,
                      scorer_version=identity.version)
        db.session.add(score)
    _fill(score, scored, now, site_model_id)
    return score


def _fill(score: Score, scored: ScoredText, now: datetime, site_model_id: int | None) -> None:
    for name, value in _score_values(scored, now, site_model_id).items():
        setattr(score, name, value)


def _score_values(scored: ScoredText, now: datetime, site_model_id: int | None) -> dict:
    """A score row's columns for one result: its labels, windows, site model, embedding and
    the closest examples."""
    start, end = scored.top_window or (None, None)
    values = {label: scored.labels.get(label) for label in LABELS}
    values.update(
        scored_at=now, windows=scored.windows, top_window_start=start, top_window_end=end,
        site_model_id=site_model_id if SITE_LABEL in scored.labels else None,
        embedding=pack_embedding(scored.embedding),
        matches={label: {"text": match.text, "similarity": match.similarity}
                 for label, match in scored.matches.items()} or None)
    return values


def apply_scores(
    token: str, results: dict[int, ScoredText], identity: ScorerIdentity, *,
    bandable: tuple[CommentState, ...] = BANDABLE, reason: str = "band",
    now: datetime | None = None, site_model_id: int | None = None,
) -> BatchOutcome:
    """Store each result as the comment's current score and, for comments still in a
    `bandable` state, move them to their band under the active policy. Only comments whose
    claim is still `token`'s are touched.

    Set-based: a handful of statements per batch whatever its size. Everything is read and
    banded before the first write, so the writes follow one another closely (on SQLite the
    first write takes the database's one write lock, which readers' posts then wait for).
    The first write releases our claims and returns exactly the rows that were still ours
    (atomic: a worker that took an expired lease meanwhile keeps its comments); each state
    move is a compare-and-swap (`UPDATE … WHERE state = :seen RETURNING id` per (from, to)
    pair) that writes each comment's risk and band too, so a moderator's decision made since
    the read is kept, never overwritten; comments no swap wrote (decided before or
    meanwhile) get theirs in one more UPDATE; the audit rows go in one insert."""
    now = now or utcnow()
    outcome = BatchOutcome()
    if not results:
        return outcome
    policy = policies.active_policy()
    table = Comment.__table__
    rows = {row.id: row for row in db.session.execute(
        db.select(table.c.id, table.c.state, table.c.body, table.c.article_id,
                  table.c.author_key, table.c.author_email, table.c.ip_hash)
        .where(table.c.id.in_(list(results)), table.c.claim_token == token)).all()}
    banded, moves = _plan(rows, results, policy, bandable, reason) if rows else ({}, {})
    ours = set(db.session.execute(  # the first write
        db.update(table)
        .where(table.c.id.in_(list(rows)), table.c.claim_token == token)
        .values(claim_token=None, claim_expires_at=None, scored_at=now,
                scorer_name=identity.name, scorer_version=identity.version, score_error=None,
                next_score_at=None, policy_id=policy.id)
        .returning(table.c.id)).scalars()) if rows else set()
    outcome.lost = len(results) - len(ours)
    if not ours:
        return outcome
    outcome.kept += sum(1 for cid in ours if _state(rows[cid]) not in bandable)
    _store_scores({cid: results[cid] for cid in ours}, identity, now, site_model_id)
    decisions, unwritten = [], set(ours)  # rows whose risk and band are not written yet
    moved: dict[int, CommentState] = {}
    for (seen, target), items in moves.items():
        notes = {cid: (why, note) for cid, why, note in items if cid in ours}
        if not notes:
            continue
        # Staying put is checked too: a moderator may have decided it since we read it.
        # Risk and band go in the same write: one new row version per comment, not two.
        held = set(db.session.execute(
            db.update(table).where(table.c.id.in_(list(notes)), table.c.state == seen)
            .values(state=target, **_risk_and_band(table, banded, notes))
            .returning(table.c.id)).scalars())
        unwritten -= held
        outcome.banded += len(held)
        outcome.kept += len(notes) - len(held)
        if target is seen:
            continue
        moved.update(dict.fromkeys(held, target))
        outcome.moved += len(held)
        decisions += [{"comment_id": cid, "policy_id": policy.id, "from_state": seen,
                       "to_state": target, "reason": notes[cid][0], "note": notes[cid][1],
                       "created_at": now} for cid in sorted(held)]
    if unwritten:  # kept in their state (decided already, or meanwhile): the score is current
        db.session.execute(db.update(table).where(table.c.id.in_(sorted(unwritten)))
                           .values(**_risk_and_band(table, banded, unwritten)))
    if decisions:
        db.session.execute(db.insert(Decision), decisions)
    db.session.flush()
    db.session.expire_all()  # the ORM's copies of these comments are out of date now
    webhooks.emit_moves(moved, now)  # one insert for the batch's events, if anyone listens
    return outcome


def _state(row) -> CommentState:
    return row.state if isinstance(row.state, CommentState) else CommentState(row.state)


def _plan(rows: dict, results: dict[int, ScoredText], policy, bandable, reason: str):
    """Each comment's (risk, band), and the moves of the bandable ones grouped by (from, to)
    state: all reads (held authors, pre-moderated articles, word lists), no writes."""
    waits = must_wait_ids(list(rows.values()))
    word_lists = words.matcher()
    banded, moves = {}, {}
    for comment_id, row in rows.items():
        labels = results[comment_id].labels
        band, note = words.adjust_band(policies.band(labels, policy), row.body or "",
                                       using=word_lists)
        banded[comment_id] = (policies.risk(labels, policy), band)
        state = _state(row)
        if state not in bandable:
            continue
        target = policies.state_for(band, policy, premoderate=comment_id in waits)
        moves.setdefault((state, target), []).append((comment_id, f"{reason}:{band.value}",
                                                      note))
    return banded, moves


def _risk_and_band(table, banded: dict[int, tuple[float, Band]], ids) -> dict:
    """Each comment's own risk and band in one UPDATE's SET: CASE id WHEN … THEN … END."""
    ids = sorted(ids)
    return {
        "risk": db.case({cid: db.literal(banded[cid][0], table.c.risk.type) for cid in ids},
                        value=table.c.id),
        "band": db.case({cid: db.literal(banded[cid][1], table.c.band.type) for cid in ids},
                        value=table.c.id),
    }


def must_wait_ids(rows) -> set[int]:
    """Pre-moderated articles, held authors and sanctioned authors, for a whole batch in three
    queries: a moderator sees every comment of theirs first. `rows` need id, article_id,
    author_key, author_email and ip_hash (comments or result rows). The worker and re-banding
    both ask here."""
    premoderated = set(db.session.execute(
        db.select(Article.id).where(Article.id.in_({row.article_id for row in rows}),
                                    Article.premoderate.is_(True))).scalars())
    held = authors.held_keys({row.author_key for row in rows if row.author_key})
    sanctioned = sanctions.for_comments(rows)
    return {row.id for row in rows
            if row.article_id in premoderated or row.author_key in held or row.id in sanctioned}


def _store_scores(results: dict[int, ScoredText], identity: ScorerIdentity, now: datetime,
                  site_model_id: int | None) -> None:
    """One row per (comment, model, version), rescoring overwrites: existing rows read in one
    query and updated, new ones inserted by one executemany (no per-row RETURNING)."""
    existing = {score.comment_id: score for score in db.session.execute(
        db.select(Score).where(Score.comment_id.in_(list(results)),
                               Score.scorer_name == identity.name,
                               Score.scorer_version == identity.version)).scalars()}
    fresh = []
    for comment_id, scored in results.items():
        if comment_id in existing:
            _fill(existing[comment_id], scored, now, site_model_id)
        else:
            fresh.append({"comment_id": comment_id, "scorer_name": identity.name,
                          "scorer_version": identity.version,
                          **_score_values(scored, now, site_model_id)})
    db.session.flush()
    if fresh:
        db.session.execute(db.insert(Score.__table__), fresh)


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff: base, 2*base, 4*base ... capped."""
    return min(cap, base * (2 ** max(0, attempts - 1)))


def record_failure(
    token: str, comment_ids: list[int], error: str, *, base_seconds: float, max_seconds: float,
    now: datetime | None = None,
) -> int:
    """The scorer failed: the comment waits for a moderator, visibly unscored, and is retried."""
    now = now or utcnow()
    failed = 0
    for comment_id in comment_ids:
        attempts = db.session.execute(
            db.select(Comment.score_attempts).where(Comment.id == comment_id)
        ).scalar_one() + 1
        delay = retry_delay(attempts, base_seconds, max_seconds)
        owned = _release(
            comment_id, token, score_attempts=attempts, score_error=error[:2000],
            next_score_at=now + timedelta(seconds=delay),
        )
        if not owned:
            continue
        failed += 1
        comment = db.session.get(Comment, comment_id, populate_existing=True)
        if comment.state is CommentState.PENDING:
            try:
                change_state(comment, CommentState.QUEUED, allowed_from=[CommentState.PENDING],
                             reason="unscored", note=error[:500])
            except StateConflict:
                pass  # decided meanwhile: nothing left to queue
    db.session.flush()
    return failed


def waiting_counts() -> dict[str, int]:
    """How many comments wait for the scorer and how many for a moderator."""
    awaiting_score = db.session.execute(
        db.select(db.func.count()).select_from(Comment).where(
            Comment.state.in_(BANDABLE), Comment.scored_at.is_(None)
        )
    ).scalar_one()
    awaiting_moderator = db.session.execute(
        db.select(db.func.count()).select_from(Comment).where(
            Comment.state.in_((CommentState.QUEUED, CommentState.HELD))
        )
    ).scalar_one()
    return {"awaiting_score": awaiting_score, "awaiting_moderator": awaiting_moderator}
