"""Undo, bulk decisions and author holds: each audited, none able to decide twice."""

from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState, Decision, Role
from moderation.services import authors
from moderation.services.decide import DecisionError, bulk_decide, decide, undo
from moderation.services.lifecycle import StateConflict
from moderation.worker import Worker
from tests.factories import make_article, make_comment, make_user


def history(comment_id):
    return db.session.execute(db.select(Decision).where(Decision.comment_id == comment_id)
                              .order_by(Decision.id)).scalars().all()


@pytest.fixture
def people(ctx):
    return {"maria": make_user("maria"), "omar": make_user("omar"),
            "admin": make_user("ada", Role.ADMIN)}


def test_undo_returns_the_comment_to_where_it_was_and_is_audited(ctx, people):
    comment = make_comment(make_article(), "x", state=CommentState.HELD)
    decision = decide(comment, people["maria"], "reject", reason="spam")
    reverted = undo(comment, people["maria"])
    db.session.commit()
    assert db.session.get(Comment, comment.id).state is CommentState.HELD
    assert reverted.reverts_id == decision.id and reverted.reason == "undo"
    assert [(d.from_state, d.to_state) for d in history(comment.id)] == [
        (CommentState.HELD, CommentState.REJECTED), (CommentState.REJECTED, CommentState.HELD)]
    with pytest.raises(DecisionError, match="no recent moderator decision"):
        undo(comment, people["maria"])  # an undo is not itself undone


def test_only_the_decider_or_an_admin_may_undo(ctx, people):
    comment = make_comment(make_article(), "x", state=CommentState.QUEUED)
    decide(comment, people["maria"], "approve")
    with pytest.raises(DecisionError, match="Only the moderator who decided"):
        undo(comment, people["omar"])
    undo(comment, people["admin"])
    assert db.session.get(Comment, comment.id).state is CommentState.QUEUED


def test_undo_expires(ctx, people):
    comment = make_comment(make_article(), "x", state=CommentState.QUEUED)
    decision = decide(comment, people["maria"], "approve")
    decision.created_at -= timedelta(minutes=11)
    with pytest.raises(DecisionError, match="undo works for 10 minutes"):
        undo(comment, people["maria"])


def test_undo_after_someone_else_moved_the_comment_is_a_conflict(ctx, people):
    comment = make_comment(make_article(), "x", state=CommentState.QUEUED)
    decide(comment, people["maria"], "approve")
    db.session.commit()
    # Another session rejects it directly (bypassing the undo window rules).
    db.session.execute(db.update(Comment).where(Comment.id == comment.id)
                       .values(state=CommentState.REJECTED))
    with pytest.raises(StateConflict):
        undo(comment, people["maria"])


def test_bulk_decides_each_comment_once_and_reports_the_rest(ctx, people):
    article = make_article()
    open_ids = [make_comment(article, f"c{n}", state=CommentState.QUEUED).id for n in range(3)]
    taken = make_comment(article, "taken", state=CommentState.QUEUED)
    decide(taken, people["omar"], "approve")
    result = bulk_decide(open_ids + [taken.id, 999999, open_ids[0]], people["maria"],
                         "reject", reason="spam")
    db.session.commit()
    assert result.decided == open_ids
    assert "already approved by omar" in result.conflicts[taken.id]
    assert result.missing == [999999]
    for comment_id in open_ids:
        assert [d.to_state for d in history(comment_id)] == [CommentState.REJECTED]


def test_a_malformed_bulk_decision_changes_nothing(ctx, people):
    comment = make_comment(make_article(), "x", state=CommentState.QUEUED)
    with pytest.raises(DecisionError, match="Choose a reason"):
        bulk_decide([comment.id], people["maria"], "reject")
    assert history(comment.id) == []


def test_a_held_author_s_next_comments_wait_for_a_moderator_until_lifted(ctx, people):
    article = make_article()
    first = make_comment(article, "first", author_name="Kim", state=CommentState.APPROVED)
    db.session.commit()
    record = authors.hold(first, people["maria"], reason="brigading")
    clean = make_comment(article, "perfectly nice", author_name="Kim")
    other = make_comment(article, "perfectly nice too", author_name="Lee")
    db.session.commit()
    Worker(ctx).run_once()
    assert db.session.get(Comment, clean.id).state is CommentState.QUEUED
    assert db.session.get(Comment, other.id).state is CommentState.APPROVED
    with pytest.raises(authors.HoldError, match="already held"):
        authors.hold(first, people["omar"])

    lifted = authors.lift(first.author_key, people["omar"])
    later = make_comment(article, "nice again", author_name="Kim")
    db.session.commit()
    Worker(ctx).run_once()
    assert db.session.get(Comment, later.id).state is CommentState.APPROVED
    assert (record.created_by.username, lifted.lifted_by.username) == ("maria", "omar")


def test_author_history_counts_by_outcome(ctx):
    article = make_article()
    for state in (CommentState.APPROVED, CommentState.APPROVED, CommentState.REJECTED,
                  CommentState.HELD):
        make_comment(article, "x", author_name="Kim", author_email="kim@example.org",
                     state=state)
    make_comment(article, "x", author_name="Kim")  # no email: a different author
    key = authors.author_key("Kim", "KIM@example.org ", None)
    assert authors.histories({key}) == {key: {"approved": 2, "rejected": 1, "pending": 1}}


def test_recent_comments_per_author_in_one_query(ctx):
    article = make_article()
    for n in range(5):
        make_comment(article, f"kim {n}", author_name="Kim")
    make_comment(article, "lee 0", author_name="Lee")
    db.session.commit()
    kim, lee = authors.author_key("Kim", None, None), authors.author_key("Lee", None, None)
    recent = authors.recent_by_author({kim, lee}, limit=3)
    assert [c.body for c in recent[kim]] == ["kim 4", "kim 3", "kim 2"]
    assert [c.body for c in recent[lee]] == ["lee 0"]

