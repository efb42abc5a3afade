from moderation.decisions.authors import bp as authors_bp
from moderation.decisions.routes import bp

__all__ = ["authors_bp", "bp"]
