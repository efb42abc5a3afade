"""ORM classes. State lives in enums; the rules that change it live in services/."""

from moderation.models.base import (
    BASE_LABELS,
    LABELS,
    OPEN_STATES,
    SITE_LABEL,
    Band,
    CommentState,
    Role,
    utcnow,
)
from moderation.models.content import Article, Comment, Score
from moderation.models.counts import queue_count_changes, queue_counts
from moderation.models.decisions import (
    AdminEvent,
    AuthorHold,
    Decision,
    ImportBatch,
    Policy,
    Report,
    Sanction,
    WordRule,
)
from moderation.models.learning import ExampleVector, SemanticExample, SiteModel
from moderation.models.limits import rate_limits
from moderation.models.sites import OutboxEvent, Site
from moderation.models.users import (
    PASSWORD_METHOD,
    ApiToken,
    SecurityEvent,
    StaffSession,
    User,
)
from moderation.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from moderation.models.workers import WorkerHeartbeat

__all__ = [
    "BASE_LABELS", "LABELS", "OPEN_STATES", "PASSWORD_METHOD", "SITE_LABEL", "AdminEvent",
    "ApiToken", "Article", "AuthorHold", "Band", "Comment", "CommentState", "Decision",
    "DeliveryStatus", "WebhookDelivery", "WebhookEndpoint",
    "ExampleVector", "ImportBatch", "OutboxEvent", "Policy", "Report", "Role", "Sanction", "Score",
    "SecurityEvent", "SemanticExample", "Site", "SiteModel", "StaffSession", "User", "WordRule",
    "WorkerHeartbeat", "queue_count_changes", "queue_counts", "rate_limits", "utcnow",
]
