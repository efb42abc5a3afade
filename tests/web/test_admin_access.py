"""Every address under /admin, including pages added later, is for admins only: anonymous
visitors are sent to sign in and moderators get 403, and neither changes anything."""

import pytest
from flask import url_for

from moderation.extensions import db
from moderation.models import Role
from tests.conftest import login
from tests.factories import PASSWORD, make_article, make_comment, make_user

# Plausible form data, so a route that forgot its guard would really act on it.
FORM = {"username": "intruder", "role": "admin", "password": "intruder password",
        "comments_open": "", "premoderate": "y", "name": "x", "note": "x"}


def admin_requests(app) -> list[tuple[str, str]]:
    """(method, url) for every rule under /admin, <...> parameters filled with 1."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.rule.startswith("/admin"):
                continue
            url = url_for(rule.endpoint, **{name: 1 for name in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, url))
    return found


def snapshot(app) -> dict:
    """Every row of every table: what "nothing changed" means."""
    with app.app_context():
        return {table.name: db.session.execute(
                    table.select().order_by(*table.primary_key.columns)).all()
                for table in db.metadata.sorted_tables}


@pytest.fixture
def targets(app):
    """Id 1 is a real user, article and comment, so a missing guard would not hide behind
    a 404."""
    with app.app_context():
        ada = make_user("ada", role=Role.ADMIN)
        article = make_article()
        comment = make_comment(article)
        db.session.commit()
        assert ada.id == article.id == comment.id == 1


def call(client, method, url):
    return client.open(url, method=method, data=FORM if method != "GET" else None)


def test_the_walk_covers_the_admin_pages_known_today(app):
    urls = {(method, url) for method, url in admin_requests(app)}
    for expected in [("GET", "/admin/"), ("GET", "/admin/users"), ("POST", "/admin/users"),
                     ("POST", "/admin/users/1/deactivate"), ("POST", "/admin/users/1/role"),
                     ("GET", "/admin/articles"), ("POST", "/admin/articles/1/settings")]:
        assert expected in urls


def test_anonymous_visitors_are_sent_to_sign_in_and_change_nothing(app, client, targets):
    before = snapshot(app)
    for method, url in admin_requests(app):
        response = call(client, method, url)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login?next="), (method, url)
    assert snapshot(app) == before


def test_moderators_are_refused_with_403_and_change_nothing(app, client, targets):
    with app.app_context():
        make_user("maria")
        db.session.commit()
    assert login(client, "maria", PASSWORD).status_code == 302
    before = snapshot(app)
    for method, url in admin_requests(app):
        response = call(client, method, url)
        assert response.status_code == 403, (method, url)
    assert snapshot(app) == before
