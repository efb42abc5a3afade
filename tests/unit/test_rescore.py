"""Rescoring never strands a comment and never fights a worker over one."""

from moderation.extensions import db
from moderation.models import Comment, CommentState, Decision
from moderation.rescoring import rescore
from moderation.services import pipeline
from moderation.worker import Worker
from tests.factories import make_article, make_comment


def decisions(comment_id):
    return db.session.execute(db.select(Decision).where(Decision.comment_id == comment_id)
                              .order_by(Decision.id)).scalars().all()


def test_without_rebanding_a_never_banded_comment_is_still_banded(ctx, scorer):
    article = make_article()
    pending = make_comment(article, "new [toxicity=0.95]").id
    queued = make_comment(article, "now clean", state=CommentState.QUEUED).id
    db.session.commit()
    outcome = rescore([pending, queued], scorer, batch_size=10, reband=False, lease_seconds=60)
    assert outcome.scored == 2 and outcome.moved == 1
    db.session.expire_all()
    assert db.session.get(Comment, pending).state is CommentState.HELD
    assert db.session.get(Comment, queued).state is CommentState.QUEUED  # kept: no reband
    assert db.session.get(Comment, queued).risk == 0.01  # but its score is current


def test_rescore_skips_comments_a_worker_holds_and_the_worker_finishes_them(ctx, scorer):
    article = make_article()
    ids = [make_comment(article, f"c{n} [toxicity=0.5]").id for n in range(3)]
    db.session.commit()
    token, claimed = pipeline.claim_batch(2, lease_seconds=60)  # a worker, mid-batch
    db.session.commit()
    held_by_worker = {item.id for item in claimed}

    outcome = rescore(ids, scorer, batch_size=10, reband=True, lease_seconds=60)
    assert outcome.skipped == 2 and outcome.scored == 1

    from moderation.scoring import ScoredText, ScorerIdentity

    worker_outcome = pipeline.apply_scores(
        token, {i: ScoredText({"toxicity": 0.5}) for i in held_by_worker},
        ScorerIdentity("fake", "1"))
    db.session.commit()
    assert worker_outcome.banded == 2 and worker_outcome.lost == 0
    for comment_id in ids:
        assert [d.to_state for d in decisions(comment_id)] == [CommentState.QUEUED]


def test_a_worker_cannot_band_what_a_rescore_holds(ctx, scorer):
    article = make_article()
    comment_id = make_comment(article, "x [toxicity=0.5]").id
    db.session.commit()
    token, claimed = pipeline.claim_ids([comment_id], lease_seconds=60)  # the rescore, mid-way
    db.session.commit()
    assert Worker(ctx).run_once() == 0
    assert [c.id for c in claimed] == [comment_id]


def test_a_scorer_failure_during_rescore_gives_the_claims_back(ctx, scorer):
    import pytest

    article = make_article()
    comment_id = make_comment(article, "boom [fail]").id
    db.session.commit()
    with pytest.raises(Exception, match="told to fail"):
        rescore([comment_id], scorer, batch_size=10, reband=True, lease_seconds=60)
    db.session.expire_all()
    assert db.session.get(Comment, comment_id).claim_token is None
