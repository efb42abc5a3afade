"""Admin pages: policy, word lists, imports, users, articles. Each module adds its routes to
the one blueprint, which refuses everyone but admins."""

from moderation.admin import articles, imports, policy, users, words  # noqa: F401  (routes)
from moderation.admin.base import bp

__all__ = ["bp"]
