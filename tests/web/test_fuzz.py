"""Property-based: generated junk thrown at every form and JSON endpoint, signed in as an admin
and signed out, never gets a 5xx, and an answer that refuses (4xx) never changes stored data.

Every route of the app is found from its URL map, so a new endpoint is fuzzed without anyone
adding it here."""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moderation.extensions import db
from moderation.models import CommentState
from tests.conftest import login
from tests.factories import PASSWORD, make_article, make_comment, make_user

# Signing the fuzzing admin out would only make the rest of the run anonymous.
SKIP = {"static", "auth.logout", "account.end_other_sessions"}
FIELDS = ["action", "reason", "note", "body", "author_name", "author_email", "website",
          "username", "password", "remember", "next", "role", "term", "list", "base_version",
          "ids", "scope", "kind", "days", "expires", "name", "code", "current_password",
          "new_password", "confirm_password", "reject_action", "window", "toxicity_approve",
          "toxicity_reject", "toxicity_enabled", "order", "band", "article", "label",
          "label_min", "scorer", "since", "until", "q", "cursor", "limit", "filter", "match",
          "keys", "comments_open", "premoderate", "requeue_published", "reband", "text",
          "label_name", "delimiter", "status", "before", "page", "moderator", "matched"]
# The tables whose rows are the site's data (logs of sign-ins and sessions change on purpose).
TABLES = {"comments": "*", "decisions": "*", "policies": "*", "word_rules": "*",
          "api_tokens": "id, revoked_at, expires_at", "reports": "*", "sanctions": "*",
          "articles": "*", "author_holds": "*",
          "users": "id, username, role, active, password_hash, totp_secret"}

texts = st.text(max_size=40) | st.sampled_from(
    ["", " ", "0", "-1", "1e309", "NaN", "９", "2147483648", "0001-01-01T00:00:00+05:00",
     "9999-12-31", "\u202eadmin", "a\u200bb", "<script>", "'; DROP TABLE users; --", "%FF",
     "approve", "reject", "spam", "other", "all", "risk", "held", "y", "true", "x" * 300])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), inner, max_size=5),
    max_leaves=12)
json_bodies = (
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
    .map(lambda value: json.dumps(value).encode())  # ensure_ascii: "\ud800" stays escaped
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.binary(max_size=200)
    | st.integers(2, 3000).map(lambda depth: b"[" * depth + b"]" * depth))


def _encode(pairs) -> bytes:
    return b"&".join(quote(key).encode() + b"=" + (value if isinstance(value, bytes)
                                                    else quote(value).encode())
                     for key, value in pairs)


form_bodies = st.lists(
    st.tuples(st.sampled_from(FIELDS), texts.filter(lambda t: not re.search("[\ud800-\udfff]", t))
              | st.binary(max_size=12).map(lambda raw: quote_from_bytes(raw).encode())),
    max_size=8).map(_encode) | st.binary(max_size=200)


@pytest.fixture
def world(app):
    """A small site: two articles, comments in every state, a second user."""
    with app.app_context():
        article = make_article(slug="story")
        make_article(slug="closed", comments_open=False)
        for number, state in enumerate([CommentState.QUEUED, CommentState.HELD,
                                        CommentState.APPROVED, CommentState.PENDING]):
            make_comment(article, f"comment {number}", state=state, risk=0.1 * number)
        make_user("ada", role=__import__("moderation.models", fromlist=["Role"]).Role.ADMIN)
        make_user("maria")
        db.session.commit()
    return app


def snapshot(app) -> str:
    digest = hashlib.sha256()
    with app.app_context():
        for table, columns in sorted(TABLES.items()):
            rows = db.session.execute(db.text(f"SELECT {columns} FROM {table} ORDER BY id"))
            digest.update(repr(rows.all()).encode())
        db.session.remove()
    return digest.hexdigest()


def routes(app):
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((rule, method))
    return sorted(found, key=lambda pair: (pair[0].rule, pair[1]))


path_values = st.sampled_from(["1", "2", "3", "0", "2147483647", "99999999999", "４", "abc",
                               "story", "a" * 64, "..", "%00", "%FF"]) | texts


def _path(rule, data) -> str:
    path = rule.rule
    for argument in rule.arguments:
        value = data.draw(path_values)
        path = re.sub(r"<(?:[a-z]+:)?" + argument + ">", quote(value, safe="%"), path)
    return path


def _send(client, rule, method, data):
    path = _path(rule, data)
    query = data.draw(form_bodies)[:300] if data.draw(st.booleans()) else b""
    url = path + ("?" + query.decode("latin-1") if query else "")
    if method == "GET":
        return client.get(url)
    if rule.rule.startswith("/api/"):
        return client.post(url, data=data.draw(json_bodies),
                           content_type=data.draw(st.sampled_from(
                               ["application/json", "application/json",
                                "text/plain", "application/x-www-form-urlencoded"])))
    return client.post(url, data=data.draw(form_bodies),
                       content_type=data.draw(st.sampled_from(
                           ["application/x-www-form-urlencoded"] * 3
                           + ["multipart/form-data; boundary=x", "application/json"])))


FUZZ = settings(max_examples=400, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("who", ["admin", "anonymous"])
def test_junk_never_gets_a_5xx_and_refusals_change_nothing(world, who):
    app = world
    app.config["MODERATION_POST_LIMIT"] = app.config["MODERATION_LOGIN_LIMIT"] = "100000/minute"
    client = app.test_client()
    every = routes(app)

    def signed_in():
        if who == "admin" and client.get("/account/").status_code != 200:
            client.delete_cookie("session")
            assert login(client, "ada", PASSWORD).status_code == 302

    @FUZZ
    @given(st.data())
    def probe(data):
        signed_in()
        rule, method = data.draw(st.sampled_from(every))
        before = snapshot(app)
        response = _send(client, rule, method, data)
        status = response.status_code
        response.close()
        assert status < 500, (method, rule.rule, status, response.get_data(as_text=True)[:300])
        if 400 <= status < 500:
            assert snapshot(app) == before, (method, rule.rule, status)

    probe()
