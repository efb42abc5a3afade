"""What any page may read about an article's comments without an account: its published
comments a page at a time, and how many there are for many articles at once. Nothing here
shows what only moderators see (emails, addresses, scores, comments not published)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState
from moderation.services import articles

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
MAX_KEYS = 100
ORDERS = ("newest", "oldest")
MAX_CURSOR = 300

# What readers see: imported history is approved but never shown (as services/submit).
PUBLISHED = (Comment.state == CommentState.APPROVED, Comment.import_id.is_(None))


class PublicReadError(ValueError):
    """A request we cannot answer as asked; `field` names the culprit, the message says why."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PublicPage:
    article: Article
    comments: list[Comment]
    total: int
    next_cursor: str | None


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="moderation.public-page")


def _make_cursor(article: Article, order: str, last: Comment) -> str:
    return _serializer().dumps([article.id, order, last.created_at.isoformat(), last.id])


def _read_cursor(cursor: str, article: Article, order: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor continues after. Signed, so a cursor cannot be forged or
    edited; one made for another article or order is refused rather than misread."""
    broken = PublicReadError("That cursor is not one we gave out (or it was cut short): start "
                             "again from the first page, without a cursor.", "cursor")
    if len(cursor) > MAX_CURSOR:
        raise broken
    try:
        article_id, cursor_order, moment, comment_id = _serializer().loads(cursor)
        position = datetime.fromisoformat(moment), int(comment_id)
    except (BadSignature, ValueError, TypeError):
        raise broken from None
    if article_id != article.id:
        raise PublicReadError("That cursor belongs to another article's comments: start again "
                              "from the first page.", "cursor")
    if cursor_order != order:
        raise PublicReadError(f"That cursor was made for order={cursor_order}; ask with the "
                              "same order, or start again from the first page.", "cursor")
    return position


def check_order(order: str | None) -> str:
    order = order or ORDERS[0]
    if order not in ORDERS:
        raise PublicReadError("order must be newest or oldest.", "order")
    return order


def find_article(key: str) -> Article | None:
    """The article with this CMS key; None for a key that cannot be one."""
    try:
        key = articles.check_key(key)
    except articles.ArticleError:
        return None
    return articles.article_by_key(key)


def page(article: Article, *, order: str = "newest", cursor: str | None = None,
         limit: int = DEFAULT_LIMIT) -> PublicPage:
    """Published comments only, a page at a time by keyset on (created_at, id), so the 100th
    page costs what the first does, and a comment published meanwhile shifts nothing."""
    order = check_order(order)
    position = (Comment.created_at, Comment.id)
    query = db.select(Comment).where(Comment.article_id == article.id, *PUBLISHED)
    if cursor:
        after = _read_cursor(cursor, article, order)
        keyset = db.tuple_(*position)
        query = query.where(keyset < after if order == "newest" else keyset > after)
    if order == "newest":
        query = query.order_by(Comment.created_at.desc(), Comment.id.desc())
    else:
        query = query.order_by(Comment.created_at, Comment.id)
    rows = list(db.session.execute(query.limit(limit + 1)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return PublicPage(article, rows, count(article),
                      _make_cursor(article, order, rows[-1]) if more else None)


def count(article: Article) -> int:
    return db.session.execute(
        db.select(db.func.count()).select_from(Comment)
        .where(Comment.article_id == article.id, *PUBLISHED)).scalar_one()


_SPLIT = re.compile(r"\s*,\s*")


def parse_keys(values: list[str]) -> list[str]:
    """Keys from `keys=a,b` and/or repeated `keys=`, in the order given, without repeats.
    Blank pieces (a trailing comma) are skipped; an empty list is an error."""
    keys: dict[str, None] = {}  # ordered, and a repeat costs nothing
    for value in values:
        for piece in _SPLIT.split(value.strip()):
            if piece:
                keys[_one_key(piece)] = None
            if len(keys) > MAX_KEYS:  # stop reading: a huge list is refused as it stands
                raise PublicReadError(f"Ask for at most {MAX_KEYS} keys at a time: split "
                                      "them into several requests.", "keys")
    if not keys:
        raise PublicReadError("Give at least one article key: keys=key1,key2.", "keys")
    return list(keys)


def _one_key(piece: str) -> str:
    if len(piece) > articles.MAX_KEY:
        raise PublicReadError(f"A key can be at most {articles.MAX_KEY} characters; the one "
                              f"starting “{piece[:40]}” is longer.", "keys")
    try:
        return articles.check_key(piece)
    except articles.ArticleError as error:
        raise PublicReadError(f"“{piece[:40]}” is not an article key. {error}", "keys") \
            from None


def counts(keys: list[str]) -> dict[str, int]:
    """{key: published comments} for every key, in one query; a key no article has counts 0
    (a page may carry a key before the CMS registered its article)."""
    published = db.and_(Comment.article_id == Article.id, *PUBLISHED)
    rows = db.session.execute(
        db.select(Article.external_key, db.func.count(Comment.id))
        .select_from(Article).outerjoin(Comment, published)
        .where(Article.external_key.in_(keys))
        .group_by(Article.external_key))
    found = dict(rows.all())
    return {key: int(found.get(key, 0)) for key in keys}
