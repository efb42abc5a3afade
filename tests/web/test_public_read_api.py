"""A news site reads an article's published comments through the public JSON API: its CMS
renders them server-side, or a page's script fetches them cross-origin."""

import gzip
import json
from datetime import timedelta

import pytest

from moderation.extensions import db
from moderation.models import CommentState, ImportBatch, utcnow
from moderation.services import sites
from tests.factories import make_article, make_comment

KEY = "2024/05/flood-barrier"
URL = f"/api/v1/public/articles/{KEY}/comments"
GZIP = {"Accept-Encoding": "gzip"}
PUBLISHED = CommentState.APPROVED


def story(app, *, published: int = 3, **article_fields) -> list[int]:
    """An article with `published` comments a minute apart, oldest first; their ids."""
    with app.app_context():
        article = make_article(external_key=KEY, headline="Council approves a flood barrier",
                               canonical_url="https://news.example/2024/05/flood-barrier",
                               **article_fields)
        start = utcnow() - timedelta(hours=1)
        ids = [make_comment(article, f"Published remark {n}. " + "Barrier talk. " * 20,
                            state=PUBLISHED, created_at=start + timedelta(minutes=n)).id
               for n in range(published)]
        db.session.commit()
        return ids


def walk(client, order: str, limit: int) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        query = f"?order={order}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answer = client.get(URL + query)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        pages.append([comment["id"] for comment in body["comments"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_readers_see_only_published_comments_and_nothing_private(app, client):
    story(app, published=0)
    with app.app_context():
        from moderation.services.articles import article_by_key

        article = article_by_key(KEY)
        shown = make_comment(article, "Good point about the tides.", state=PUBLISHED,
                             author_name="Ada", author_email="ada@example.org",
                             ip_hash="f" * 64)
        signed_in = make_comment(article, "As a resident: yes.", state=PUBLISHED,
                                 author_name="Bo", reader_id="1:reader-42")
        batch = ImportBatch(filename="old.csv")
        db.session.add(batch)
        db.session.flush()
        for state in (CommentState.HELD, CommentState.QUEUED, CommentState.REJECTED,
                      CommentState.PENDING):
            make_comment(article, f"not shown: {state.value}", state=state)
        make_comment(article, "not shown: imported", state=PUBLISHED, import_id=batch.id)
        db.session.commit()
        shown_id, signed_in_id = shown.id, signed_in.id

    answer = client.get(URL)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["article"] == {"key": KEY, "headline": "Council approves a flood barrier",
                               "url": "https://news.example/2024/05/flood-barrier",
                               "comments_open": True, "comment_count": 2}
    assert [c["id"] for c in body["comments"]] == [signed_in_id, shown_id]  # newest first
    assert {c["id"]: c["verified"] for c in body["comments"]} == {
        shown_id: False, signed_in_id: True}
    assert set(body["comments"][0]) == {"id", "author_name", "verified", "body", "created_at",
                                        "report_url"}
    assert body["comments"][0]["created_at"].endswith("Z")
    text = answer.get_data(as_text=True)
    for private in ("ada@example.org", "f" * 64, "not shown", "risk", "state", "reader-42"):
        assert private not in text
    # The key may also come URL-encoded; the report link is the existing report API.
    assert client.get(URL.replace(KEY, KEY.replace("/", "%2F"))).get_json() == body
    report = client.post(body["comments"][1]["report_url"], json={"reason": "spam"})
    assert report.status_code == 201


def test_pages_walk_every_comment_once_in_either_order(app, client):
    ids = story(app, published=7)
    with app.app_context():
        from moderation.models import Comment

        # Two comments in the same microsecond: the id breaks the tie, none is lost.
        same = db.session.get(Comment, ids[3]).created_at
        db.session.get(Comment, ids[4]).created_at = same
        db.session.commit()

    newest = walk(client, "newest", 3)
    oldest = walk(client, "oldest", 3)
    assert [len(page) for page in newest] == [3, 3, 1]
    assert sum(newest, []) == ids[::-1]
    assert sum(oldest, []) == ids
    assert walk(client, "oldest", 7) == [ids]  # exactly one page: no empty page after it
    assert client.get(URL).get_json()["next_cursor"] is None  # 7 fit the default 50


