"""Sites (which origins may embed comments), articles kept in sync with a CMS by their key,
and the outbox events a change writes in its own transaction."""

import pytest

from moderation.extensions import db
from moderation.models import AdminEvent, Article, OutboxEvent, utcnow
from moderation.services import articles, sites
from moderation.services.sites import SiteError


@pytest.mark.parametrize("typed, origin", [
    ("https://News.Example", "https://news.example"),
    ("https://news.example:443/", "https://news.example"),
    ("http://localhost:8001", "http://localhost:8001"),
    ("http://127.0.0.1:80", "http://127.0.0.1"),
])
def test_an_origin_is_normalised(typed, origin):
    assert sites.parse_origin(typed) == origin


@pytest.mark.parametrize("typed", [
    "news.example", "ftp://news.example", "https://news.example/comments",
    "https://user:pw@news.example", "https://news.example?x=1", "https://*.example",
    "https://a.*.news.example", "javascript:alert(1)", "https://news..example", "",
    "https://news.example:99999",
])
def test_anything_but_an_origin_is_refused_with_a_reason(typed):
    with pytest.raises(SiteError) as refused:
        sites.parse_origins([typed]) if typed else sites.parse_origin(typed)
    assert "origin" in str(refused.value) or "wildcard" in str(refused.value) \
        or "host" in str(refused.value)


def test_a_wildcard_covers_subdomains_only_and_only_on_its_scheme():
    pattern = sites.parse_origin("https://*.news.example", wildcard=True)
    assert sites.origin_matches(pattern, "https://www.news.example")
    assert sites.origin_matches(pattern, "https://a.b.news.example")
    assert not sites.origin_matches(pattern, "https://news.example")
    assert not sites.origin_matches(pattern, "http://www.news.example")
    assert not sites.origin_matches(pattern, "https://evilnews.example")
    assert not sites.origin_matches(pattern, "https://news.example.evil.test")


def test_a_site_is_found_by_the_origin_a_browser_sends(ctx):
    site = sites.save(None, None, name="Daily Bugle",
                      origins="https://bugle.example\nhttps://*.bugle.example\n",
                      allow_anonymous=True, auto_register=True)
    db.session.commit()
    assert site.origins == ["https://bugle.example", "https://*.bugle.example"]
    assert sites.site_for_origin("https://m.bugle.example") == site
    assert sites.site_for_origin("https://bugle.example:443") == site
    for foreign in ("https://planet.example", "null", None, "not an origin"):
        assert sites.site_for_origin(foreign) is None
    assert sites.allows(site, "https://bugle.example")
    assert not sites.allows(site, "https://bugle.example.evil.test")


@pytest.mark.parametrize("theirs, ours", [
    ("https://bugle.example", "https://bugle.example:443"),
    ("https://*.bugle.example", "https://m.bugle.example"),
    ("https://m.bugle.example", "https://*.bugle.example"),
    ("https://*.bugle.example", "https://*.sport.bugle.example"),
    ("https://*.sport.bugle.example", "https://*.bugle.example"),
])
def test_an_origin_another_site_covers_is_refused_naming_that_site(ctx, theirs, ours):
    bugle = sites.save(None, None, name="Daily Bugle", origins=[theirs],
                       allow_anonymous=True, auto_register=False)
    with pytest.raises(SiteError, match="“Daily Bugle” already has"):
        sites.save(None, None, name="Planet", origins=["https://planet.example", ours],
                   allow_anonymous=True, auto_register=False)
    planet = sites.save(None, None, name="Planet", origins=["https://planet.example"],
                        allow_anonymous=True, auto_register=False)
    with pytest.raises(SiteError, match="Daily Bugle"):
        sites.save(None, planet, name="Planet", origins=[ours], allow_anonymous=True,
                   auto_register=False)
    # A site's own origins never clash with themselves when it is saved again.
    sites.save(None, bugle, name="Daily Bugle", origins=[theirs], allow_anonymous=False,
               auto_register=False)


@pytest.mark.parametrize("first, second", [
    ("https://*.bugle.example", "https://bugle.example"),
    ("https://*.bugle.example", "http://m.bugle.example"),
    ("https://*.bugle.example", "https://m.bugle.example:8443"),
    ("https://*.bugle.example", "https://*.notbugle.example"),
])
def test_origins_that_no_address_shares_do_not_overlap(first, second):
    assert not sites.origins_overlap(first, second)
    assert not sites.origins_overlap(second, first)


