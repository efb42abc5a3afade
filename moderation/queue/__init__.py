from moderation.queue.routes import bp

__all__ = ["bp"]
