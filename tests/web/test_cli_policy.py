"""`flask policy`: the versions an admin saved, and re-banding a big queue from a terminal."""

from __future__ import annotations

from moderation.extensions import db
from moderation.models import Band, Comment, CommentState, Decision, Role, User
from moderation.scoring import ScoredText, ScorerIdentity
from moderation.services import pipeline, policy_versions
from moderation.services import policy as policies
from tests.factories import make_article, make_comment, make_user


def save_stricter(app) -> None:
    with app.app_context():
        admin = make_user("ada", role=Role.ADMIN)
        thresholds = policies.default_thresholds()
        thresholds["toxicity"]["reject"] = 0.8
        policy_versions.save(thresholds, "hold", note="Reject toxicity sooner", actor=admin)
        db.session.commit()


def test_show_and_versions_print_what_is_active_and_what_changed(app, runner):
    save_stricter(app)

    shown = runner.invoke(args=["policy", "show"])
    assert shown.exit_code == 0, shown.output
    assert "Policy version 2 (active), reject band: hold for review" in shown.output
    assert "toxicity          on         0.30       0.80" in shown.output
    assert "Policy version 1 (inactive)" in runner.invoke(args=["policy", "show", "1"]).output
    missing = runner.invoke(args=["policy", "show", "9"])
    assert missing.exit_code == 1 and "There is no policy version 9." in missing.output

    listed = runner.invoke(args=["policy", "versions"]).output
    assert "* v2" in listed and "ada: Reject toxicity sooner" in listed
    assert "toxicity reject at: 0.90 → 0.80" in listed
    assert "  v1" in listed


def test_reband_moves_waiting_comments_in_batches_with_a_progress_bar(app, runner):
    with app.app_context():
        article = make_article()
        ids = []
        for value in (0.85, 0.5, 0.95):
            comment = make_comment(article, f"[toxicity={value}]", state=CommentState.QUEUED)
            now = pipeline.utcnow()
            pipeline.store_score(comment.id, ScorerIdentity("fake", "1"),
                                 ScoredText(labels={"toxicity": value}), now)
            comment.scored_at, comment.scorer_name, comment.scorer_version = now, "fake", "1"
            comment.band = Band.QUEUE
            ids.append(comment.id)
        db.session.commit()
    save_stricter(app)

    result = runner.invoke(args=["policy", "reband", "--batch-size", "2"])

    assert result.exit_code == 0, result.output
    assert "Re-banding 3 waiting comments under policy v2" in result.output
    assert "2 of 3 comments changed state." in result.output
    with app.app_context():
        states = [db.session.get(Comment, comment_id).state for comment_id in ids]
        assert states == [CommentState.HELD, CommentState.QUEUED, CommentState.HELD]
        reasons = db.session.execute(
            db.select(Decision.reason).where(Decision.comment_id.in_(ids))).scalars().all()
        assert sorted(reasons) == ["reband:reject", "reband:reject"]


def test_reband_stops_when_another_admin_changes_the_policy_mid_run(app, runner, monkeypatch):
    with app.app_context():
        article = make_article()
        for value in (0.85, 0.86, 0.87):
            comment = make_comment(article, f"[toxicity={value}]", state=CommentState.QUEUED)
            now = pipeline.utcnow()
            pipeline.store_score(comment.id, ScorerIdentity("fake", "1"),
                                 ScoredText(labels={"toxicity": value}), now)
            comment.scored_at, comment.scorer_name, comment.scorer_version = now, "fake", "1"
        db.session.commit()
    save_stricter(app)
    real_batch = policy_versions.reband_batch
    batches = []

    def batch_then_reactivate_v1(*args, **kwargs):
        last = real_batch(*args, **kwargs)
        batches.append(last)
        if len(batches) == 1:  # another admin puts version 1 back after the first batch
            admin = db.session.execute(
                db.select(User).where(User.username == "ada")).scalar_one()
            policy_versions.reactivate(1, actor=admin, note="back to v1")
        return last

    monkeypatch.setattr(policy_versions, "reband_batch", batch_then_reactivate_v1)
    result = runner.invoke(args=["policy", "reband", "--batch-size", "1"])

    assert result.exit_code == 1
    assert "The active policy changed during the run (now v3); stopped after 1" in result.output
    assert len(batches) == 1
    with app.app_context():
        states = db.session.execute(
            db.select(Comment.state).order_by(Comment.id)).scalars().all()
        assert states == [CommentState.HELD, CommentState.QUEUED, CommentState.QUEUED]


def test_show_and_versions_on_odd_policies(app, runner):
    with app.app_context():
        policy = policies.active_policy()
        thresholds = dict(policy.thresholds)
        del thresholds["threat"]
        policy.thresholds = thresholds
        db.session.commit()
    shown = runner.invoke(args=["policy", "show"]).output
    assert "threat            off           —          —" in shown
    missing = runner.invoke(args=["policy", "show", "0"])
    assert missing.exit_code == 1 and "There is no policy version 0." in missing.output