def test_a_site_keeps_its_secret_when_the_form_leaves_it_empty(ctx):
    secret = "s" * 40
    site = sites.save(None, None, name="Bugle", origins=["https://bugle.example"],
                      allow_anonymous=False, auto_register=False, sso_secret=secret)
    sites.save(None, site, name="Bugle", origins=["https://bugle.example"],
               allow_anonymous=False, auto_register=False, sso_secret="")
    assert site.sso_secret == secret
    with pytest.raises(SiteError, match="at least 32"):
        sites.save(None, site, name="Bugle", origins=[], allow_anonymous=True,
                   auto_register=False, sso_secret="short")
    with pytest.raises(SiteError, match="already a site"):
        sites.save(None, None, name="Bugle", origins=[], allow_anonymous=True,
                   auto_register=False)


def test_upsert_creates_once_then_changes_only_what_is_given(ctx):
    article, created = articles.upsert(None, "2024/05/flood-barrier", {
        "headline": "Council approves a flood barrier",
        "canonical_url": "https://bugle.example/2024/05/flood-barrier",
        "section": "Local", "published_at": "2024-05-01T09:00:00+02:00"})
    db.session.commit()
    assert created and article.slug == "2024-05-flood-barrier"
    assert article.published_at.isoformat() == "2024-05-01T07:00:00"
    again, created = articles.upsert(None, "2024/05/flood-barrier", {
        "headline": "Council approves a flood barrier"})
    assert (again.id, created) == (article.id, False)
    changed, _ = articles.upsert(None, "2024/05/flood-barrier", {"comments_open": False})
    db.session.commit()
    assert changed.comments_open is False and changed.section == "Local"
    kinds = list(db.session.execute(db.select(OutboxEvent.kind)).scalars())
    assert kinds == ["article.created"]
    actions = list(db.session.execute(db.select(AdminEvent.action)).scalars())
    assert actions == ["article.create", "article.update"]


@pytest.mark.parametrize("key, values, field", [
    ("", {"headline": "x"}, "key"),
    ("has space", {"headline": "x"}, "key"),
    ("k" * 201, {"headline": "x"}, "key"),
    ("new-one", {"section": "Local"}, "headline"),
    ("new-one", {"headline": "  "}, "headline"),
    ("new-one", {"headline": "x", "canonical_url": "javascript:alert(1)"}, "canonical_url"),
    ("new-one", {"headline": "x", "published_at": "yesterday"}, "published_at"),
    ("new-one", {"headline": "x", "comments_open": "yes"}, "comments_open"),
    ("new-one", {"headline": "x", "site_id": 999}, "site_id"),
    ("new-one", {"headline": "x", "body": "no"}, "body"),
    ("new-one", {"headline": 7}, "headline"),
])
def test_upsert_refuses_bad_fields_and_stores_nothing(ctx, key, values, field):
    with pytest.raises(articles.ArticleError) as refused:
        articles.upsert(None, key, values)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.execute(db.select(db.func.count()).select_from(Article)).scalar_one() == 0
    assert db.session.execute(db.select(OutboxEvent)).first() is None


def test_two_keys_that_slugify_alike_get_different_slugs(ctx):
    first, _ = articles.upsert(None, "a/b", {"headline": "One"})
    second, _ = articles.upsert(None, "a.b", {"headline": "Two"})
    assert first.slug == "a-b" and second.slug == "a-b-2"


def _rival_inserts_first(monkeypatch, **row) -> None:
    """Another request commits an article after we checked the key and chose a slug, before
    our insert."""
    real_free_slug = articles._free_slug
    calls = []

    def free_slug_then_the_rival(key):
        slug = real_free_slug(key)
        if not calls:
            values = {"section": "", "byline": "", "body": "", "tags": [],
                      "published_at": utcnow(), "created_at": utcnow(), **row}
            with db.engine.begin() as other:  # its own connection and transaction
                other.execute(db.insert(Article.__table__).values(**values))
        calls.append(key)
        return slug

    monkeypatch.setattr(articles, "_free_slug", free_slug_then_the_rival)


def test_two_upserts_of_one_new_article_race_into_one_article(ctx, monkeypatch):
    _rival_inserts_first(monkeypatch, external_key="2024/05/race", slug="2024-05-race",
                         headline="Theirs")
    article, created = articles.upsert(None, "2024/05/race", {"headline": "Ours"})
    db.session.commit()
    assert created is False and article.headline == "Ours"
    keys = db.session.execute(db.select(Article.external_key)).scalars().all()
    assert keys == ["2024/05/race"]


def test_a_slug_taken_during_the_insert_is_chosen_again(ctx, monkeypatch):
    _rival_inserts_first(monkeypatch, external_key="other-key", slug="2024-05-race",
                         headline="Another story")
    article, created = articles.upsert(None, "2024/05/race", {"headline": "Ours"})
    db.session.commit()
    assert created and article.slug == "2024-05-race-2"
    assert db.session.execute(db.select(db.func.count()).select_from(Article)).scalar_one() == 2