def test_a_comment_published_while_paging_neither_repeats_nor_skips(app, client):
    ids = story(app, published=4)
    first = client.get(URL + "?limit=2").get_json()
    with app.app_context():
        from moderation.services.articles import article_by_key

        make_comment(article_by_key(KEY), "Just in.", state=PUBLISHED)
        db.session.commit()
    rest = client.get(URL + f"?limit=2&cursor={first['next_cursor']}").get_json()
    assert [c["id"] for c in first["comments"] + rest["comments"]] == ids[::-1]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("query, field, words", [
    ("?limit=0", "limit", "from 1 to 100"),
    ("?limit=101", "limit", "from 1 to 100"),
    ("?limit=ten", "limit", "whole number"),
    ("?order=sideways", "order", "newest or oldest"),
    ("?cursor=not-a-cursor", "cursor", "first page"),
    ("?page=2", "page", "Unknown field"),
    ("?limit=2&limit=3", "limit", "once"),
])
def test_a_bad_query_is_a_400_that_says_why(app, client, query, field, words):
    story(app)
    answer = client.get(URL + query)
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["field"] == field and words in body["message"]


def test_a_cursor_cannot_be_edited_or_reused_elsewhere(app, client):
    story(app, published=5)
    with app.app_context():
        make_article(external_key="other-story", headline="Another")
        db.session.commit()
    cursor = client.get(URL + "?limit=2").get_json()["next_cursor"]
    payload, _, signature = cursor.partition(".")
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    for url, words in ((URL + f"?cursor={forged}", "not one we gave out"),
                       (URL + f"?cursor={cursor}&order=oldest", "order=newest"),
                       (f"/api/v1/public/articles/other-story/comments?cursor={cursor}",
                        "another article"),
                       (URL + "?cursor=" + "x" * 400, "not one we gave out")):
        answer = client.get(url)
        assert answer.status_code == 400, url
        assert words in answer.get_json()["message"], url


def test_an_unknown_key_is_a_404_and_a_closed_article_still_lists(app, client):
    story(app, published=2, comments_open=False)
    for key in ("no-such-story", "not a key!", "2024/05"):
        answer = client.get(f"/api/v1/public/articles/{key}/comments")
        assert answer.status_code == 404
        assert "no article with that key" in answer.get_json()["message"]
    closed = client.get(URL).get_json()
    assert closed["article"]["comments_open"] is False and len(closed["comments"]) == 2


@pytest.mark.parametrize("headers", [{}, GZIP], ids=["plain", "gzip"])
def test_a_cache_revalidates_with_the_etag_until_a_comment_is_published(app, client, headers):
    story(app, published=3)
    first = client.get(URL, headers=headers)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=30"
    assert "Accept-Encoding" in first.headers["Vary"]
    if headers:  # the same JSON gzipped: equal only weakly (RFC 9110 8.8.3)
        assert first.headers["Content-Encoding"] == "gzip" and etag.startswith('W/"')
        body = json.loads(gzip.decompress(first.data))
        plain_etag = client.get(URL).headers["ETag"]
        assert etag == "W/" + plain_etag
    else:
        assert "Content-Encoding" not in first.headers and etag.startswith('"')
        body = first.get_json()
    again = client.get(URL, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag  # what the 200 to this client said

    with app.app_context():
        from moderation.services.articles import article_by_key
        from moderation.services.decide import decide
        from tests.factories import make_user

        waiting = make_comment(article_by_key(KEY), "A late remark.", state=CommentState.QUEUED)
        decide(waiting, make_user("maria"), "approve")
        db.session.commit()
    changed = client.get(URL, headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(body["comments"]) == 3


def test_only_a_sites_own_origins_may_read_cross_origin(app, client):
    story(app)
    with app.app_context():
        sites.save(None, None, name="News", origins=["https://*.news.example"],
                   allow_anonymous=True, auto_register=False)
        db.session.commit()
    allowed = client.get(URL, headers={"Origin": "https://www.news.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://www.news.example"
    assert "Origin" in allowed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    for origin in ("https://evil.example", "https://news.example.evil.example", "null", None):
        other = client.get(URL, headers={"Origin": origin} if origin else {})
        assert other.status_code == 200 and "Origin" in other.headers["Vary"]
        assert "Access-Control-Allow-Origin" not in other.headers, origin
    # Errors carry the allowance too, so a page's script can show the message.
    missing = client.get("/api/v1/public/articles/nope/comments",
                         headers={"Origin": "https://www.news.example"})
    assert missing.status_code == 404 and missing.headers["Access-Control-Allow-Origin"]

    preflight = {"Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "if-none-match"}
    yes = client.options(URL, headers={"Origin": "https://www.news.example", **preflight})
    assert yes.status_code == 204
    assert yes.headers["Access-Control-Allow-Origin"] == "https://www.news.example"
    assert yes.headers["Access-Control-Allow-Methods"] == "GET"
    no = client.options(URL, headers={"Origin": "https://evil.example", **preflight})
    assert no.status_code == 403 and "Access-Control-Allow-Origin" not in no.headers
    assert "allowed origins" in no.get_json()["message"]
    # The report POST is not opened to other origins.
    report = client.options("/api/v1/public/comments/1/reports",
                            headers={"Origin": "https://www.news.example",
                                     "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in report.headers
