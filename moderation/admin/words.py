"""Admin: words (routes added to the admin blueprint)."""

from moderation.admin.base import bp


@bp.get("/words")
def words():
    return "Not built yet.", 501
