"""ORM classes. State lives in enums; the rules that change it live in services/."""

from moderation.models.base import LABELS, OPEN_STATES, Band, CommentState, Role, utcnow
from moderation.models.content import Article, Comment, Score
from moderation.models.decisions import (
    AdminEvent,
    AuthorHold,
    Decision,
    ImportBatch,
    Policy,
    WordRule,
)
from moderation.models.users import PASSWORD_METHOD, ApiToken, User
from moderation.models.workers import WorkerHeartbeat

__all__ = [
    "LABELS", "OPEN_STATES", "PASSWORD_METHOD", "AdminEvent", "ApiToken", "Article",
    "AuthorHold", "Band", "Comment", "CommentState", "Decision", "ImportBatch", "Policy", "Role",
    "Score", "User",
    "WordRule", "WorkerHeartbeat", "utcnow",
]
