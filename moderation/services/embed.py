"""What the embed shows on a news site's article page: which site it is on (by the origin the
page says it is on, which the browser then enforces through frame-ancestors), which article
(registered from the page on first load where the site allows it), and the published
comments, newest or oldest first, a page at a time by keyset."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Site
from moderation.services import articles, sites

PER_PAGE = 20
ORDERS = ("newest", "oldest")
_FONT = re.compile(r"[\w\s,\"'-]{1,200}")
# What readers see: imported history is approved but never shown (as in services/submit).
_PUBLISHED = (Comment.state == CommentState.APPROVED, Comment.import_id.is_(None))


class EmbedError(Exception):
    """The embed cannot be shown; `status` is the HTTP status, the message is for a reader."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def site_for(origin: str | None) -> Site:
    site = sites.site_for_origin(origin)
    if site is None:
        raise EmbedError("Comments cannot be shown here: this page's address is not one of "
                         "the sites registered with the comment service.", 403)
    return site


def frame_ancestors(site: Site) -> str:
    """The CSP directive that lets only the site's own pages frame the embed."""
    return "frame-ancestors " + " ".join(site.origins or ["'none'"])


def _origin_of(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    if not parts.scheme or not parts.netloc:
        return None
    return sites.normal_origin(f"{parts.scheme}://{parts.netloc}")


def check_frame_load(origin: str | None, *, fetch_dest: str | None, fetch_site: str | None,
                     fetch_mode: str | None, referer: str | None) -> None:
    """The request looks like a browser drawing the embed's iframe on a page of `origin`: a
    browser that sends Sec-Fetch headers says Sec-Fetch-Dest: iframe, and a Referer, where
    there is one, is on that origin. Only a hurdle: a script can send the same headers."""
    if (fetch_dest or fetch_site or fetch_mode) and fetch_dest != "iframe":
        raise EmbedError("A new article is registered only when its page loads the comments "
                         "in a frame; open the comments from the article's page.", 403)
    if referer and _origin_of(referer) != sites.normal_origin(origin):
        raise EmbedError("This article cannot be registered from here: the page that loaded "
                         "the comments is not the one it says it is.", 403)


def _headline(title: str | None, key: str) -> str:
    """The page's title as a headline: printable characters, spaces collapsed, at most 300
    characters; the key when there is none."""
    printable = "".join(ch for ch in (title or "")[:2000] if ch.isprintable() or ch.isspace())
    return " ".join(printable.split())[:300].strip() or key


def article_for(site: Site, key: str, url: str | None = None, title: str | None = None,
                admit: Callable[[], None] | None = None) -> tuple[Article, bool]:
    """(the article, created now). An unknown key is registered from the page when the site
    auto-registers and the page's address is one of its origins; otherwise a 404. `admit`
    runs just before a new article is created and may refuse it (an EmbedError): the
    caller's checks that the request is a browser's frame load, and its rate limit."""
    try:
        key = articles.check_key(key)
    except articles.ArticleError as error:
        raise EmbedError(str(error), 400) from None
    found = articles.article_by_key(key)
    if found is not None:
        if found.site_id not in (None, site.id):
            raise EmbedError("This article belongs to another site.", 404)
        return found, False
    if not site.auto_register:
        raise EmbedError("Comments are not set up for this article yet: the newsroom has to "
                         "register it first.", 404)
    if not sites.allows(site, _origin_of(url)):
        raise EmbedError("This article cannot be registered from here: its address is not "
                         f"on {site.name}.", 404)
    if admit is not None:
        admit()
    try:
        article, _ = articles.upsert(None, key, {"headline": _headline(title, key),
                                                 "canonical_url": url, "site_id": site.id},
                                     source="embed")
    except articles.ArticleError as error:
        raise EmbedError(str(error), 400) from None
    return article, True


def theme_for(site: Site, asked: str | None) -> str:
    return asked if asked in sites.THEMES else site.theme or "auto"


def font_for(site: Site, asked: str | None) -> str | None:
    asked = (asked or "").strip()
    return asked if asked and _FONT.fullmatch(asked) else site.font


@dataclass
class CommentPage:
    comments: list[Comment]
    total: int
    order: str
    next_after: int | None  # the id the next page starts after; None at the end


def published_page(article: Article, *, order: str = "newest", after: int | None = None,
                   limit: int = PER_PAGE) -> CommentPage:
    """Published comments in `order`, starting after comment `after` (keyset on
    (created_at, id)), with the article's total."""
    order = order if order in ORDERS else "newest"
    query = db.select(Comment).where(Comment.article_id == article.id, *_PUBLISHED)
    position = db.tuple_(Comment.created_at, Comment.id)
    if after is not None:
        anchor = db.session.execute(
            db.select(Comment.created_at).where(Comment.id == after,
                                                Comment.article_id == article.id)
        ).scalar_one_or_none()
        if anchor is not None:
            query = query.where(position < (anchor, after) if order == "newest"
                                else position > (anchor, after))
    columns = (Comment.created_at, Comment.id)
    ordering = [column.desc() for column in columns] if order == "newest" else list(columns)
    rows = list(db.session.execute(query.order_by(*ordering).limit(limit + 1)).scalars())
    total = db.session.execute(
        db.select(db.func.count()).select_from(Comment)
        .where(Comment.article_id == article.id, *_PUBLISHED)).scalar_one()
    more = len(rows) > limit
    return CommentPage(rows[:limit], total, order, rows[limit - 1].id if more else None)


def readers_own(article: Article, token: str | None) -> Comment | None:
    """The reader's own comment on this article, from its status token (kept in the iframe)."""
    if not token or len(token) > 64:
        return None
    comment = db.session.execute(
        db.select(Comment).where(Comment.public_token == token)).scalar_one_or_none()
    if comment is None or comment.article_id != article.id:
        return None
    return comment


def public_state(comment: Comment) -> str:
    """What the reader is told: being checked, published, held for a moderator, or not."""
    if comment.state is CommentState.PENDING:
        return "pending"
    if comment.state is CommentState.APPROVED:
        return "published"
    if comment.state is CommentState.REJECTED:
        return "rejected"
    return "held"
