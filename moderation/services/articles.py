"""Per-article comment settings: open or closed, and pre-moderation (every comment waits for
a moderator). The submit and scoring pipeline read these flags; admins change them here."""

from __future__ import annotations

from dataclasses import dataclass

from moderation.extensions import db
from moderation.models import OPEN_STATES, Article, Comment, CommentState, User
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
