from moderation.decisions.routes import bp

__all__ = ["bp"]
