"""`flask policy`: the versions an admin saved, and re-banding a big queue from a terminal."""

from __future__ import annotations

from moderation.extensions import db
from moderation.models import Band, Comment, CommentState, Decision, Role
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
