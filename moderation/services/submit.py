"""A reader's comment: stored first, scored later by the worker, never inside the request."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy.orm import Session, object_session

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Site, utcnow
from moderation.services import authors, events, review_time, sanctions, webhooks
from moderation.services.importer import ARCHIVE_SLUG

# A second identical post from the same address within this window is a replay (a double
# click, a resent form), not a new comment.
REPLAY_WINDOW = timedelta(minutes=10)


class CommentsClosed(Exception):
    """The article does not take comments."""


class ArticleGone(CommentsClosed):
    """The article was deleted while the post was on its way."""


class Refused(Exception):
    """The author is banned or suspended: nothing was stored. The message is for them."""


def hash_ip(ip: str | None, secret: str) -> str | None:
    """Moderators can tell posts from one address apart without anyone storing the address."""
    if not ip:
        return None
    return hmac.new(secret.encode(), ip.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ArticleRef:
    """What taking a comment needs of its article. Read at most every ARTICLE_SECONDS per
    process (a story's comments come in bursts; the article row rarely changes, and this
    process forgets it as soon as it changes it): a post then costs no article query.
    Whether comments are open is checked again by the insert itself (submit_comment), so
    closing an article takes effect at once in every process."""
    id: int
    slug: str
    headline: str
    comments_open: bool
    site_id: int | None
    external_key: str | None
    canonical_url: str | None


ARTICLE_SECONDS = 2.0
_REFS_MAX = 2000
_generation = 0  # bumped whenever this process changes an article


def article_for_post(slug: str) -> ArticleRef | None:
    if slug == ARCHIVE_SLUG:
        return None
    now = time.monotonic()
    refs = current_app.extensions.setdefault("moderation.article_refs", {})  # per database
    cached = refs.get(slug)
    if cached is not None and cached[0] > now and cached[1] == _generation:
        return cached[2]
    generation = _generation
    row = db.session.connection().execute(_ARTICLE_REF, {"slug": slug}).first()
    if row is None:
        return None
    if len(refs) >= _REFS_MAX:
        refs.clear()
    ref = ArticleRef(*row)
    refs[slug] = (now + ARTICLE_SECONDS, generation, ref)
    return ref


def forget_articles(*_args) -> None:
    """An article changed in this process: read them all afresh."""
    global _generation
    _generation += 1


def _article_changed(_mapper, _connection, target) -> None:
    """At flush, and again when that session commits: a thread that read the old row in
    between must not keep it."""
    forget_articles()
    session = object_session(target)
    if session is not None:
        session.info["moderation.articles_changed"] = True


def _forget_after_commit(session) -> None:
    if session.info.pop("moderation.articles_changed", False):
        forget_articles()


def ensure_open(article: Article | ArticleRef) -> None:
    if not article.comments_open:
        raise CommentsClosed(f"Comments on “{article.headline}” are closed.")


def sign_in_needed(article: Article) -> str | None:
    """Why the plain article form cannot take a post here, when the article belongs to a site
    whose readers must sign in on the site itself (the embed, with the site's token, is the
    only way in); None when it can. Articles of no site cost no query."""
    if article.site_id is None:
        return None
    site = db.session.get(Site, article.site_id)
    if site is None or site.allow_anonymous:
        return None
    return (f"Comments on this article are for readers signed in on {site.name}: sign in "
            "there and comment under the article on the site itself.")


@dataclass(frozen=True)
class Posted:
    """What the reader's post made (or, replayed, had already made): its id and the token of
    its status page."""
    id: int
    public_token: str


def submit_comment(
    article: Article | ArticleRef, *, author_name: str, author_email: str | None, body: str,
    ip_hash: str | None, reader_id: str | None = None,
) -> Posted:
    """`reader_id`: a reader signed in through the site's CMS (services/sso).

    One statement stores the comment, and only if the article is open, the author is not
    banned or suspended, and the same post was not made a moment ago; on the rare post it
    does not store, the reason is looked up: the earlier comment of a replay is returned,
    Refused or CommentsClosed raised (closed a moment ago in another process, too)."""
    ensure_open(article)
    author_name, body = author_name.strip(), body.strip()
    digest = post_digest(article, author_name, body, ip_hash, reader_id)
    values = {
        "post_digest": digest,
        "article_id": article.id,
        "author_key": authors.author_key(author_name, author_email, ip_hash, reader_id),
        "author_name": author_name,
        "author_email": (author_email or "").strip() or None,
        "body": body,
        "ip_hash": ip_hash,
        "public_token": secrets.token_urlsafe(24),
        "state": CommentState.PENDING,
        "created_at": utcnow(),
        "reader_id": reader_id,
    }
    checks = {"open_article_id": article.id, "replay_digest": digest,
              "replay_since": values["created_at"] - REPLAY_WINDOW,
              **sanctions.refusing_parameters(values["author_key"], author_email, ip_hash)}
    # Without an address two readers could share a digest: no replay check then.
    statement = _INSERT_CHECKED if ip_hash else _INSERT_CHECKED_NO_REPLAY
    # Core, on the session's connection and transaction: no unit-of-work bookkeeping.
    comment_id = db.session.connection().execute(
        statement, {**values, **checks}).scalar_one_or_none()
    if comment_id is None:
        return _not_stored(article, values, checks, author_email, reader_id)
    if webhooks.wants("comment.created"):  # cached per process: no statement when nobody listens
        posted = Comment(id=comment_id, **values)  # transient: never added to the session
        events.emit("comment.created", events.comment_data(posted, article))
    return Posted(comment_id, values["public_token"])


def _not_stored(article, values: dict, checks: dict, author_email: str | None,
                reader_id: str | None):
    """Why the insert stored nothing, asked with the insert's own clock, in the order a
    reader should hear it."""
    refused = sanctions.refusal_for(values["author_name"], author_email, values["ip_hash"],
                                    reader_id, now=checks["refuse_now"])
    if refused:
        raise Refused(refused)
    if values["ip_hash"]:
        replayed = _recent_duplicate(values["post_digest"], since=checks["replay_since"])
        if replayed is not None:
            return Posted(replayed.id, replayed.public_token)
    forget_articles()
    still_open = db.session.connection().execute(
        db.select(Article.comments_open).where(Article.id == article.id)).scalar_one_or_none()
    if still_open is None:
        raise ArticleGone("This article is no longer here; nothing was saved.")
    raise CommentsClosed(f"Comments on “{article.headline}” are closed.")


def post_digest(article: Article, author_name: str, body: str, ip_hash: str | None,
                reader_id: str | None = None) -> str:
    """The same post again (a double click, a retry after the reader's connection dropped)
    has the same digest. Two signed-in readers are two people whatever names they use, even
    behind one address (an office, a proxy); an anonymous post's digest is as it was."""
    parts = (str(article.id), ip_hash or "", author_name, body)
    basis = "\x1f".join((*parts, reader_id) if reader_id else parts)
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def _recent_duplicate(digest: str, since=None):
    """One indexed lookup (post_digest, created_at), however many comments the address or
    the site has: a retried post returns the comment it already made, never a second one.
    A plain row (id, public_token) on the session's connection: no ORM object per post."""
    return db.session.connection().execute(
        _RECENT_DUPLICATE, {"digest": digest, "since": since or utcnow() - REPLAY_WINDOW}
    ).first()


# Statements run on every comment post, built once.
_COLUMNS = ("post_digest", "article_id", "author_key", "author_name", "author_email", "body",
            "ip_hash", "public_token", "state", "created_at", "reader_id")
_RECENT_DUPLICATE = (
    db.select(Comment.id, Comment.public_token)
    .where(Comment.post_digest == db.bindparam("digest"),
           Comment.created_at >= db.bindparam("since"))
    .order_by(Comment.id.desc())
    .limit(1)
)


def _insert_checked(replay: bool):
    """INSERT … SELECT the post's values FROM its article WHERE the article is open AND no
    ban or suspension matches [AND no identical post was stored since :replay_since]."""
    table = Comment.__table__
    replayed = db.exists().where(table.c.post_digest == db.bindparam("replay_digest"),
                                 table.c.created_at >= db.bindparam("replay_since"))
    checks = [Article.id == db.bindparam("open_article_id"), Article.comments_open.is_(True),
              ~sanctions.refusing_exists()] + ([~replayed] if replay else [])
    return db.insert(table).from_select(
        _COLUMNS,
        db.select(*[db.bindparam(name, type_=table.c[name].type) for name in _COLUMNS])
        .where(*checks),
    ).returning(table.c.id)


_INSERT_CHECKED = _insert_checked(replay=True)
_INSERT_CHECKED_NO_REPLAY = _insert_checked(replay=False)
_ARTICLE_REF = db.select(
    Article.id, Article.slug, Article.headline, Article.comments_open, Article.site_id,
    Article.external_key, Article.canonical_url,
).where(Article.slug == db.bindparam("slug"))


def was_taken_down(comment: Comment) -> bool:
    """Published, then removed by a moderator: what the reader's status page says."""
    from moderation.services.decide import is_take_down
    from moderation.services.lifecycle import last_decision

    if comment.state is not CommentState.REJECTED:
        return False
    last = last_decision(comment.id)
    return last is not None and is_take_down(last)


def reader_progress(comment: Comment) -> tuple[str, str]:
    """(state, message) for the reader who posted it: pending, published, waiting (for a
    moderator) or not published. Says nothing of the text, the scores or a moderator's reason."""
    if comment.state is CommentState.PENDING:
        return "pending", "Your comment is being checked. This usually takes a few seconds."
    if comment.state is CommentState.APPROVED:
        return "published", "Your comment is published."
    if comment.state.awaits_moderator:
        return "waiting", ("Your comment is held for review: a moderator will read it before "
                           f"it appears, {review_time.typical_wait()}.")
    if was_taken_down(comment):
        return "not published", ("Your comment was removed: it did not meet our community "
                                 "guidelines.")
    return "not published", ("Your comment was not published: it did not meet our community "
                             "guidelines.")


def comment_by_id(comment_id: int) -> Comment | None:
    return db.session.get(Comment, comment_id)


def comment_by_token(token: str) -> Comment | None:
    return db.session.execute(
        db.select(Comment).where(Comment.public_token == token)
    ).scalar_one_or_none()


# Imported history (another tool's past decisions) feeds replay and suggestions; it is never
# shown to readers as if it had been posted here.
_PUBLISHED = (Comment.state == CommentState.APPROVED, Comment.import_id.is_(None))


COMMENTS_PER_PAGE = 50


@dataclass
class CommentPage:
    comments: list[Comment]
    total: int
    older_than: int | None  # the id to ask for the next (older) page from; None at the end


def published_comments(article: Article, *, before: int | None = None,
                       limit: int = COMMENTS_PER_PAGE) -> CommentPage:
    """Newest first, a page at a time by keyset on (created_at, id), with the total: an
    article with 5,000 comments costs what one with 5 does."""
    query = db.select(Comment).where(Comment.article_id == article.id, *_PUBLISHED)
    if before is not None:
        anchor = db.session.execute(
            db.select(Comment.created_at).where(Comment.id == before,
                                                Comment.article_id == article.id)
        ).scalar_one_or_none()
        if anchor is not None:
            query = query.where(db.tuple_(Comment.created_at, Comment.id) < (anchor, before))
    rows = list(db.session.execute(
        query.order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit + 1)
    ).scalars())
    total = db.session.execute(
        db.select(db.func.count()).select_from(Comment)
        .where(Comment.article_id == article.id, *_PUBLISHED)).scalar_one()
    more = len(rows) > limit
    return CommentPage(rows[:limit], total, rows[limit - 1].id if more else None)


