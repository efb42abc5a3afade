from moderation.account import security  # noqa: F401  (routes on the same blueprint)
from moderation.account.routes import bp

__all__ = ["bp"]
