"""Admin: imports (routes added to the admin blueprint)."""

from moderation.admin.base import bp


@bp.get("/imports")
def imports():
    return "Not built yet.", 501
