"""A reader on an article page: reads, posts, and gets an honest answer. Bad input never 500s."""

import re

import pytest

from moderation.extensions import db
from moderation.models import Comment, CommentState, utcnow
from moderation.worker import Worker
from tests.factories import make_article, make_comment


@pytest.fixture
def article(app):
    with app.app_context():
        story = make_article(slug="flood-barrier", headline="Council approves a flood barrier",
                             section="Local", byline="By Mara L.", tags=["Flooding", "Council"],
                             source_url="https://example.org/minutes", source_name="Minutes")
        make_comment(story, "An early published remark", state=CommentState.APPROVED)
        make_comment(story, "A held remark that must not show", state=CommentState.HELD)
        db.session.commit()
    return "flood-barrier"


def post(client, slug, **fields):
    data = {"author_name": "Jo Reader", "author_email": "", "body": "Well reported, thanks."}
    data.update(fields)
    return client.post(f"/articles/{slug}/comments", data=data)


def comments(app):
    with app.app_context():
        return list(db.session.execute(db.select(Comment).order_by(Comment.id)).scalars())


def test_the_article_page_looks_like_a_news_page(client, article):
    page = client.get(f"/articles/{article}").get_data(as_text=True)
    for part in ("Local", "Council approves a flood barrier", "By Mara L.", "Flooding",
                 "https://example.org/minutes", "1 Comment", "An early published remark",
                 "Post Comment"):
        assert part in page
    assert "A held remark that must not show" not in page


def test_the_index_lists_articles_with_published_counts(client, article):
    page = client.get("/").get_data(as_text=True)
    assert "Council approves a flood barrier" in page
    assert "1 Comment" in page


def test_an_empty_article_says_0_comments(app, client):
    with app.app_context():
        make_article(slug="quiet")
        db.session.commit()
    assert "0 Comments" in client.get("/articles/quiet").get_data(as_text=True)


def test_a_clean_comment_is_stored_then_published_by_the_worker(app, client, article):
    response = post(client, article, body="Thanks, this was clear and useful.")
    assert response.status_code == 303
    status_url = response.headers["Location"]
    assert re.fullmatch(r"/comments/[A-Za-z0-9_-]{32}", status_url)

    # Stored before anything scored it, and the status page says so honestly.
    stored = comments(app)[-1]
    assert stored.state is CommentState.PENDING and stored.scored_at is None
    waiting = client.get(status_url).get_data(as_text=True)
    assert "being checked" in waiting
    # An explicit address, so a #fragment left from the form post cannot swallow the refresh.
    assert f'http-equiv="refresh" content="2; url={status_url}"' in waiting

    Worker(app).run_once()
    published = client.get(status_url).get_data(as_text=True)
    assert "Your comment is published" in published and "refresh" not in published
    assert "Thanks, this was clear and useful." in client.get(f"/articles/{article}").get_data(
        as_text=True)


def test_an_abusive_comment_is_held_for_review(app, client, article):
    status_url = post(client, article, body="You are scum [toxicity=0.98]").headers["Location"]
    Worker(app).run_once()
    assert "held for review" in client.get(status_url).get_data(as_text=True)
    assert "You are scum" not in client.get(f"/articles/{article}").get_data(as_text=True)