def published_counts() -> dict[int, int]:
    rows = db.session.execute(
        db.select(Comment.article_id, db.func.count())
        .where(*_PUBLISHED)
        .group_by(Comment.article_id)
    )
    return dict(rows.all())


def neighbours(comment: Comment, count: int = 2) -> tuple[list[Comment], list[Comment]]:
    """The published comments just before and just after `comment` on its article, oldest
    first: the conversation a moderator reads it in."""
    base = db.select(Comment).where(Comment.article_id == comment.article_id,
                                    Comment.id != comment.id, *_PUBLISHED)
    position = (Comment.created_at, Comment.id)
    before = list(db.session.execute(
        base.where(db.tuple_(*position) < (comment.created_at, comment.id))
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(count)).scalars())
    after = list(db.session.execute(
        base.where(db.tuple_(*position) > (comment.created_at, comment.id))
        .order_by(Comment.created_at, Comment.id).limit(count)).scalars())
    return before[::-1], after


def article_by_slug(slug: str) -> Article | None:
    """An article readers can open: the archive that holds imported history is not one."""
    if slug == ARCHIVE_SLUG:
        return None
    return db.session.execute(_ARTICLE_BY_SLUG, {"slug": slug}).scalar_one_or_none()


_ARTICLE_BY_SLUG = db.select(Article).where(Article.slug == db.bindparam("slug"))
db.event.listen(Article, "after_update", _article_changed)
db.event.listen(Article, "after_delete", _article_changed)
db.event.listen(Session, "after_commit", _forget_after_commit)


def list_articles() -> list[Article]:
    return list(
        db.session.execute(
            db.select(Article).where(Article.slug != ARCHIVE_SLUG)
            .order_by(Article.published_at.desc())
        ).scalars()
    )
