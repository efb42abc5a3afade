"""What readers' pages get back: published comments and their article, nothing moderators
alone may see (no email, address, scores or state)."""

from __future__ import annotations

from flask import url_for

from moderation.api.schema import iso
from moderation.models import Article, Comment
from moderation.services.public_comments import PublicPage


def article(found: Article, total: int) -> dict:
    url = found.canonical_url or url_for("public.article", slug=found.slug, _external=True)
    return {"key": found.external_key, "headline": found.headline, "url": url,
            "comments_open": found.comments_open, "comment_count": total}


def comment(found: Comment) -> dict:
    return {
        "id": found.id,
        "author_name": found.author_name,
        "verified": found.reader_id is not None,  # signed in through the site's CMS
        "body": found.body,
        "created_at": iso(found.created_at),
        "report_url": url_for("public_api.report", comment_id=found.id, _external=True),
    }


def page(found: PublicPage) -> dict:
    return {"article": article(found.article, found.total),
            "comments": [comment(item) for item in found.comments],
            "next_cursor": found.next_cursor}
