"""Per-article comment settings: open or closed, and pre-moderation (every comment waits for
a moderator). The submit and scoring pipeline read these flags; admins change them here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from moderation.dates import parse_moment
from moderation.extensions import db
from moderation.models import OPEN_STATES, Article, Comment, CommentState, Site, User, utcnow
from moderation.services import admin_log


@dataclass(frozen=True)
class ArticleRow:
    article: Article
    waiting: int  # pending, queued or held: not yet decided
    published: int


def comment_counts() -> dict[int, tuple[int, int]]:
    """{article id: (waiting, published)}, for every article with comments, in one query."""
    waiting = db.func.sum(db.case((Comment.state.in_(OPEN_STATES), 1), else_=0))
    # What readers see: imported history is approved but never shown.
    published = db.func.sum(db.case(
        (db.and_(Comment.state == CommentState.APPROVED, Comment.import_id.is_(None)), 1),
        else_=0))
    rows = db.session.execute(
        db.select(Comment.article_id, waiting, published).group_by(Comment.article_id)
    )
    return {article_id: (int(w or 0), int(p or 0)) for article_id, w, p in rows}


def overview() -> list[ArticleRow]:
    articles = db.session.execute(
        db.select(Article).order_by(Article.published_at.desc(), Article.id.desc())
    ).scalars()
    counts = comment_counts()
    return [ArticleRow(article, *counts.get(article.id, (0, 0))) for article in articles]


def get_article(article_id: int) -> Article | None:
    return db.session.get(Article, article_id)


def _settings(article: Article) -> dict[str, bool]:
    return {"comments_open": article.comments_open, "premoderate": article.premoderate}


def update_settings(actor: User, article: Article, *, comments_open: bool,
                    premoderate: bool) -> bool:
    """False when nothing changes (and nothing is logged). Takes effect for posts and for
    comments scored from now on; comments already decided stay as they are."""
    before = _settings(article)
    article.comments_open = bool(comments_open)
    article.premoderate = bool(premoderate)
    after = _settings(article)
    if after == before:
        return False
    db.session.flush()
    admin_log.record(actor, "article.settings", f"article {article.slug}", before=before,
                     after=after)
    return True


# Articles from a CMS: created and kept in sync by its own key (the API, the CLI, the admin
# pages and an embed's first load all come through upsert).

MAX_KEY = 200
FIELDS = ("headline", "canonical_url", "section", "byline", "published_at", "comments_open",
          "premoderate", "site_id")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}")


class ArticleError(ValueError):
    """The article cannot be saved; `field` names what is wrong, the message says why."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check_key(key: str) -> str:
    key = (key or "").strip()
    if not _KEY.fullmatch(key):
        raise ArticleError("An article key is 1 to 200 letters, digits and . _ : / - (the "
                           "CMS's own id for the article, such as 2024/05/flood-barrier).",
                           "key")
    return key


def article_by_key(key: str) -> Article | None:
    return db.session.execute(
        db.select(Article).where(Article.external_key == key)).scalar_one_or_none()


def check_url(url: str | None, field: str = "canonical_url") -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500 \
            or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ArticleError("The address is a full http(s) URL of at most 500 characters, "
                           "such as https://news.example/2024/05/flood-barrier.", field)
    return url


def _text(values: dict, field: str, limit: int, label: str) -> str | None:
    value = values.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ArticleError(f"{label} is text.", field)
    value = " ".join(value.split())
    if len(value) > limit:
        raise ArticleError(f"{label} is at most {limit} characters.", field)
    return value


def _clean(values: dict) -> dict:
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ArticleError(f"Unknown field {unknown[0]!r}: an article has "
                           f"{', '.join(FIELDS)}.", unknown[0])
    clean = {}
    for field, limit, label in (("headline", 300, "The headline"), ("section", 80, "The section"),
                                ("byline", 200, "The byline")):
        if field in values:
            clean[field] = _text(values, field, limit, label) or ""
    if "headline" in clean and not clean["headline"]:
        raise ArticleError("The headline cannot be empty.", "headline")
    if "canonical_url" in values:
        clean["canonical_url"] = check_url(values["canonical_url"])
    if "published_at" in values:
        value = values["published_at"]
        if isinstance(value, str):
            try:
                value = parse_moment(value)
            except ValueError as error:
                raise ArticleError(f"The published date: {error}.", "published_at") from None
        if value is not None and not isinstance(value, datetime):
            raise ArticleError("The published date is an ISO 8601 date.", "published_at")
        clean["published_at"] = value
    for field in ("comments_open", "premoderate"):
        if field in values:
            if not isinstance(values[field], bool):
                raise ArticleError(f"{field} is true or false.", field)
            clean[field] = values[field]
    if "site_id" in values:
        site_id = values["site_id"]
        if site_id is not None and (isinstance(site_id, bool) or not isinstance(site_id, int)
                                    or db.session.get(Site, site_id) is None):
            raise ArticleError("There is no such site.", "site_id")
        clean["site_id"] = site_id
    return clean


def _free_slug(key: str) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:100] or "article"
    slug, n = base, 1
    while db.session.execute(db.select(Article.id).where(Article.slug == slug)).first():
        n += 1
        slug = f"{base}-{n}"
    return slug


def upsert(actor: User | None, key: str, values: dict, *,
           source: str = "api") -> tuple[Article, bool]:
    """Create the article with this CMS key, or change the fields given (the others stay):
    (article, created). Creating needs a headline. Idempotent: the same call twice changes
    nothing the second time (and logs nothing). Emits article.created for a new one."""
    from moderation.services import events

    key = check_key(key)
    clean = _clean(values)
    article = article_by_key(key)
    created = article is None
    if created:
        if not clean.get("headline"):
            raise ArticleError("A new article needs a headline.", "headline")
        article = Article(external_key=key, slug=_free_slug(key), body="", tags=[],
                          section="", byline="", published_at=utcnow(), created_at=utcnow())
        db.session.add(article)
    before = None if created else _fields(article)
    for field, value in clean.items():
        if field == "published_at" and value is None:
            value = article.published_at
        setattr(article, field, value)
    after = _fields(article)
    if not created and after == before:
        return article, False
    db.session.flush()
    admin_log.record(actor, "article.create" if created else "article.update",
                     f"article {key}", before=before, after=after, source=source)
    if created:
        events.emit("article.created", events.article_data(article))
    return article, created


def _fields(article: Article) -> dict:
    return {"headline": article.headline, "canonical_url": article.canonical_url,
            "section": article.section, "byline": article.byline,
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "comments_open": article.comments_open, "premoderate": article.premoderate,
            "site_id": article.site_id}
