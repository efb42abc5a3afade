from moderation.api import articles  # noqa: F401  (routes on the api blueprint)
from moderation.api.public import bp as public_bp
from moderation.api.public import script_bp as public_script_bp
from moderation.api.routes import bp

__all__ = ["bp", "public_bp", "public_script_bp"]
