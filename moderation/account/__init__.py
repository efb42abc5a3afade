from moderation.account.routes import bp

__all__ = ["bp"]
