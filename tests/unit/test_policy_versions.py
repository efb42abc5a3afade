"""Policy versions as a service: re-banding the waiting queue never overrides a person."""

from __future__ import annotations

from moderation.extensions import db
from moderation.models import Band, Comment, CommentState, Role
from moderation.scoring import ScoredText, ScorerIdentity
from moderation.services import pipeline, policy_versions
from moderation.services import policy as policies
from moderation.services.lifecycle import change_state as real_change_state
from tests.factories import make_article, make_comment, make_user


def waiting_comment(toxicity: float) -> Comment:
    comment = make_comment(make_article(), "words", state=CommentState.QUEUED)
    now = pipeline.utcnow()
    pipeline.store_score(comment.id, ScorerIdentity("fake", "1"),
                         ScoredText(labels={"toxicity": toxicity}), now)
    comment.scored_at, comment.scorer_name, comment.scorer_version = now, "fake", "1"
    comment.band, comment.risk = Band.QUEUE, toxicity
    db.session.flush()
    return comment


def stricter_policy(admin):
    thresholds = policies.default_thresholds()
    thresholds["toxicity"]["reject"] = 0.8
    return policy_versions.save(thresholds, "hold", note="stricter", actor=admin)


def test_re_banding_moves_waiting_comments_with_one_decision_each(ctx):
    admin = make_user("ada", role=Role.ADMIN)
    moving, staying = waiting_comment(0.85), waiting_comment(0.5)
    policy = stricter_policy(admin)

    outcome = policy_versions.reband_waiting(policy)

    assert (outcome.considered, outcome.moved, outcome.conflicts) == (2, 1, 0)
    db.session.expire_all()
    assert moving.state is CommentState.HELD and moving.policy_id == policy.id
    assert [d.reason for d in moving.decisions] == ["reband:reject"]
    assert staying.state is CommentState.QUEUED and staying.decisions == []
    assert staying.policy_id == policy.id  # re-banded in place: same band, new version


def test_a_comment_decided_during_re_banding_keeps_its_state_and_band(ctx, monkeypatch):
    admin = make_user("ada", role=Role.ADMIN)
    comment = waiting_comment(0.85)
    policy = stricter_policy(admin)
    db.session.commit()

    def moderator_first(target, *args, **kwargs):
        # A moderator approves it after re-banding read it as queued.
        db.session.execute(db.update(Comment).where(Comment.id == target.id)
                           .values(state=CommentState.APPROVED, verdict="approved")
                           .execution_options(synchronize_session=False))
        return real_change_state(target, *args, **kwargs)

    monkeypatch.setattr(policy_versions, "change_state", moderator_first)
    outcome = policy_versions.reband_waiting(policy)

    assert (outcome.moved, outcome.conflicts) == (0, 1)
    db.session.expire_all()
    assert comment.state is CommentState.APPROVED
    assert comment.band is Band.QUEUE and comment.policy_id is None


def test_re_banding_keeps_a_sanctioned_author_s_comment_for_a_moderator(ctx):
    """The same "who must wait" as the worker: an author held by email (under any name)
    is not approved by a more lenient policy."""
    from moderation.services import sanctions

    admin = make_user("ada", role=Role.ADMIN)
    held, free = waiting_comment(0.3), waiting_comment(0.3)
    held.author_email = "troll@example.org"
    db.session.flush()
    sanctions.create(held, admin, "hold", ["email"])
    thresholds = policies.default_thresholds()
    thresholds["toxicity"]["approve"] = 0.5  # 0.3 is in the approve band now
    lenient = policy_versions.save(thresholds, "hold", note="lenient", actor=admin)

    policy_versions.reband_waiting(lenient)

    db.session.expire_all()
    assert free.state is CommentState.APPROVED
    assert held.state is CommentState.QUEUED
