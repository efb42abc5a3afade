from moderation.auth.routes import bp

__all__ = ["bp"]
