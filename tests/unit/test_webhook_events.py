"""Events are written to the outbox in the change's own transaction, for kinds some active
endpoint subscribes to: a reader's post, the worker's banding (one insert per batch) and
moderators' decisions, take-downs included."""

from __future__ import annotations

import pytest
from sqlalchemy import event as sa_event

from moderation.extensions import db
from moderation.models import CommentState, OutboxEvent
from moderation.services import submit, webhooks
from moderation.services.decide import decide, undo
from moderation.worker import Worker
from tests.factories import make_article, make_comment, make_user

ALL = list(webhooks.KINDS)


@pytest.fixture
def app_config():
    return {"MODERATION_WEBHOOKS_ALLOW_PRIVATE": True}


def subscribe(kinds=ALL, active=True):
    webhooks.create(None, url="http://127.0.0.1:9/hook", description=None, kinds=kinds,
                    active=active)
    db.session.commit()


def outbox() -> list[tuple[str, int]]:
    return [(row.kind, row.payload["id"]) for row in db.session.execute(
        db.select(OutboxEvent).order_by(OutboxEvent.id)).scalars()]


def test_a_reader_s_post_writes_comment_created_without_email_or_address(ctx):
    subscribe(["comment.created"])
    article = make_article()
    db.session.commit()
    posted = submit.submit_comment(article, author_name="Sam", author_email="sam@example.org",
                                   body="First!", ip_hash="hash-of-address")
    db.session.commit()

    [created] = db.session.execute(db.select(OutboxEvent)).scalars().all()
    assert created.kind == "comment.created"
    data = created.payload
    assert (data["id"], data["state"], data["body"], data["author_name"]) == \
        (posted.id, "pending", "First!", "Sam")
    assert data["article"]["id"] == article.id and data["created_at"].endswith("Z")
    assert "sam@example.org" not in str(data) and "hash-of-address" not in str(data)


def test_nothing_is_written_when_nobody_subscribes(ctx, scorer):
    subscribe(["article.created"])
    subscribe(ALL, active=False)
    article = make_article()
    db.session.commit()
    submit.submit_comment(article, author_name="Sam", author_email=None, body="Hi [toxicity=0.97]",
                          ip_hash=None)
    db.session.commit()
    Worker(ctx).run_once()
    assert outbox() == []


def test_the_worker_writes_a_batch_s_events_in_one_insert(ctx, scorer):
    subscribe(["comment.published", "comment.held", "comment.rejected"])
    article = make_article()
    clean = [make_comment(article, f"Thanks {n}.").id for n in range(5)]
    abusive = make_comment(article, "You idiot [toxicity=0.97]").id
    middling = make_comment(article, "Hmm [insult=0.5]").id  # queued: no event for that
    db.session.commit()
    inserts = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX_EVENTS"):
            inserts.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert Worker(ctx).run_once() == 7
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)

    assert len(inserts) == 1
    assert outbox() == [("comment.published", cid) for cid in clean] + \
        [("comment.held", abusive)]
    assert middling not in {cid for _, cid in outbox()}


def test_moderators_decisions_write_published_rejected_and_removed(ctx):
    subscribe()
    moderator = make_user("maria")
    article = make_article()
    kept = make_comment(article, "Fine.", state=CommentState.QUEUED)
    dropped = make_comment(article, "Nope.", state=CommentState.HELD)
    db.session.commit()

    decide(kept, moderator, "approve")
    decide(dropped, moderator, "reject", reason="spam")
    db.session.commit()
    decide(kept, moderator, "remove", reason="harassment")
    db.session.commit()
    undo(kept, moderator)
    db.session.commit()

    assert outbox() == [("comment.published", kept.id), ("comment.rejected", dropped.id),
                        ("comment.removed", kept.id), ("comment.published", kept.id)]
    removed = db.session.execute(db.select(OutboxEvent).where(
        OutboxEvent.kind == "comment.removed")).scalar_one()
    assert removed.payload["state"] == "rejected"


def test_a_decision_rolled_back_leaves_no_event(ctx):
    subscribe()
    moderator = make_user("maria")
    comment = make_comment(make_article(), "Fine.", state=CommentState.QUEUED)
    db.session.commit()
    decide(comment, moderator, "approve")
    db.session.rollback()
    assert outbox() == []
