"""The pipeline never loses a comment and never decides one twice."""

from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState, Decision, Role, Score, utcnow
from moderation.scoring import ScoredText, ScorerIdentity
from moderation.services import pipeline, webhooks
from moderation.services.decide import decide
from moderation.worker import Worker
from tests.factories import make_article, make_comment, make_user

IDENTITY = ScorerIdentity("fake", "1")


def reload(comment_id: int) -> Comment:
    db.session.expire_all()
    return db.session.get(Comment, comment_id)


def decisions_for(comment_id: int) -> list[Decision]:
    return list(db.session.execute(
        db.select(Decision).where(Decision.comment_id == comment_id).order_by(Decision.id)
    ).scalars())


def test_a_worker_bands_new_comments_and_records_why(ctx, scorer):
    article = make_article()
    clean = make_comment(article, "Thanks for this.")
    abusive = make_comment(article, "You idiot [toxicity=0.97]")
    middling = make_comment(article, "Hmm [insult=0.5]")
    db.session.commit()

    assert Worker(ctx).run_once() == 3

    assert reload(clean.id).state is CommentState.APPROVED
    assert reload(abusive.id).state is CommentState.HELD
    assert reload(middling.id).state is CommentState.QUEUED
    held = reload(abusive.id)
    assert held.risk == pytest.approx(0.97)
    assert held.scorer_name == "fake" and held.current_score.toxicity == pytest.approx(0.97)
    [decision] = decisions_for(abusive.id)
    assert (decision.from_state, decision.to_state) == (CommentState.PENDING, CommentState.HELD)
    assert decision.policy.version == 1 and decision.actor is None


def test_claims_are_exclusive_until_the_lease_expires(ctx):
    article = make_article()
    ids = [make_comment(article, f"comment {n}").id for n in range(5)]
    db.session.commit()

    first_token, first = pipeline.claim_batch(3, lease_seconds=60)
    db.session.commit()
    second_token, second = pipeline.claim_batch(10, lease_seconds=60)
    db.session.commit()
    assert {c.id for c in first} | {c.id for c in second} == set(ids)
    assert not {c.id for c in first} & {c.id for c in second}

    # Nothing left to claim now; after the leases run out everything comes back.
    _, nothing = pipeline.claim_batch(10, lease_seconds=60)
    assert nothing == []
    later = utcnow() + timedelta(seconds=61)
    _, again = pipeline.claim_batch(10, lease_seconds=60, now=later)
    assert sorted(c.id for c in again) == sorted(ids)


def test_a_worker_that_dies_mid_batch_loses_nothing(ctx):
    """Worker A claims and dies before storing anything; its lease expires; worker B scores
    the comments; when A comes back to life and tries to store its results, they are refused."""
    article = make_article()
    ids = [make_comment(article, f"comment {n} [toxicity=0.{n}5]").id for n in range(4)]
    db.session.commit()
    dead_token, claimed = pipeline.claim_batch(10, lease_seconds=30)
    db.session.commit()
    assert len(claimed) == 4

    later = utcnow() + timedelta(seconds=31)
    token_b, claimed_b = pipeline.claim_batch(10, lease_seconds=30, now=later)
    db.session.commit()
    assert sorted(c.id for c in claimed_b) == sorted(ids)
    results = {c.id: ScoredText({"toxicity": 0.05}) for c in claimed_b}
    outcome = pipeline.apply_scores(token_b, results, IDENTITY)
    db.session.commit()
    assert outcome.banded == 4

    zombie = pipeline.apply_scores(dead_token, {i: ScoredText({"toxicity": 0.99}) for i in ids},
                                   IDENTITY)
    db.session.commit()
    assert zombie.lost == 4 and zombie.banded == 0
    for comment_id in ids:
        assert reload(comment_id).state is CommentState.APPROVED
        assert len(decisions_for(comment_id)) == 1


