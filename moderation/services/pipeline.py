"""Scoring pipeline rules: claim unscored comments under a lease, store scores and band them,
or record a failure and retry later. The worker (moderation/worker.py) commits between steps."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from moderation.extensions import db
from moderation.models import SITE_LABEL, Article, Comment, CommentState, Score, utcnow
from moderation.scoring import ScoredText, ScorerIdentity
from moderation.services import authors, sanctions, words
from moderation.services import policy as policies
from moderation.services.lifecycle import StateConflict, change_state
from moderation.services.site_evidence import pack_embedding

# A comment the worker may still band: nobody has decided it yet.
BANDABLE = (CommentState.PENDING, CommentState.QUEUED)


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
    score.scored_at = now
    score.set_labels(scored.labels)
    score.windows = scored.windows
    score.top_window_start, score.top_window_end = scored.top_window or (None, None)
    score.site_model_id = site_model_id if SITE_LABEL in scored.labels else None
    score.embedding = pack_embedding(scored.embedding)
    score.matches = {label: {"text": match.text, "similarity": match.similarity}
                     for label, match in scored.matches.items()} or None
    return score


def apply_scores(
    token: str, results: dict[int, ScoredText], identity: ScorerIdentity, *,
    bandable: tuple[CommentState, ...] = BANDABLE, reason: str = "band",
    now: datetime | None = None, site_model_id: int | None = None,
) -> BatchOutcome:
    """Store each result as the comment's current score and, for comments still in a
    `bandable` state, move them to their band under the active policy. Only comments whose
    claim is still `token`'s are touched."""
    now = now or utcnow()
    outcome = BatchOutcome()
    policy = policies.active_policy()
    # Banned and suspect words override the scores; one compiled list serves the batch.
    word_lists = words.matcher()
    bodies = dict(db.session.execute(
        db.select(Comment.id, Comment.body).where(Comment.id.in_(list(results)))
    ).all()) if word_lists and results else {}
    for comment_id, scored in results.items():
        labels = scored.labels
        band, note = words.adjust_band(policies.band(labels, policy),
                                       bodies.get(comment_id, ""), using=word_lists)
        owned = _release(
            comment_id, token, scored_at=now, scorer_name=identity.name,
            scorer_version=identity.version, score_error=None, next_score_at=None,
            risk=policies.risk(labels, policy), band=band, policy_id=policy.id,
        )
        if not owned:
            outcome.lost += 1
            continue
        store_score(comment_id, identity, scored, now, site_model_id)
        comment = db.session.get(Comment, comment_id, populate_existing=True)
        target = policies.state_for(band, policy, premoderate=_must_wait(comment))
        try:
            if comment.state not in bandable:
                raise StateConflict(comment, comment.state, None)
            moved = change_state(comment, target, allowed_from=bandable, policy=policy,
                                 reason=f"{reason}:{band.value}", note=note)
        except StateConflict:
            outcome.kept += 1  # decided meanwhile (or not ours to re-band): keep that
            continue
        outcome.banded += 1
        outcome.moved += moved is not None
    db.session.flush()
    return outcome


def _must_wait(comment: Comment) -> bool:
    """Pre-moderated articles and held authors: a moderator sees every comment first."""
    article = db.session.get(Article, comment.article_id)
    if bool(article and article.premoderate) or authors.is_held(comment.author_key):
        return True
    # A sanction on the author's email or address holds them under any name.
    return sanctions.strongest(comment.author_key, comment.author_email,
                               comment.ip_hash) is not None


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
