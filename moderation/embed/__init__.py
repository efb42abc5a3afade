from moderation.embed.routes import bp

__all__ = ["bp"]
