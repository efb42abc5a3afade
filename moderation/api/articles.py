"""Articles in the JSON API, for a CMS keeping its articles in sync by its own key:
PUT /api/v1/articles/<key> creates or changes one (idempotent), GET reads one or pages through
them, newest first. Admins (and publisher tokens) write; moderators read."""

from flask import request, url_for

from moderation.api import auth, schema
from moderation.api.routes import bp
from moderation.api.schema import ApiError, iso
from moderation.extensions import db
from moderation.models import Article
from moderation.services import articles


def article_json(article: Article) -> dict:
    """The article, its FIELDS under their own names (a GET's fields can be PUT back)."""
    return {
        "key": article.external_key,
        "id": article.id,
        "slug": article.slug,
        "headline": article.headline,
        "canonical_url": article.canonical_url,
        "section": article.section,
        "byline": article.byline,
        "published_at": iso(article.published_at),
        "comments_open": article.comments_open,
        "premoderate": article.premoderate,
        "site_id": article.site_id,
        "page": url_for("public.article", slug=article.slug, _external=True),
        "created_at": iso(article.created_at),
    }


@bp.get("/articles")
def article_list():
    """?limit=1..200 (50), ?cursor= (next_cursor of the page before), ?site= (a site's id)."""
    args = schema.query_args(("limit", "cursor", "site"))
    limit = schema.whole_number(args.get("limit"), field="limit", low=1,
                                high=articles.MAX_PAGE, default=50)
    site_id = None
    if args.get("site"):
        site_id = schema.whole_number(args["site"], field="site", low=1, high=schema.MAX_ID)
    try:
        found = articles.page(limit=limit, cursor=schema.cursor(args.get("cursor")),
                              site_id=site_id)
    except articles.ArticleError as error:
        raise ApiError(400, str(error), field=error.field) from None
    return {"items": [article_json(article) for article in found.articles],
            "next_cursor": found.next_cursor}


@bp.get("/articles/<path:key>")
def article_get(key):
    article = articles.article_by_key(key)
    if article is None:
        raise ApiError(404, f"There is no article with the key {key[:200]!r}.")
    return article_json(article)


@bp.put("/articles/<path:key>")
def article_put(key):
    """A JSON object of articles.FIELDS: 201 and the article when it is new, 200 when it
    was changed or was already so."""
    if not auth.api_user().is_admin:
        raise ApiError(403, "Only admins (or their publisher tokens) may add or change "
                            "articles; moderators may read them.")
    if not request.is_json:
        raise ApiError(415, "Send the article as a JSON object (Content-Type: "
                            "application/json). Nothing was saved.")
    body = schema.json_object()
    try:
        article, created = articles.upsert(auth.api_user(), key, body, source="api")
    except articles.ArticleError as error:
        db.session.rollback()
        raise ApiError(400, str(error), field=error.field) from None
    db.session.commit()
    return article_json(article), 201 if created else 200
