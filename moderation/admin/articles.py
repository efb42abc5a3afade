"""Admin: articles (routes added to the admin blueprint)."""

from moderation.admin.base import bp


@bp.get("/articles")
def articles():
    return "Not built yet.", 501