@pytest.mark.parametrize("fields, message", [
    ({"body": ""}, "Please write a comment before posting."),
    ({"body": "   \n  "}, "Please write a comment before posting."),
    ({"author_name": ""}, "Please give a name"),
    ({"author_name": "x" * 81}, "at most 80 characters; yours has 81"),
    ({"body": "y" * 5001}, "at most 5,000 characters; yours has 5,001"),
    ({"author_email": "not-an-email"}, "does not look like an email address"),
    ({"body": "hello\x00\x01binary"}, "characters that are not text"),
    ({"website": "http://spam.example"}, "could not be accepted"),
])
def test_bad_fields_re_render_the_form_with_a_400(app, client, article, fields, message):
    response = post(client, article, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert len(comments(app)) == 2  # nothing stored


def test_exactly_5000_characters_after_trimming_is_accepted(app, client, article):
    assert post(client, article, body="  " + "z" * 5000 + "  ").status_code == 303
    assert len(comments(app)[-1].body) == 5000


@pytest.mark.parametrize("raw", [
    b"author_name=Jo&body=\xff\xfe\x00\x9c junk",  # raw bytes that are not UTF-8
    b"author_name=Jo&body=%ff%fe%00%9c+junk",  # the same, percent-encoded
])
def test_undecodable_bytes_are_refused_as_binary(app, client, article, raw):
    response = client.post(f"/articles/{article}/comments", data=raw,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not text" in response.get_data(as_text=True)
    assert len(comments(app)) == 2


def test_an_oversized_body_gets_413(client, article):
    response = post(client, article, body="a" * 70_000)
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_posting_to_an_unknown_article_is_404(client, article):
    response = post(client, "no-such-story")
    assert response.status_code == 404
    assert "no article at this address" in response.get_data(as_text=True)


def test_posting_to_a_closed_article_is_403(app, client):
    with app.app_context():
        make_article(slug="closed", headline="Closed story", comments_open=False)
        db.session.commit()
    response = post(client, "closed")
    assert response.status_code == 403
    assert "closed" in response.get_data(as_text=True)
    assert "Comments on this article are closed" in client.get("/articles/closed").get_data(
        as_text=True)
    assert comments(app) == []


def test_a_site_that_requires_sign_in_cannot_be_bypassed_through_the_article_form(app, client):
    """The embed refuses anonymous readers of such a site; the plain article page must too."""
    from moderation.services import sites

    with app.app_context():
        members = sites.save(None, None, name="Members Gazette",
                             origins=["https://gazette.example"], allow_anonymous=False,
                             auto_register=False)
        open_site = sites.save(None, None, name="Open Courier",
                               origins=["https://courier.example"], allow_anonymous=True,
                               auto_register=False)
        make_article(slug="members-only", site_id=members.id)
        make_article(slug="open-to-all", site_id=open_site.id)
        db.session.commit()
    refused = post(client, "members-only")
    assert refused.status_code == 403
    assert "signed in on Members Gazette" in refused.get_data(as_text=True)
    assert "Nothing was saved" in refused.get_data(as_text=True)
    page = client.get("/articles/members-only").get_data(as_text=True)
    assert "signed in on Members Gazette" in page and 'id="post-comment"' not in page
    assert comments(app) == []
    assert post(client, "open-to-all").status_code == 303
    assert 'id="post-comment"' in client.get("/articles/open-to-all").get_data(as_text=True)


def test_script_in_a_comment_is_shown_as_text(app, client, article):
    status_url = post(client, article, body="<script>alert('x')</script> nice").headers["Location"]
    Worker(app).run_once()
    page = client.get(f"/articles/{article}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; nice" in page
    assert "&lt;script&gt;" in client.get(status_url).get_data(as_text=True)


def test_an_unknown_status_token_is_404(client, article):
    assert client.get("/comments/not-a-real-token").status_code == 404


def test_the_email_is_never_shown_to_readers(app, client, article):
    status_url = post(client, article, author_email="jo@example.org").headers["Location"]
    Worker(app).run_once()
    assert comments(app)[-1].author_email == "jo@example.org"
    assert "jo@example.org" not in client.get(f"/articles/{article}").get_data(as_text=True)
    assert "jo@example.org" not in client.get(status_url).get_data(as_text=True)


def test_the_client_ip_is_stored_only_as_a_keyed_hash(app, client, article):
    client.post(f"/articles/{article}/comments", environ_base={"REMOTE_ADDR": "203.0.113.9"},
                data={"author_name": "Jo", "body": "hello"})
    stored = comments(app)[-1]
    assert stored.ip_hash and len(stored.ip_hash) == 64
    assert "203.0.113.9" not in stored.ip_hash


def test_a_replayed_post_does_not_make_a_second_comment(app, client, article):
    first = post(client, article, body="Posting this once.")
    second = post(client, article, body="Posting this once.")
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert [c.body for c in comments(app)].count("Posting this once.") == 1
    # The same words from someone else are their own comment.
    post(client, article, author_name="Someone Else", body="Posting this once.")
    assert [c.body for c in comments(app)].count("Posting this once.") == 2


def test_moderators_see_the_email_readers_do_not(app, client, article, moderator):
    from tests.conftest import login
    from tests.factories import PASSWORD

    post(client, article, author_email="jo@example.org", body="Borderline [insult=0.5]")
    Worker(app).run_once()
    assert "jo@example.org" not in client.get(f"/articles/{article}").get_data(as_text=True)
    login(client, "maria", PASSWORD)
    assert "jo@example.org" in client.get("/queue/").get_data(as_text=True)


def test_a_busy_article_shows_its_comments_newest_first_a_page_at_a_time(app, client):
    import re
    from datetime import timedelta

    from moderation.models import utcnow

    with app.app_context():
        article = make_article(slug="busy")
        start = utcnow() - timedelta(days=1)
        for n in range(120):
            make_comment(article, f"comment number {n}", state=CommentState.APPROVED,
                         created_at=start + timedelta(minutes=n))
        db.session.commit()

    seen, url, pages = [], "/articles/busy", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        assert "120 Comments" in html
        seen += [int(n) for n in re.findall(r"comment number (\d+)", html)]
        found = re.search(r'href="(/articles/busy\?before=\d+)#comments">Older comments', html)
        url = found.group(1) if found else None
        pages += 1
    assert pages == 3
    assert seen == list(range(119, -1, -1))  # newest first, each once


@pytest.mark.parametrize("before", ["abc", "-5", "99999999999999999999", "0"])
def test_a_broken_older_comments_link_shows_the_first_page(app, client, before):
    with app.app_context():
        article = make_article(slug="short")
        make_comment(article, "the only comment", state=CommentState.APPROVED)
        db.session.commit()
    response = client.get(f"/articles/short?before={before}")
    assert response.status_code == 200
    assert "the only comment" in response.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_replay_check_is_one_indexed_lookup_not_a_scan_of_the_address(app, client,
                                                                         article):
    """Behind a proxy every post shares one address: the check must not read its history."""
    from moderation.models import Article
    from moderation.services import submit

    with app.app_context():
        story = db.session.execute(db.select(Article).where(Article.slug == article)
                                   ).scalar_one()
        digest = submit.post_digest(story, "Jo", "hello", "same-address")
        # The statement every post runs: its replay check (NOT EXISTS) must use the index.
        values = {"post_digest": digest, "article_id": story.id, "author_key": "k",
                  "author_name": "Jo", "author_email": None, "body": "hello",
                  "ip_hash": "same-address", "public_token": "t",
                  "state": CommentState.PENDING, "created_at": utcnow(), "reader_id": None,
                  "open_article_id": story.id, "replay_digest": digest,
                  "replay_since": utcnow(), "refuse_now": utcnow(), "refuse_name_key": "k",
                  "refuse_email_hash": None, "refuse_ip_hash": "same-address"}
        compiled = submit._INSERT_CHECKED.compile(db.engine)
        parameters = compiled.construct_params(values)
        ordered = [parameters[name] for name in compiled.positiontup]
        cursor = db.session.connection().connection.driver_connection.cursor()
        plan = " | ".join(str(row[-1]) for row in cursor.execute(
            f"EXPLAIN QUERY PLAN {compiled.string}",
            [value.value if hasattr(value, "value") else value for value in ordered]))
    assert "SEARCH comments USING INDEX ix_comments_post_digest_created" in plan, plan
    assert "SCAN comments" not in plan, plan


def test_a_post_repeated_after_the_replay_window_is_a_new_comment(app, client, article):
    from datetime import timedelta

    from moderation.services.submit import REPLAY_WINDOW

    post(client, article, body="Worth saying twice.")
    with app.app_context():
        db.session.execute(db.update(Comment).values(
            created_at=utcnow() - REPLAY_WINDOW - timedelta(seconds=1)))
        db.session.commit()
    post(client, article, body="Worth saying twice.")
    assert [c.body for c in comments(app)].count("Worth saying twice.") == 2


def test_without_an_address_two_readers_with_the_same_words_are_two_comments(app, article):
    """No address (a unix-socket server): the replay check cannot tell readers apart, so it
    stands aside rather than merge them."""
    from moderation.models import Article
    from moderation.services import submit

    with app.app_context():
        story = db.session.execute(db.select(Article).where(Article.slug == article)
                                   ).scalar_one()
        first = submit.submit_comment(story, author_name="Sam", author_email=None,
                                      body="Agreed.", ip_hash=None)
        second = submit.submit_comment(story, author_name="Sam", author_email=None,
                                       body="Agreed.", ip_hash=None)
        db.session.commit()
        assert first.id != second.id


@pytest.mark.parametrize("subscribed", [False, True], ids=["no webhook", "webhook"])
def test_a_post_costs_two_statements_whatever_the_history(app, client, article, subscribed,
                                                          monkeypatch):
    """The rate-limit hit and the insert, which stores the comment only while the article is
    open, no ban or suspension matches and the same post was not just made: no reload, no
    lookups beyond those, on both databases (every engine is listened to). The article itself
    was read by the first post and is kept for ARTICLE_SECONDS. Webhooks add nothing unless
    an endpoint listens for comment.created (the process knows from its cached list of
    subscribed kinds); then one more: the outbox event, in the same transaction."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from moderation import ratelimit_store
    from moderation.services import submit, webhooks

    app.config["MODERATION_WEBHOOKS_KINDS_SECONDS"] = 3600  # no refresh between the two posts
    monkeypatch.setattr(submit, "ARTICLE_SECONDS", 3600.0)  # nor of the article
    # One post in a hundred also sweeps long-ended rate-limit windows (a DELETE): not this one.
    monkeypatch.setattr(ratelimit_store, "SWEEP_CHANCE", 0.0)
    if subscribed:
        with app.app_context():
            webhooks.create(None, url="https://93.184.216.34/hooks", description=None,
                            kinds=["comment.created"])
            db.session.commit()
    assert post(client, article, body="warm up the connections").status_code == 303
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT",
                                                      "RELEASE", "PRAGMA", "SELECT 1")):
            statements.append(" ".join(statement.split()[:3]).upper())

    event.listen(Engine, "before_cursor_execute", record)
    try:
        response = post(client, article, body="A second, different remark.")
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert response.status_code == 303
    expected = ["INSERT", "INSERT"] + (["INSERT"] if subscribed
                                                                     else [])
    assert sorted(statement.split()[0] for statement in statements) == sorted(expected), \
        statements
    assert any("OUTBOX_EVENTS" in statement for statement in statements) is subscribed
    assert len(comments(app)) == 4


def test_every_page_has_a_favicon(client, article):
    page = client.get(f"/articles/{article}").get_data(as_text=True)
    icon = re.search(r'<link rel="icon" href="([^"]+)"', page).group(1)
    assert client.get(icon).status_code == 200
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 200 and favicon.mimetype == "image/svg+xml"
    assert b"<svg" in favicon.data


def test_a_held_reader_is_told_how_long_review_usually_takes(app, client, article):
    from datetime import timedelta

    from moderation.models import Decision

    held = post(client, article, body="You are all idiots, shut up.")
    status_url = held.headers["Location"]
    with app.app_context():
        Worker(app).run_once()
        mine = db.session.execute(db.select(Comment).order_by(Comment.id.desc())).scalars().first()
        mine.state = CommentState.HELD
        db.session.commit()
    # Little data: the plain promise.
    assert "usually within minutes" in client.get(status_url).get_data(as_text=True)

    with app.app_context():
        from tests.factories import make_user

        moderator = make_user("mo")
        story = db.session.execute(db.select(Comment)).scalars().first().article
        now = utcnow()
        for minutes in (20, 30, 40, 50, 90):  # median 40 minutes
            decided_at = now - timedelta(minutes=60)
            comment = make_comment(story, "waited",
                                   created_at=decided_at - timedelta(minutes=minutes))
            db.session.add(Decision(comment=comment, actor_id=moderator.id,
                                    from_state=CommentState.QUEUED,
                                    to_state=CommentState.APPROVED, created_at=decided_at))
        db.session.commit()
    page = client.get(status_url).get_data(as_text=True)
    assert "held for review" in page and "usually within 40 minutes" in page
    assert "usually within 40 minutes" in client.get(f"/articles/{article}").get_data(
        as_text=True)


def test_an_article_closed_elsewhere_refuses_the_next_post_at_once(app, client, article,
                                                                  monkeypatch):
    """The post path keeps what it read of the article for a moment; another process that
    closes the article (here: a bulk update this process's cache never hears of) still
    stops the very next post, because the insert stores a comment only into an open one."""
    from moderation.models import Article
    from moderation.services import submit

    monkeypatch.setattr(submit, "ARTICLE_SECONDS", 3600.0)
    assert post(client, article, body="First.").status_code == 303
    with app.app_context():
        db.session.execute(db.update(Article).values(comments_open=False))
        db.session.commit()
    refused = post(client, article, body="Second.")
    assert refused.status_code == 403
    assert "Comments on “Council approves a flood barrier” are closed." in refused.get_data(
        as_text=True)
    assert [comment.body for comment in comments(app)][-1] == "First."


def test_an_article_changed_in_this_process_is_read_afresh(app, client, article, monkeypatch):
    from moderation.models import Article
    from moderation.services import submit

    monkeypatch.setattr(submit, "ARTICLE_SECONDS", 3600.0)
    assert post(client, article, body="First.").status_code == 303
    with app.app_context():
        story = db.session.execute(db.select(Article)).scalar_one()
        story.comments_open = False  # through the ORM, as the admin pages and the API do
        story.headline = "Barrier vote postponed"
        db.session.commit()
    refused = post(client, article, body="Second.")
    assert refused.status_code == 403
    assert "Barrier vote postponed" in refused.get_data(as_text=True)


def test_a_post_to_an_article_deleted_meanwhile_is_a_404_and_stores_nothing(app, client,
                                                                           monkeypatch):
    from moderation.models import Article
    from moderation.services import submit

    monkeypatch.setattr(submit, "ARTICLE_SECONDS", 3600.0)
    with app.app_context():
        make_article(slug="brief", headline="A brief")
        db.session.commit()
    assert client.get("/articles/brief").status_code == 200
    assert post(client, "brief", body="").status_code == 400  # the post path has read it
    with app.app_context():  # another process deletes it (no event reaches this one)
        db.session.execute(db.delete(Article).where(Article.slug == "brief"))
        db.session.commit()
    gone = post(client, "brief", body="Too late.")
    assert gone.status_code == 404
    assert "no longer here" in gone.get_data(as_text=True)
    assert "Too late." not in [comment.body for comment in comments(app)]


def test_an_article_change_is_forgotten_at_flush_and_again_at_commit(app):
    from moderation.models import Article
    from moderation.services import submit

    with app.app_context():
        make_article(slug="brief", headline="A brief")
        db.session.commit()
        story = db.session.execute(db.select(Article)).scalar_one()
        before = submit._generation
        story.headline = "A longer brief"
        db.session.flush()
        assert submit._generation == before + 1
        db.session.commit()
        assert submit._generation == before + 2
        db.session.commit()  # nothing changed: nothing forgotten
        assert submit._generation == before + 2