def test_a_failing_scorer_leaves_comments_queued_unscored_and_retried(ctx, scorer):
    article = make_article()
    comment = make_comment(article, "anything")
    db.session.commit()
    scorer.fail_all = True

    Worker(ctx).run_once()
    failed = reload(comment.id)
    assert failed.state is CommentState.QUEUED
    assert failed.scored_at is None
    assert "fake scorer was told to fail" in failed.score_error
    assert failed.score_attempts == 1
    assert failed.next_score_at > utcnow()
    [decision] = decisions_for(comment.id)
    assert decision.reason == "unscored"

    # Not retried before its time...
    assert Worker(ctx).run_once() == 0
    # ...and after it, a working scorer bands it.
    scorer.fail_all = False
    db.session.execute(db.update(Comment).values(next_score_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert Worker(ctx).run_once() == 1
    scored = reload(comment.id)
    assert scored.state is CommentState.APPROVED and scored.score_error is None
    assert [d.to_state for d in decisions_for(comment.id)] == [
        CommentState.QUEUED, CommentState.APPROVED]


def test_backoff_doubles_up_to_a_cap():
    assert [pipeline.retry_delay(n, 10, 100) for n in range(1, 6)] == [10, 20, 40, 80, 100]


def test_a_scorer_that_hangs_times_out_and_the_comment_stays_unscored(ctx, scorer):
    ctx.config["MODERATION_SCORE_TIMEOUT_SECONDS"] = 0.3
    scorer.slow_seconds = 2
    article = make_article()
    comment = make_comment(article, "take your time [slow]")
    db.session.commit()
    Worker(ctx).run_once()
    timed_out = reload(comment.id)
    assert timed_out.state is CommentState.QUEUED
    assert "longer than 0.3 s" in timed_out.score_error


def test_a_moderator_decision_during_scoring_is_not_overwritten(ctx):
    article = make_article()
    comment = make_comment(article, "borderline [toxicity=0.99]")
    moderator = make_user("sam", Role.MODERATOR)
    db.session.commit()
    token, _ = pipeline.claim_batch(10, lease_seconds=60)
    db.session.commit()

    decide(reload(comment.id), moderator, "approve")
    db.session.commit()
    outcome = pipeline.apply_scores(token, {comment.id: ScoredText({"toxicity": 0.99})}, IDENTITY)
    db.session.commit()

    assert outcome.kept == 1
    final = reload(comment.id)
    assert final.state is CommentState.APPROVED
    assert final.risk == pytest.approx(0.99)  # the score is still kept for the record
    assert [d.to_state for d in decisions_for(comment.id)] == [CommentState.APPROVED]


def test_a_decision_between_the_workers_read_and_its_writes_is_not_overwritten(app,
                                                                              monkeypatch):
    """The worker reads and bands before its first write (a short write lock on SQLite): a
    moderator who decides in that gap, from another connection, still wins the swap."""
    from sqlalchemy import create_engine, text

    with app.app_context():
        article = make_article()
        comment_id = make_comment(article, "borderline [toxicity=0.99]").id
        db.session.commit()
        token, _ = pipeline.claim_batch(10, lease_seconds=60)
        db.session.commit()
        url = db.engine.url
    planned = pipeline._plan

    def plan_then_a_moderator_decides(*args, **kwargs):
        banding = planned(*args, **kwargs)
        other = create_engine(url)
        with other.begin() as connection:  # a moderator's request, committed in the gap
            connection.execute(text("UPDATE comments SET state = 'approved' WHERE id = :id"),
                               {"id": comment_id})
        other.dispose()
        return banding

    monkeypatch.setattr(pipeline, "_plan", plan_then_a_moderator_decides)
    with app.app_context():
        outcome = pipeline.apply_scores(token, {comment_id: ScoredText({"toxicity": 0.99})},
                                        IDENTITY)
        db.session.commit()
        assert (outcome.banded, outcome.kept, outcome.moved) == (0, 1, 0)
        final = reload(comment_id)
        assert final.state is CommentState.APPROVED
        assert final.risk == pytest.approx(0.99)
        assert decisions_for(comment_id) == []  # the worker recorded no move of its own


def test_waiting_counts(ctx):
    article = make_article()
    make_comment(article, "a")
    make_comment(article, "b", state=CommentState.HELD, scored_at=utcnow())
    make_comment(article, "c", state=CommentState.QUEUED)  # unscored after a failure
    make_comment(article, "d", state=CommentState.APPROVED, scored_at=utcnow())
    db.session.commit()
    assert pipeline.waiting_counts() == {"awaiting_score": 2, "awaiting_moderator": 2}


def _lease_ends(app) -> list:
    with app.app_context():
        return sorted(set(db.session.execute(
            db.select(Comment.claim_expires_at).where(Comment.claim_token.is_not(None))
        ).scalars()))


def test_a_live_worker_keeps_its_lease_and_a_killed_one_loses_it(app, database_url, scorer):
    """A real worker process with a 3 s lease hangs in the scorer: its heartbeat renews the
    lease, so another worker takes nothing while it lives, even long after the first lease
    would have run out. Killed with SIGKILL, its comments are claimable one lease later, and
    are banded exactly once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT

    with app.app_context():
        article = make_article()
        ids = [make_comment(article, f"comment {n} [toxicity=0.{n}5]").id for n in range(3)]
        make_comment(article, "the one that hangs [slow]")
        db.session.commit()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.worker_process", database_url, "600", "3"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        def wait_for(condition, what):
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise AssertionError(process.stdout.read().decode())
                found = condition()
                if found:
                    return found
                time.sleep(0.05)
            raise AssertionError(f"never saw {what}")

        first = wait_for(lambda: len(_lease_ends(app)) == 1 and _lease_ends(app)[0], "a claim")
        # Renewed past the first lease: the worker is alive and says so.
        wait_for(lambda: _lease_ends(app) and _lease_ends(app)[0] > first, "a renewal")
        wait_for(lambda: utcnow() > first + timedelta(seconds=1), "the first lease's end")
        assert Worker(app).run_once() == 0  # nothing to take from a live worker
        with app.app_context():
            assert db.session.execute(
                db.select(db.func.count()).select_from(Decision)).scalar() == 0
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)

    [last] = _lease_ends(app)
    while utcnow() <= last:  # the dead worker renews nothing: its lease runs out
        time.sleep(0.1)
    scorer.slow_seconds = 0
    assert Worker(app).run_once() == 4
    with app.app_context():
        for comment_id in ids:
            assert len(decisions_for(comment_id)) == 1
        assert CommentState.PENDING not in db.session.execute(
            db.select(Comment.state)).scalars().all()


def test_a_crash_while_storing_scores_rolls_back_the_whole_batch(ctx, monkeypatch):
    article = make_article()
    ids = [make_comment(article, f"comment {n}").id for n in range(3)]
    db.session.commit()
    calls = []
    real_fill = pipeline._score_values  # one comment's score row

    def store_then_crash(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_fill(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_score_values", store_then_crash)
    with pytest.raises(RuntimeError, match="disk full"):
        Worker(ctx).run_once()
    db.session.expire_all()
    assert db.session.execute(db.select(db.func.count()).select_from(Decision)).scalar() == 0
    assert all(reload(i).state is CommentState.PENDING for i in ids)
    assert all(reload(i).claim_token is not None for i in ids)  # still leased, not lost

    monkeypatch.setattr(pipeline, "_score_values", real_fill)
    later = utcnow() + timedelta(seconds=ctx.config["MODERATION_LEASE_SECONDS"] + 1)
    token, claimed = pipeline.claim_batch(10, 60, now=later)
    outcome = pipeline.apply_scores(token, {c.id: ScoredText({"toxicity": 0.01}) for c in claimed},
                                    IDENTITY)
    db.session.commit()
    assert outcome.banded == 3
    assert all(len(decisions_for(i)) == 1 for i in ids)


def test_two_workers_claiming_at_the_same_moment_get_disjoint_batches(app):
    """Worker A's claim is still uncommitted when worker B claims: on PostgreSQL B skips the
    rows A has locked (SKIP LOCKED); on SQLite B waits for A's commit, then skips them."""
    import threading
    import time

    with app.app_context():
        article = make_article()
        ids = [make_comment(article, f"comment {n}").id for n in range(6)]
        db.session.commit()
    a_claimed = threading.Event()
    results = {}

    def worker_a():
        with app.app_context():
            _, claimed = pipeline.claim_batch(3, 60)
            a_claimed.set()
            time.sleep(0.5)  # hold the transaction open while B claims
            db.session.commit()
            results["a"] = {c.id for c in claimed}

    def worker_b():
        with app.app_context():
            a_claimed.wait(10)
            _, claimed = pipeline.claim_batch(10, 60)
            db.session.commit()
            results["b"] = {c.id for c in claimed}

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results["a"]) == 3
    assert not results["a"] & results["b"]
    assert results["a"] | results["b"] == set(ids)


def test_one_text_the_scorer_chokes_on_does_not_hold_back_the_batch(ctx, scorer):
    article = make_article()
    good = [make_comment(article, f"fine {n}").id for n in range(3)]
    poison = make_comment(article, "this one breaks the model [fail]").id
    db.session.commit()

    assert Worker(ctx).run_once() == 4
    assert all(reload(i).state is CommentState.APPROVED for i in good)
    broken = reload(poison)
    assert broken.state is CommentState.QUEUED and broken.scored_at is None
    assert "told to fail" in broken.score_error and broken.score_attempts == 1
    # The whole batch first, then each comment alone.
    assert len(scorer.calls[0]) == 4 and all(len(call) == 1 for call in scorer.calls[1:])


def test_after_a_timeout_no_new_batch_queues_behind_the_stuck_call(ctx, scorer):
    import time

    ctx.config["MODERATION_SCORE_TIMEOUT_SECONDS"] = 0.2
    scorer.slow_seconds = 1.0
    article = make_article()
    make_comment(article, "slow one [slow]")
    db.session.commit()
    worker = Worker(ctx)
    assert worker.run_once() == 1  # times out; the call goes on in its thread

    waiting = make_comment(article, "next comment").id
    db.session.commit()
    assert worker.run_once() == 0  # not claimed while the stuck call runs
    assert "still busy" in worker.last_error
    assert reload(waiting).claim_token is None  # free for any other worker

    time.sleep(1.0)
    assert worker.run_once() == 1
    assert reload(waiting).state is CommentState.APPROVED


def test_loading_the_model_has_a_time_limit(ctx, scorer, monkeypatch):
    import time

    ctx.config["MODERATION_LOAD_TIMEOUT_SECONDS"] = 0.2
    monkeypatch.setattr(scorer, "load", lambda: time.sleep(1.0))
    worker = Worker(ctx)
    started = time.monotonic()
    worker.load()
    assert time.monotonic() - started < 0.9
    assert "loading the model took longer than 0.2 s" in worker.last_error


def test_a_batch_is_banded_in_a_handful_of_statements_whatever_its_size(app):
    """Set-based: the statements for 10 comments and for 60 are the same few."""
    from sqlalchemy import event

    def statements(count):
        with app.app_context():
            article = make_article()
            for n in range(count):
                make_comment(article, f"comment {n} [toxicity=0.{n % 10}5]")
            db.session.commit()
            token, claimed = pipeline.claim_batch(count, 60)
            db.session.commit()
            # Which event kinds webhooks listen for is read every few seconds, not per batch.
            app.config["MODERATION_WEBHOOKS_KINDS_SECONDS"] = 3600
            webhooks.subscribed_kinds()
            seen = []

            def counter(*args):
                seen.append(args[2])

            event.listen(db.engine, "before_cursor_execute", counter)
            try:
                outcome = pipeline.apply_scores(
                    token, {c.id: ScoredText({"toxicity": (c.id % 10) / 10 + 0.05})
                            for c in claimed}, IDENTITY)
                db.session.commit()
            finally:
                event.remove(db.engine, "before_cursor_execute", counter)
            assert outcome.banded == count
            return len(seen)

    small, large = statements(10), statements(60)  # the same mix of bands in each
    assert small == large <= 14


def test_a_result_for_claims_another_worker_took_over_is_refused_whole(ctx):
    """Worker A's lease ran out and B claimed the comments: A's late results touch nothing
    (the release that checks the claim is the first write), B's are stored once."""
    article = make_article()
    ids = [make_comment(article, f"comment {n}").id for n in range(3)]
    db.session.commit()
    token_a, _ = pipeline.claim_batch(10, 60)
    db.session.commit()
    later = utcnow() + timedelta(seconds=61)
    token_b, claimed = pipeline.claim_batch(10, 60, now=later)
    db.session.commit()
    assert len(claimed) == 3
    late = pipeline.apply_scores(token_a, {i: ScoredText({"toxicity": 0.99}) for i in ids},
                                 IDENTITY)
    db.session.commit()
    assert (late.lost, late.banded, late.kept) == (3, 0, 0)
    assert db.session.execute(db.select(db.func.count()).select_from(Score)).scalar() == 0
    fresh = pipeline.apply_scores(token_b, {i: ScoredText({"toxicity": 0.01}) for i in ids},
                                  IDENTITY)
    db.session.commit()
    assert fresh.banded == 3 and all(len(decisions_for(i)) == 1 for i in ids)
    assert all(reload(i).state is CommentState.APPROVED for i in ids)


def test_a_worker_batch_never_outgrows_one_banding_statement(ctx):
    """apply_scores binds about five values a comment in one statement: a configured batch
    beyond pipeline.MAX_BATCH would fail on every claim, so the worker caps it."""
    ctx.config["MODERATION_WORKER_BATCH"] = 100_000
    assert Worker(ctx).batch_size == pipeline.MAX_BATCH
    ctx.config["MODERATION_WORKER_BATCH"] = 0
    assert Worker(ctx).batch_size == 1
