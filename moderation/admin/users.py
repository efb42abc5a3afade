"""Admin: users (routes added to the admin blueprint)."""

from moderation.admin.base import bp


@bp.get("/users")
def users():
    return "Not built yet.", 501
