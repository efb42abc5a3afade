"""Admin: policy (routes added to the admin blueprint)."""

from moderation.admin.base import bp


@bp.get("/policy")
def policy():
    return "Not built yet.", 501
