"""Build state through the ORM, the way the app does."""

from __future__ import annotations

import itertools
import secrets
from datetime import timedelta

from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Role, utcnow
from moderation.services.authors import author_key
from moderation.services.users import create_user

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


def make_article(**fields) -> Article:
    n = next(_counter)
    values = {
        "slug": f"story-{n}",
        "section": "Local",
        "headline": f"Story number {n}",
        "byline": "By A. Reporter",
        "published_at": utcnow() - timedelta(days=1),
        "tags": ["Town"],
        "body": "First paragraph.\n\nSecond paragraph.",
        "comments_open": True,
    }
    values.update(fields)
    article = Article(**values)
    db.session.add(article)
    db.session.flush()
    return article


def make_comment(article: Article, body: str = "A kind remark.", **fields) -> Comment:
    values = {
        "author_name": "Reader",
        "public_token": secrets.token_urlsafe(24),
        "state": CommentState.PENDING,
    }
    values.update(fields)
    values.setdefault("author_key", author_key(values["author_name"], values.get("author_email"),
                                               values.get("ip_hash")))
    comment = Comment(article=article, body=body, **values)
    db.session.add(comment)
    db.session.flush()
    return comment


def make_user(username: str = "mod", role: Role = Role.MODERATOR, password: str = PASSWORD):
    user = create_user(username, password, role)
    db.session.flush()
    return user


def commit():
    db.session.commit()
