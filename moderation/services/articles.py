"""Per-article comment settings: open or closed, and pre-moderation (every comment waits for
a moderator). The submit and scoring pipeline read these flags; admins change them here."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError

from moderation import jsonsafe
from moderation.dates import parse_moment
from moderation.extensions import db
from moderation.models import OPEN_STATES, Article, Comment, CommentState, Site, User, utcnow
from moderation.models.base import MAX_ID
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
                     after=after, headline=article.headline)
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
                                    or not 1 <= site_id <= MAX_ID
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
    key = check_key(key)
    clean = _clean(values)
    article = article_by_key(key)
    if article is None:
        if not clean.get("headline"):
            raise ArticleError("A new article needs a headline.", "headline")
        article = _inserted(key, clean)
        if article is not None:
            _logged(actor, article, None, source)
            return article, True
        article = article_by_key(key)  # another request created it first: update theirs
    before = _fields(article)
    _assign(article, clean)
    if _fields(article) == before:
        return article, False
    _logged(actor, article, before, source)
    return article, False


SLUG_TRIES = 3


def _inserted(key: str, clean: dict) -> Article | None:
    """The new article, inserted in a savepoint; None when a concurrent request inserted
    one with this key between our check and our insert. A slug taken meanwhile by another
    article is chosen again, a few times."""
    for _ in range(SLUG_TRIES):
        article = Article(external_key=key, slug=_free_slug(key), body="", tags=[],
                          section="", byline="", published_at=utcnow(), created_at=utcnow())
        _assign(article, clean)
        try:
            with db.session.begin_nested():
                db.session.add(article)
                db.session.flush()
            return article
        except IntegrityError:
            if article_by_key(key) is not None:
                return None
    raise ArticleError("The article could not be given an address: others are being created "
                       "with the same one right now. Try again.", "key")


def upsert_outcome(actor: User | None, key: str, values: dict, *,
                   source: str = "api") -> tuple[Article, str]:
    """upsert(), saying what it did: "created", "updated" or "unchanged"."""
    existing = article_by_key(check_key(key))
    before = _fields(existing) if existing is not None else None
    article, created = upsert(actor, key, values, source=source)
    if created:
        return article, "created"
    return article, "unchanged" if _fields(article) == before else "updated"


def _assign(article: Article, clean: dict) -> None:
    for field, value in clean.items():
        if field == "published_at" and value is None:
            value = article.published_at  # not given a date: keep the one it has
        setattr(article, field, value)


def _logged(actor: User | None, article: Article, before: dict | None, source: str) -> None:
    """Flush the change, record it in the admin log, and announce a new article."""
    from moderation.services import events

    db.session.flush()
    admin_log.record(actor, "article.create" if before is None else "article.update",
                     f"article {article.external_key or article.slug}", before=before,
                     after=_fields(article), source=source)
    if before is None:
        events.emit("article.created", events.article_data(article))


def _free_key(key: str | None, article: Article | None = None) -> str | None:
    """A key checked and not used by another article; None for no key (a hand-made one)."""
    if not (key or "").strip():
        return None
    key = check_key(key)
    holder = article_by_key(key)
    if holder is not None and holder is not article:
        raise ArticleError(f"Another article already has the key {key} "
                           f"(“{holder.headline}”).", "key")
    return key


def create(actor: User | None, values: dict, *, key: str | None = None,
           source: str = "admin") -> Article:
    """A new article made by hand. The key (the CMS's id) is optional: without one the
    article is known by its slug, and a key can be given later to link it to the CMS."""
    key = _free_key(key)
    clean = _clean(values)
    if not clean.get("headline"):
        raise ArticleError("A new article needs a headline.", "headline")
    article = Article(external_key=key, slug=_free_slug(key or clean["headline"]), body="",
                      tags=[], section="", byline="", published_at=utcnow(),
                      created_at=utcnow())
    db.session.add(article)
    _assign(article, clean)
    _logged(actor, article, None, source)
    return article


_KEEP_KEY = object()


def update(actor: User | None, article: Article, values: dict, *, key=_KEEP_KEY,
           source: str = "admin") -> bool:
    """Change the fields given (and the key, when given: None or "" removes it); False when
    nothing changes, and then nothing is logged. The same checks as upsert."""
    clean = _clean(values)
    if key is not _KEEP_KEY:
        clean["external_key"] = _free_key(key, article)
    before = _fields(article)
    _assign(article, clean)
    if _fields(article) == before:
        return False
    _logged(actor, article, before, source)
    return True


def _fields(article: Article) -> dict:
    return {"key": article.external_key, "headline": article.headline,
            "canonical_url": article.canonical_url,
            "section": article.section, "byline": article.byline,
            "published_at": article.published_at.isoformat() if article.published_at else None,
            "comments_open": article.comments_open, "premoderate": article.premoderate,
            "site_id": article.site_id}


# Reading them back: newest first, walked by keyset on (published_at, id).

MAX_PAGE = 200


@dataclass(frozen=True)
class ArticlePage:
    articles: list[Article]
    next_cursor: str | None


def page(*, limit: int = 50, cursor: str | None = None,
         site_id: int | None = None) -> ArticlePage:
    query = db.select(Article).order_by(Article.published_at.desc(), Article.id.desc())
    if site_id is not None:
        query = query.where(Article.site_id == site_id)
    if cursor:
        at, last_id = _decode(cursor)
        query = query.where(db.or_(Article.published_at < at, db.and_(
            Article.published_at == at, Article.id < last_id)))
    found = list(db.session.execute(query.limit(limit + 1)).scalars())
    more = len(found) > limit
    found = found[:limit]
    next_cursor = None
    if more:
        position = {"at": found[-1].published_at.isoformat(), "id": found[-1].id}
        raw = json.dumps(position, separators=(",", ":")).encode()
        next_cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return ArticlePage(found, next_cursor)


def _decode(cursor: str) -> tuple[datetime, int]:
    """A cursor made by page(); anything else is a clear error, never a value that reaches
    SQL unchecked."""
    broken = ArticleError("That page link is broken: start from the first page.", "cursor")
    try:
        if len(cursor) > 200:
            raise ValueError("too long")
        position = jsonsafe.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(position["at"])
        last_id = position["id"]
    except (binascii.Error, ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise broken from None
    if at.tzinfo is not None or isinstance(last_id, bool) or not isinstance(last_id, int) \
            or not 0 < last_id < 2**31:
        raise broken
    return at, last_id


def site_named(name: str) -> Site:
    """The site called `name` (as the CLI names it); an ArticleError if there is none."""
    site = db.session.execute(
        db.select(Site).where(Site.name == (name or "").strip())).scalar_one_or_none()
    if site is None:
        raise ArticleError(f"There is no site called {name!r}.", "site_id")
    return site
