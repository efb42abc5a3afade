"""An index page shows how many comments each story has: one request for all its keys."""

import pytest

from moderation.extensions import db
from moderation.models import CommentState
from tests.factories import make_article, make_comment
from tests.querycount import statements_during_get

COUNTS = "/api/v1/public/counts"


def articles_with(app, counts: dict[str, int]) -> None:
    """Articles keyed as given, each with that many published comments, and one held and one
    queued comment each (never counted)."""
    with app.app_context():
        for key, published in counts.items():
            article = make_article(external_key=key, headline=f"About {key}")
            for n in range(published):
                make_comment(article, f"remark {n}", state=CommentState.APPROVED)
            make_comment(article, "waiting", state=CommentState.QUEUED)
            make_comment(article, "held", state=CommentState.HELD)
        db.session.commit()


def statements_for(app, client, url: str) -> tuple[int, dict]:
    count, response = statements_during_get(app, client, url)
    assert response.status_code == 200, response.get_json()
    return count, response.get_json()


def test_counts_for_many_keys_in_one_request_unknown_ones_zero(app, client):
    articles_with(app, {"2024/05/flood-barrier": 3, "2024/05/bus-lanes": 0, "budget": 1})
    answer = client.get(f"{COUNTS}?keys=2024/05/flood-barrier,2024/05/bus-lanes,nope"
                        "&keys=budget")
    assert answer.status_code == 200
    assert answer.get_json() == {"counts": {"2024/05/flood-barrier": 3, "2024/05/bus-lanes": 0,
                                            "nope": 0, "budget": 1}}
    assert answer.headers["Cache-Control"] == "public, max-age=60"
    # Repeats are answered once; a trailing comma and spaces are forgiven.
    again = client.get(f"{COUNTS}?keys=budget, budget,")
    assert again.get_json() == {"counts": {"budget": 1}}


def test_a_hundred_keys_cost_what_one_does(app, client):
    keys = [f"story-{n}" for n in range(100)]
    articles_with(app, {key: n % 4 for n, key in enumerate(keys)})
    client.get(f"{COUNTS}?keys=story-0")  # warm up the connection
    one, single = statements_for(app, client, f"{COUNTS}?keys=story-1")
    hundred, many = statements_for(app, client, f"{COUNTS}?keys={','.join(keys)}")
    assert one == hundred == 1
    assert single == {"counts": {"story-1": 1}}
    assert many["counts"] == {key: n % 4 for n, key in enumerate(keys)}


@pytest.mark.parametrize("query, words", [
    ("", "at least one article key"),
    ("?keys=", "at least one article key"),
    ("?keys=,,", "at least one article key"),
    ("?keys=" + ",".join(f"k{n}" for n in range(101)), "at most 100 keys"),
    ("?keys=" + "a" * 201, "at most 200 characters"),
    ("?keys=good,bad%20key", "not an article key"),
    ("?keys=a&key=b", "Unknown field"),
])
def test_bad_keys_are_a_400_that_says_why(app, client, query, words):
    answer = client.get(COUNTS + query)
    assert answer.status_code == 400
    assert words in answer.get_json()["message"]


def test_counts_revalidate_until_a_comment_is_published(app, client):
    articles_with(app, {"budget": 1})
    first = client.get(f"{COUNTS}?keys=budget")
    etag = first.headers["ETag"]
    assert etag.startswith('"')  # strong: this answer is too small to gzip
    unchanged = client.get(f"{COUNTS}?keys=budget",
                           headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert unchanged.status_code == 304 and unchanged.data == b""
    with app.app_context():
        from moderation.services.articles import article_by_key

        make_comment(article_by_key("budget"), "new", state=CommentState.APPROVED)
        db.session.commit()
    changed = client.get(f"{COUNTS}?keys=budget", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json() == {"counts": {"budget": 2}}


def test_count_js_is_served_for_other_sites_pages_to_load(client):
    script = client.get("/count.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert "max-age=3600" in script.headers["Cache-Control"]
    assert b"data-comments-for" in script.data and b"/api/v1/public/counts" in script.data
    assert client.get("/count.js", headers={"If-None-Match": script.headers["ETag"]}
                      ).status_code == 304
