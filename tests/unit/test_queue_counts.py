"""The queue's band counts, kept by triggers, always agree with counting the comments."""

import random
import threading

import flask_migrate
import sqlalchemy as sa

from moderation.extensions import db
from moderation.models import Comment, CommentState, Role, queue_count_changes, queue_counts
from moderation.services import queue_counts as counts
from moderation.services import reports
from moderation.services.decide import decide, undo
from moderation.services.queue import state_counts
from moderation.worker import Worker
from tests.factories import make_article, make_comment, make_user

BEFORE = "655509c5d2de"  # the revision before the counts


def agree() -> dict[str, int]:
    db.session.expire_all()
    kept, counted = counts.read(), counts.direct()
    assert kept == counted
    return kept


def change_rows() -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(queue_count_changes)
                              ).scalar_one()


def test_counts_follow_comments_through_posting_banding_deciding_and_reports(ctx):
    article = make_article()
    moderator = make_user("mod", Role.MODERATOR)
    bodies = ["Thanks.", "You idiot [toxicity=0.97]", "Hmm [insult=0.5]", "Meh [insult=0.4]"]
    comments = [make_comment(article, body) for body in bodies]
    db.session.commit()
    assert agree()["pending"] == 4

    assert Worker(ctx).run_once() == 4
    assert agree() == {"held": 1, "queued": 2, "unscored": 0, "pending": 0, "reported": 0}

    held = db.session.get(Comment, comments[1].id)
    queued = db.session.get(Comment, comments[2].id)
    decide(held, moderator, "reject", "harassment")
    decide(queued, moderator, "approve")
    db.session.commit()
    assert agree()["held"] == 0 and agree()["queued"] == 1

    undo(db.session.get(Comment, comments[1].id), moderator)
    db.session.commit()
    assert agree()["held"] == 1

    published = db.session.get(Comment, comments[0].id)
    reports.report(published, "reader-a", "spam")
    db.session.commit()
    assert agree()["reported"] == 1

    # A comment waiting without a score (the scorer failed) is "unscored", not "queued".
    db.session.execute(sa.update(Comment).where(Comment.id == comments[3].id).values(risk=None))
    db.session.commit()
    assert agree()["unscored"] == 1

    decide(db.session.get(Comment, comments[3].id), moderator, "approve")
    db.session.commit()
    assert agree()["unscored"] == 0


def test_random_set_based_changes_and_folds_keep_the_counts_exact(ctx):
    """Bulk UPDATEs and DELETEs of many rows at once (the worker's set-based banding, purges)
    change counts the same as single rows do, with folds at random moments."""
    rng = random.Random(7)
    article = make_article()
    for number in range(60):
        make_comment(article, f"comment {number}")
    db.session.commit()
    states = list(CommentState)
    for step in range(40):
        ids = rng.sample(range(1, 61), rng.randint(1, 20))
        roll = rng.random()
        if roll < 0.6:
            values = {"state": rng.choice(states)}
            if rng.random() < 0.5:
                values["risk"] = rng.choice([None, rng.random()])
            if rng.random() < 0.4:
                values["report_weight"] = rng.choice([0.0, 0.5, 2.0])
            db.session.execute(sa.update(Comment).where(Comment.id.in_(ids)).values(**values))
        elif roll < 0.7:
            db.session.execute(sa.delete(Comment).where(Comment.id == ids[0]))
        else:
            make_comment(article, f"more {step}", state=rng.choice(states),
                         risk=rng.choice([None, 0.7]))
        if rng.random() < 0.3:
            counts.fold()
        db.session.commit()
        agree()
    counts.fold()
    db.session.commit()
    assert change_rows() == 0
    agree()


def test_a_rolled_back_change_leaves_the_counts_alone(ctx):
    article = make_article()
    make_comment(article)
    db.session.commit()
    before = agree()
    make_comment(article)
    db.session.execute(sa.update(Comment).values(state=CommentState.HELD, risk=0.9))
    db.session.rollback()
    assert agree() == before


def test_the_queue_page_reads_the_kept_counts(ctx):
    article = make_article()
    make_comment(article, state=CommentState.HELD, risk=0.95)
    db.session.commit()
    # Corrupt the kept total: the queue must show what the counters say, not a recount.
    db.session.execute(sa.update(queue_counts).where(queue_counts.c.band == "held")
                       .values(total=queue_counts.c.total + 5))
    db.session.commit()
    assert state_counts()["held"] == 6

    assert counts.recount()["held"] == 1
    db.session.commit()
    assert state_counts()["held"] == 1 and change_rows() == 0


def test_the_worker_folds_changes_as_it_runs(ctx):
    article = make_article()
    for number in range(5):
        make_comment(article, f"fine {number}")
    db.session.commit()
    assert change_rows() > 0
    stop = threading.Event()
    Worker(ctx).run(stop, max_batches=1)
    assert change_rows() == 0
    assert agree()["pending"] == 0


def test_concurrent_writers_and_folds_lose_no_change(app):
    """Posts, banding and folds from several connections at once: on PostgreSQL the triggers
    append rows rather than update one counter, so nobody waits or deadlocks, and a fold takes
    only what it deletes."""
    with app.app_context():
        article_id = make_article().id
        db.session.commit()
    errors: list[BaseException] = []

    def writer(seed: int):
        rng = random.Random(seed)
        try:
            with app.app_context():
                for number in range(15):
                    comment = Comment(article_id=article_id, body=f"w{seed} {number}",
                                      author_name="Reader", author_key=f"k{seed}",
                                      public_token=f"t{seed}-{number}")
                    db.session.add(comment)
                    db.session.commit()
                    db.session.execute(sa.update(Comment).where(Comment.id == comment.id).values(
                        state=rng.choice([CommentState.HELD, CommentState.QUEUED,
                                          CommentState.APPROVED]), risk=rng.random()))
                    db.session.commit()
                    if number % 4 == 0:
                        counts.fold()
                        db.session.commit()
                db.session.remove()
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with app.app_context():
        assert agree()["pending"] == 0
        assert sum(agree()[band] for band in ("held", "queued")) > 0
        db.session.remove()


def test_the_migration_counts_comments_that_were_already_there(ctx):
    article = make_article()
    make_comment(article, state=CommentState.HELD, risk=0.9)
    make_comment(article, state=CommentState.QUEUED, risk=None)
    make_comment(article, state=CommentState.APPROVED, risk=0.1, report_weight=1.0)
    db.session.commit()
    db.session.remove()
    flask_migrate.downgrade(revision=BEFORE)
    flask_migrate.upgrade()
    db.session.remove()
    assert agree() == {"held": 1, "queued": 0, "unscored": 1, "pending": 0, "reported": 1}


def test_the_cli_checks_and_rebuilds_the_counts(ctx):
    article = make_article()
    make_comment(article, state=CommentState.HELD, risk=0.9)
    db.session.commit()
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["queue-counts", "--check"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output and "held          1" in result.output

    db.session.execute(sa.update(queue_counts).where(queue_counts.c.band == "held")
                       .values(total=queue_counts.c.total + 2))
    db.session.commit()
    result = runner.invoke(args=["queue-counts", "--check"])
    assert result.exit_code == 1
    assert "(counted: 1)" in result.output and "--recount" in result.output

    result = runner.invoke(args=["queue-counts", "--recount", "--check"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt" in result.output and "agree" in result.output
    assert "--recount" in runner.invoke(args=["queue-counts", "--help"]).output
