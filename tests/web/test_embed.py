"""A news site embeds the comments: only its own pages may frame them, readers post from the
iframe without any cookie, and readers signed in through the site's CMS post as themselves."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState
from moderation.services import embed_tokens, sites, sso
from tests.factories import make_article, make_comment

SITE = "https://bugle.example"
SECRET = "b" * 40
SERVICE = "http://localhost"  # the test client's own origin


@pytest.fixture
def bugle(app) -> dict:
    with app.app_context():
        site = sites.save(None, None, name="Daily Bugle", origins=f"{SITE}\nhttps://*.bugle.example",
                          allow_anonymous=True, auto_register=True, sso_secret=SECRET)
        article = make_article(slug="flood", headline="Council approves a flood barrier",
                               external_key="2024/05/flood-barrier", site_id=site.id)
        make_comment(article, "Good news for the lower town.", author_name="Pat",
                     state=CommentState.APPROVED)
        db.session.commit()
        return {"site_id": site.id, "article_id": article.id}


def embed_url(key="2024/05/flood-barrier", origin=SITE, **extra) -> str:
    return "/embed/comments?" + urlencode({"key": key, "origin": origin,
                                           "url": f"{SITE}/2024/05/flood-barrier", **extra})


def form_fields(html: str) -> dict:
    return {name: value for name, value in re.findall(
        r'<input id="\w+" name="(\w+)" type="hidden" value="([^"]*)"', html)}


def post(client, fields: dict, *, origin=SERVICE, **values):
    headers = {"Origin": origin} if origin else {}
    return client.post("/embed/comments", data={**fields, **values}, headers=headers)


def loaded(client, url=None) -> dict:
    page = client.get(url or embed_url())
    assert page.status_code == 200, page.data
    return form_fields(page.get_data(as_text=True))


def comments(app) -> list[Comment]:
    with app.app_context():
        rows = list(db.session.execute(db.select(Comment).order_by(Comment.id)).scalars())
        db.session.expunge_all()
        return rows


def test_only_the_sites_own_pages_may_frame_the_embed(client, bugle):
    page = client.get(embed_url())
    assert page.status_code == 200
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors https://bugle.example https://*.bugle.example;" in csp
    assert "X-Frame-Options" not in page.headers
    assert "Good news for the lower town." in page.get_data(as_text=True)
    assert "1 comment" in page.get_data(as_text=True)
    # Every other page still refuses to be framed.
    front = client.get("/")
    assert "frame-ancestors 'none'" in front.headers["Content-Security-Policy"]
    assert front.headers["X-Frame-Options"] == "DENY"


def test_an_origin_no_site_allows_gets_a_403_that_nobody_may_frame(client, bugle):
    page = client.get(embed_url(origin="https://evil.example"))
    assert page.status_code == 403
    assert "not one of the sites registered" in page.get_data(as_text=True)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_an_unknown_article_is_registered_from_its_page_on_an_auto_registering_site(app, client,
                                                                                     bugle):
    page = client.get(embed_url(key="2024/06/new-bridge", title="A new bridge",
                                url=f"{SITE}/2024/06/new-bridge"))
    assert page.status_code == 200
    with app.app_context():
        article = db.session.execute(db.select(Article).where(
            Article.external_key == "2024/06/new-bridge")).scalar_one()
        assert (article.headline, article.site_id) == ("A new bridge", bugle["site_id"])
        assert article.canonical_url == f"{SITE}/2024/06/new-bridge"


def test_an_article_is_not_registered_from_an_address_off_the_site(app, client, bugle):
    page = client.get(embed_url(key="2024/06/other", title="Other",
                                url="https://evil.example/2024/06/other"))
    assert page.status_code == 404
    assert "not on Daily Bugle" in page.get_data(as_text=True)
    with app.app_context():
        sites.save(None, sites.get_site(bugle["site_id"]), name="Daily Bugle", origins=[SITE],
                   allow_anonymous=True, auto_register=False)
        db.session.commit()
    page = client.get(embed_url(key="2024/06/other", title="Other"))
    assert page.status_code == 404
    assert "register it first" in page.get_data(as_text=True)


def new_article_url(n: int, **extra) -> str:
    return embed_url(key=f"2024/07/story-{n}", title=f"Story {n}",
                     url=f"{SITE}/2024/07/story-{n}", **extra)


def article_keys(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(
            db.select(Article.external_key).order_by(Article.id)).scalars())


def test_registrations_from_one_address_are_rate_limited_but_reading_is_not(app, client,
                                                                             bugle):
    app.config["MODERATION_AUTO_REGISTER_LIMIT"] = "2 per hour"
    assert client.get(new_article_url(1)).status_code == 200
    assert client.get(new_article_url(2)).status_code == 200
    refused = client.get(new_article_url(3))
    assert refused.status_code == 429
    assert "Too many new articles" in refused.get_data(as_text=True)
    assert article_keys(app) == ["2024/05/flood-barrier", "2024/07/story-1", "2024/07/story-2"]
    # Articles that exist are shown however many times they load.
    for _ in range(3):
        assert client.get(new_article_url(1)).status_code == 200
        assert client.get(embed_url()).status_code == 200


@pytest.mark.parametrize("headers, status", [
    ({"Sec-Fetch-Dest": "document", "Sec-Fetch-Mode": "navigate"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Referer": "https://evil.example/spam"}, 403),
    ({"Sec-Fetch-Dest": "iframe", "Referer": "https://evil.example/"}, 403),
    ({"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site",
      "Referer": f"{SITE}/2024/07/story-1"}, 200),
    ({"Referer": f"{SITE}/"}, 200),
])
def test_only_what_looks_like_the_sites_page_framing_the_embed_registers(app, client, bugle,
                                                                         headers, status):
    page = client.get(new_article_url(1), headers=headers)
    assert page.status_code == status
    registered = "2024/07/story-1" in article_keys(app)
    assert registered is (status == 200)


def test_a_registered_headline_is_the_trimmed_bounded_title(app, client, bugle):
    title = "  Breaking:\x07 a\u200b   very \n long " + "title " * 100
    assert client.get(embed_url(key="2024/07/long", title=title,
                                url=f"{SITE}/2024/07/long")).status_code == 200
    with app.app_context():
        headline = db.session.execute(db.select(Article.headline).where(
            Article.external_key == "2024/07/long")).scalar_one()
    assert headline.startswith("Breaking: a very long title") and len(headline) <= 300
    assert "\x07" not in headline and "\n" not in headline


def test_a_reader_posts_without_any_cookie_and_sees_it_being_checked(app, client, bugle):
    fields = loaded(client)
    client.delete_cookie("session")
    posted = post(client, fields, author_name="Jo Reader", body="Well reported.")
    assert posted.status_code == 303
    location = posted.headers["Location"]
    token = parse_qs(urlsplit(location).query)["mine"][0]
    page = client.get(location)
    assert "Your comment is being checked" in page.get_data(as_text=True)
    assert client.get(f"/embed/comments/{token}/state").get_json() == {"state": "pending"}
    stored = comments(app)[-1]
    assert (stored.author_name, stored.body, stored.reader_id) == ("Jo Reader",
                                                                   "Well reported.", None)


@pytest.mark.parametrize("origin, fetch_site", [
    (None, None), ("https://evil.example", None), (SITE, None), (SERVICE, "cross-site")])
def test_a_post_from_anywhere_but_the_iframe_is_refused(app, client, bugle, origin, fetch_site):
    fields = loaded(client)
    headers = {"Origin": origin} if origin else {}
    if fetch_site:
        headers["Sec-Fetch-Site"] = fetch_site
    refused = client.post("/embed/comments", headers=headers,
                          data={**fields, "author_name": "X", "body": "Forged."})
    assert refused.status_code == 403
    assert len(comments(app)) == 1


def test_a_forged_stale_or_other_articles_form_token_stores_nothing(app, client, bugle):
    fields = loaded(client)
    with app.app_context():
        other = make_article(external_key="2024/05/other", site_id=bugle["site_id"])
        db.session.commit()
        other_token = embed_tokens.form_token(other.id, bugle["site_id"])
    for token, says in (("", "not sent from the comments"), ("x.y.z", "not sent"),
                        (other_token, "another article")):
        refused = post(client, fields, form_token=token, author_name="X", body="Hello.")
        assert refused.status_code == 400
        assert says in refused.get_data(as_text=True)
    with app.test_request_context():
        with pytest.raises(embed_tokens.FormTokenError, match="two hours"):
            embed_tokens.check_form_token(fields["form_token"], bugle["article_id"],
                                          bugle["site_id"], max_age=-1)
    assert len(comments(app)) == 1


def test_a_resent_form_returns_the_first_comment(app, client, bugle):
    fields = loaded(client)
    first = post(client, fields, author_name="Jo", body="Same words.")
    second = post(client, fields, author_name="Jo", body="Same words.")
    assert first.headers["Location"] == second.headers["Location"]
    assert len(comments(app)) == 2


def test_show_more_walks_the_comments_by_keyset_in_either_order(app, client, bugle):
    with app.app_context():
        article = db.session.get(Article, bugle["article_id"])
        for n in range(25):
            make_comment(article, f"Comment number {n}.", state=CommentState.APPROVED,
                         created_at=datetime(2026, 1, 1) + timedelta(minutes=n))
        db.session.commit()
    seen = []
    url = embed_url(order="oldest")
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r"Comment number (\d+)\.", html)
        more = re.search(r'class="more-comments"><a href="([^"]+)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == [str(n) for n in range(25)]
    newest = client.get(embed_url()).get_data(as_text=True)
    assert "26 comments" in newest
    assert newest.index("Good news") < newest.index("Comment number 24")


def signed(secret=SECRET, **claims) -> str:
    now = int(datetime.now(UTC).timestamp())
    body = {"sub": "cms-42", "name": "Ada Reader", "iat": now, "exp": now + 600, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm="HS256")


def test_a_signed_in_reader_posts_as_their_verified_account(app, client, bugle):
    token = signed(email="ada@reader.example")
    fields = loaded(client, embed_url(sso=token))
    assert "author_name" not in client.get(embed_url(sso=token)).get_data(as_text=True)
    posted = post(client, fields, body="Signed and sealed.", author_name="Someone Else")
    assert posted.status_code == 303
    stored = comments(app)[-1]
    assert stored.reader_id == f"{bugle['site_id']}:cms-42"
    assert (stored.author_name, stored.author_email) == ("Ada Reader", "ada@reader.example")


def test_a_long_sign_in_token_survives_the_round_trip_through_the_form(app, client, bugle):
    """The form carries what sso accepts (4,096 characters), not less."""
    token = signed(email="ada@reader.example", about="x" * 2500)
    assert 2000 < len(token) < sso.MAX_TOKEN_CHARS
    fields = loaded(client, embed_url(sso=token))
    assert fields["sso"] == token
    posted = post(client, fields, body="A long token, still me.")
    assert posted.status_code == 303
    assert comments(app)[-1].reader_id == f"{bugle['site_id']}:cms-42"


def test_two_signed_in_readers_with_one_name_behind_one_address_are_two_comments(app, client,
                                                                                bugle):
    for sub in ("cms-1", "cms-2"):
        fields = loaded(client, embed_url(sso=signed(sub=sub, name="Sam")))
        assert post(client, fields, body="Agreed.").status_code == 303
    readers = [comment.reader_id for comment in comments(app)[1:]]
    assert readers == [f"{bugle['site_id']}:cms-1", f"{bugle['site_id']}:cms-2"]


def test_moderators_see_a_signed_in_reader_as_a_verified_account(app, client, bugle, moderator):
    from tests.conftest import _signed_in

    post(client, loaded(client, embed_url(sso=signed())), body="Signed and sealed.")
    stored = comments(app)[-1]
    with app.app_context():
        db.session.get(Comment, stored.id).state = CommentState.QUEUED
        db.session.commit()
    _signed_in(client, "maria")
    card = client.get("/queue/").get_data(as_text=True)
    assert re.search(r'class="author">Ada Reader</span>\s*<span class="verified"', card)
    page = client.get(f"/decisions/comments/{stored.id}").get_data(as_text=True)
    assert f"verified account {bugle['site_id']}:cms-42" in page


def test_a_hold_and_a_ban_follow_the_account_through_a_new_name(app, client, bugle, moderator):
    from moderation.models import User
    from moderation.services import authors, sanctions

    post(client, loaded(client, embed_url(sso=signed())), body="First.")
    renamed = signed(name="Totally New Name", email="new@reader.example")
    post(client, loaded(client, embed_url(sso=renamed)), body="Second, renamed.")
    first, second = comments(app)[-2:]
    assert first.author_key == second.author_key  # one author, whatever the name
    with app.app_context():
        maria = db.session.get(User, moderator)
        authors.hold(db.session.get(Comment, first.id), maria)
        assert authors.is_held(second.author_key)
        sanctions.create(db.session.get(Comment, first.id), maria, "ban", ["name"])
        db.session.commit()
    third = signed(name="Yet Another Name")
    refused = post(client, loaded(client, embed_url(sso=third)), body="Third.")
    assert refused.status_code == 403
    assert "no longer comment" in refused.get_data(as_text=True)
    assert len(comments(app)) == 3


def hand_signed(payload: str, header: str = '{"alg":"HS256","typ":"JWT"}') -> str:
    """A token PyJWT would refuse to make (a kid that is a number, exp as text), signed."""
    def part(text: bytes) -> bytes:
        return base64.urlsafe_b64encode(text).rstrip(b"=")

    signing_input = part(header.encode()) + b"." + part(payload.encode())
    signature = hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + part(signature)).decode()


def soon() -> int:
    """Ten minutes from when the test runs, not from when the suite was collected (a full run
    takes longer than that)."""
    return int(datetime.now(UTC).timestamp()) + 600


# Made when each test runs: a token made at collection would expire during a long run.
@pytest.mark.parametrize("make, status, says", [
    (lambda: hand_signed(f'{{"sub":"1","name":"A","exp":{soon()}}}',
                         '{"alg":"HS256","kid":5}'), 400, "header is not valid"),
    (lambda: hand_signed(f'{{"sub":"1","name":"A","exp":{soon()}}}',
                         '{"alg":"HS256","crit":"x"}'), 400, "header is not valid"),
    (lambda: hand_signed(f'{{"sub":"1","name":"A","exp":"{soon()}"}}'), 400, "numbers of seconds"),
    (lambda: hand_signed(f'{{"sub":"1","name":"A","exp":{soon()},"iat":true}}'), 400,
     "numbers of seconds"),
    (lambda: signed(exp=int(datetime.now(UTC).timestamp()) - 60), 401, "expired"),
    (lambda: signed(secret="f" * 40), 403, "not signed by Daily Bugle"),
    (lambda: signed(name=None), 400, "no name claim"),
    (lambda: signed(iat=None, exp=int(datetime.now(UTC).timestamp()) + 2 * 86400), 400, "24 hours"),
    (lambda: jwt.encode({"sub": "1", "name": "A", "exp": 2**40}, SECRET * 2,
                        algorithm="HS512"), 400, "HS256"),
    (lambda: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
             "eyJzdWIiOiIxIiwibmFtZSI6IkEiLCJleHAiOjk5OTk5OTk5OTl9.", 400, "HS256"),
    (lambda: "not-a-token", 400, "not a JWT"),
])
def test_a_bad_sign_in_token_is_refused_and_nothing_is_stored(app, client, bugle, make, status,
                                                              says):
    token = make()
    page = client.get(embed_url(sso=token))
    assert page.status_code == status
    assert says in page.get_data(as_text=True)
    fields = loaded(client)
    refused = post(client, {**fields, "sso": token}, author_name="Jo", body="Hello.")
    assert refused.status_code == status
    assert says in refused.get_data(as_text=True)
    assert len(comments(app)) == 1


def test_a_site_that_requires_sign_in_refuses_anonymous_readers(app, client, bugle):
    with app.app_context():
        sites.save(None, sites.get_site(bugle["site_id"]), name="Daily Bugle", origins=[SITE],
                   allow_anonymous=False, auto_register=False)
        db.session.commit()
    page = client.get(embed_url()).get_data(as_text=True)
    assert "Sign in to comment" in page and 'id="post-comment"' not in page
    fields = loaded(client, embed_url(sso=signed()))
    anonymous = post(client, {**fields, "sso": ""}, author_name="Jo", body="Hello.")
    assert anonymous.status_code == 403
    assert "asks readers to sign in" in anonymous.get_data(as_text=True)
    assert post(client, fields, body="Signed.").status_code == 303
    assert [c.reader_id is not None for c in comments(app)] == [False, True]


def test_the_embed_script_is_served_as_javascript(client):
    script = client.get("/embed.js")
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"
    assert b"moderation:height" in script.data


def test_sso_issue_and_verify_agree(ctx):
    site = sites.save(None, None, name="Courier", origins=["https://courier.example"],
                      allow_anonymous=True, auto_register=False, sso_secret=SECRET)
    reader = sso.verify(site, sso.issue(SECRET, "7", "Kim", email="kim@example.org"))
    assert (reader.reader_id, reader.name, reader.email) == (f"{site.id}:7", "Kim",
                                                             "kim@example.org")
