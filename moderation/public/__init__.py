from moderation.public.routes import bp

__all__ = ["bp"]
