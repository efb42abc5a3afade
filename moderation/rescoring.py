"""Score existing comments again, e.g. after changing the model, so models can be compared.

Each batch is claimed like the worker claims (comments a worker holds right now are skipped,
not fought over), scored outside any transaction, then stored and committed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from moderation.extensions import db
from moderation.models import OPEN_STATES, CommentState
from moderation.scoring import Scorer
from moderation.services import examples, pipeline, site_models
from moderation.worker import LeaseKeeper


@dataclass
class RescoreOutcome:
    scored: int = 0
    moved: int = 0  # comments nobody had decided that changed band
    skipped: int = 0  # held by a worker at that moment


def rescore(ids: list[int], scorer: Scorer, *, batch_size: int, reband: bool,
            lease_seconds: float, on_batch: Callable[[int], None] | None = None
            ) -> RescoreOutcome:
    """Scores become current for every comment; states change only for comments nobody has
    decided (all open ones with `reband`, else only those never banded)."""
    bandable = OPEN_STATES if reband else (CommentState.PENDING,)
    total = RescoreOutcome()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        examples.sync(scorer)  # before claiming: the lease covers scoring, not this
        db.session.commit()
        token, claimed = pipeline.claim_ids(chunk, lease_seconds)
        db.session.commit()
        total.skipped += len(chunk) - len(claimed)
        if claimed:
            with LeaseKeeper(current_app._get_current_object(), token, lease_seconds):
                try:
                    results = scorer.score([item.body for item in claimed])
                except Exception:
                    pipeline.release_claims(token)
                    db.session.commit()
                    raise
                results, site_model_id = site_models.finish(results, scorer.identity)
                outcome = pipeline.apply_scores(
                    token, dict(zip((item.id for item in claimed), results, strict=True)),
                    scorer.identity, bandable=bandable, reason="rescore",
                    site_model_id=site_model_id,
                )
                db.session.commit()
            total.scored += outcome.banded + outcome.kept
            total.moved += outcome.moved
        if on_batch:
            on_batch(len(chunk))
    return total
