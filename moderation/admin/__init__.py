"""Admin pages: policy, word lists, imports, users, articles, webhooks. Each module adds its
routes to the one blueprint, which refuses everyone but admins."""

from moderation.admin import (  # noqa: F401  (routes)
    articles,
    imports,
    learning,
    policy,
    policy_history,
    security,
    sites,
    users,
    webhooks,
    words,
)
from moderation.admin.base import bp

__all__ = ["bp"]
