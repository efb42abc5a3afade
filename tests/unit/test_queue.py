"""The queue's orders, filters and keyset pages."""

from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import CommentState, Score, utcnow
from moderation.services.queue import QueueError, QueueFilter, matching_ids, page
from tests.factories import make_article, make_comment


def scored(article, body, risk, state=CommentState.QUEUED, labels=None, **fields):
    comment = make_comment(article, body, state=state, risk=risk, scored_at=utcnow(),
                           scorer_name=fields.pop("scorer_name", "fake"), scorer_version="1",
                           **fields)
    score = Score(comment_id=comment.id, scorer_name=comment.scorer_name, scorer_version="1")
    score.set_labels(labels or {"toxicity": risk})
    db.session.add(score)
    return comment


@pytest.fixture
def mixed(ctx):
    """A queue with every kind of waiting comment, and some that are not waiting."""
    one = make_article(slug="one")
    two = make_article(slug="two")
    now = utcnow()
    made = {
        "held_high": scored(one, "held high", 0.99, CommentState.HELD),
        "held_low": scored(two, "held low", 0.92, CommentState.HELD),
        "queued_a": scored(one, "queued a", 0.70, labels={"toxicity": 0.2, "insult": 0.7}),
        "queued_b": scored(two, "queued b", 0.50, created_at=now - timedelta(days=3)),
        "queued_tie": scored(one, "queued tie", 0.50),
        "unscored": make_comment(one, "unscored one", state=CommentState.QUEUED),
        "other_model": scored(one, "other model", 0.60, scorer_name="detoxify-original"),
    }
    make_comment(one, "published", state=CommentState.APPROVED)
    make_comment(one, "pending", state=CommentState.PENDING)
    db.session.commit()
    return {name: comment.id for name, comment in made.items()}


def bodies(result):
    return [comment.body for comment in result.comments]


def test_risk_order_puts_held_first_then_riskiest_then_unscored(mixed):
    assert bodies(page()) == ["held high", "held low", "queued a", "other model", "queued tie",
                              "queued b", "unscored one"]


def test_oldest_and_newest_order_by_arrival(mixed):
    newest = bodies(page(QueueFilter(order="newest")))
    assert newest[0] == "other model" and newest[-1] == "held high"
    assert bodies(page(QueueFilter(order="oldest"))) == list(reversed(newest))


@pytest.mark.parametrize("queue_filter, expected", [
    (QueueFilter(band="held"), ["held high", "held low"]),
    (QueueFilter(band="queued"), ["queued a", "other model", "queued tie", "queued b"]),
    (QueueFilter(band="unscored"), ["unscored one"]),
    (QueueFilter(article="two"), ["held low", "queued b"]),
    (QueueFilter(label="insult", label_min=0.5), ["queued a"]),
    (QueueFilter(scorer="detoxify-original"), ["other model"]),
    (QueueFilter(text="TIE"), ["queued tie"]),
    (QueueFilter(text="100%"), []),  # % is text, not a wildcard
    (QueueFilter(since=utcnow() - timedelta(days=1), band="queued"),
     ["queued a", "other model", "queued tie"]),
    (QueueFilter(until=utcnow() - timedelta(days=2)), ["queued b"]),
    (QueueFilter(article="no-such-article"), []),
])
def test_filters(mixed, queue_filter, expected):
    assert bodies(page(queue_filter)) == expected


@pytest.mark.parametrize("order", ["risk", "oldest", "newest"])
def test_walking_the_pages_visits_every_comment_once_in_order(mixed, order):
    whole = bodies(page(QueueFilter(order=order), limit=100))
    walked, cursor = [], None
    while True:
        result = page(QueueFilter(order=order), limit=2, cursor=cursor)
        walked += bodies(result)
        cursor = result.next_cursor
        if cursor is None:
            break
    assert walked == whole and len(whole) == 7


def test_a_decided_comment_does_not_shift_the_next_page(mixed):
    first = page(limit=2)
    db.session.execute(db.update(type(first.comments[0])).where(
        type(first.comments[0]).id == mixed["queued_a"]).values(state=CommentState.APPROVED))
    db.session.commit()
    assert bodies(page(limit=2, cursor=first.next_cursor)) == ["other model", "queued tie"]


@pytest.mark.parametrize("bad", ["garbage!", "eyJpZCI6ICJ4In0", "e30"])
def test_a_broken_cursor_is_a_clear_error(mixed, bad):
    with pytest.raises(QueueError, match="page link is broken"):
        page(cursor=bad)


@pytest.mark.parametrize("kwargs, message", [
    ({"order": "random"}, "Unknown order"),
    ({"band": "spam"}, "Unknown band"),
    ({"label": "insult"}, "needs both"),
    ({"label": "rudeness", "label_min": 0.5}, "Unknown label"),
    ({"label": "insult", "label_min": 1.5}, "between 0 and 1"),
    ({"since": utcnow(), "until": utcnow() - timedelta(days=1)}, "after its end"),
])
def test_bad_filters_are_refused_with_a_reason(kwargs, message):
    with pytest.raises(QueueError, match=message):
        QueueFilter(**kwargs)


def test_matching_ids_follow_queue_order_up_to_a_limit(mixed):
    assert matching_ids(QueueFilter(band="queued"), 3) == [
        mixed["queued_a"], mixed["other_model"], mixed["queued_tie"]]


@pytest.mark.parametrize("order", ["oldest", "newest"])
def test_the_queued_band_holds_no_held_comments_in_any_order(mixed, order):
    shown = bodies(page(QueueFilter(order=order, band="queued")))
    assert sorted(shown) == ["other model", "queued a", "queued b", "queued tie"]


def test_a_cursor_from_another_order_or_with_a_huge_id_is_refused(mixed):
    import base64
    import json

    oldest_cursor = page(QueueFilter(order="oldest"), limit=2).next_cursor
    with pytest.raises(QueueError, match="page link is broken"):
        page(QueueFilter(order="risk"), cursor=oldest_cursor)
    huge = base64.urlsafe_b64encode(json.dumps({"order": "oldest", "id": 2**70}).encode())
    with pytest.raises(QueueError, match="page link is broken"):
        page(QueueFilter(order="oldest"), cursor=huge.decode())


def test_a_card_names_each_close_example_once_with_every_label_it_explains():
    from moderation.models import Score
    from moderation.services.queue import close_matches

    score = Score(toxicity=0.9, threat=0.7, insult=0.05, matches={
        "toxicity": {"text": "you will pay", "similarity": 0.61},
        "threat": {"text": "you will pay", "similarity": 0.61},
        "insult": {"text": "you clown", "similarity": 0.3},
    })

    assert close_matches(score) == [("toxicity, threat", "you will pay", 0.61)]
    assert close_matches(None) == [] and close_matches(Score(toxicity=0.9)) == []


def test_the_article_filter_offers_articles_with_waiting_or_reported_comments_only(ctx):
    from moderation.services.queue import articles_waiting

    waiting = make_article(slug="waiting", headline="B waiting")
    reported = make_article(slug="reported", headline="A reported")
    quiet = make_article(slug="quiet", headline="C quiet")
    make_comment(waiting, state=CommentState.QUEUED)
    make_comment(reported, state=CommentState.APPROVED, report_weight=2)
    make_comment(quiet, state=CommentState.APPROVED)
    make_comment(quiet, state=CommentState.REJECTED, report_weight=1)  # decided: not reported
    db.session.commit()

    assert articles_waiting() == [("reported", "A reported"), ("waiting", "B waiting")]
