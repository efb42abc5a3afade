from moderation.api.routes import bp

__all__ = ["bp"]
