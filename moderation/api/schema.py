"""What the JSON API reads and writes: request bodies and query strings checked into the
services' own types, and comments, decisions and authors turned into JSON."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time

from flask import jsonify, request, url_for
from werkzeug.http import HTTP_STATUS_CODES

from moderation import dates
from moderation.models import Comment, Decision
from moderation.models.base import MAX_ID
from moderation.services import authors
from moderation.services import queue as queues
from moderation.services.decide import ACTIONS, REASONS, UNDO
from moderation.services.queue import QueueError, QueueFilter
from moderation.validators import _JUNK

MAX_NOTE = 1000
MAX_SEARCH = 200
MAX_BULK = 500
FILTER_KEYS = ("order", "band", "article", "label", "label_min", "scorer", "since", "until",
               "q")
QUEUE_KEYS = (*FILTER_KEYS, "limit", "cursor")


class ApiError(Exception):
    """Answered as {"error", "message", "field"?, ...extra} with `status`."""

    def __init__(self, status: int, message: str, *, field: str | None = None,
                 headers: dict | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.headers = headers or {}
        self.extra = extra

    def response(self):
        body = {"error": HTTP_STATUS_CODES.get(self.status, "Error"), "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        body.update(self.extra)
        return jsonify(body), self.status, self.headers


# Reading requests


def json_object(*, required: bool = True) -> dict:
    """The request's JSON object; {} for an empty body where none is required."""
    if not required and not request.get_data(cache=True):
        return {}
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "The request body is not valid JSON: send a JSON object with "
                            "Content-Type: application/json.")
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object ({...}).")
    return body


def _only(values: Mapping, allowed: Iterable[str], where: str = "") -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ApiError(400, f"Unknown field {unknown[0]!r}: use {', '.join(allowed)}.",
                       field=where + unknown[0])


def query_args(allowed: Iterable[str]) -> dict[str, str]:
    """The query string as one value per name; a repeated or unknown name is an error rather
    than silently ignored (a typo would otherwise widen a filter)."""
    _only(request.args, allowed)
    for name, values in request.args.lists():
        if len(values) > 1:
            raise ApiError(400, f"Give {name!r} once.", field=name)
    return request.args.to_dict()


def _text(values: Mapping, key: str, *, where: str = "", max_chars: int | None = None
          ) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    field = where + key
    if not isinstance(value, str):
        raise ApiError(400, f"{field} must be a string.", field=field)
    if _JUNK.search(value):
        raise ApiError(400, f"{field} contains characters that are not text.", field=field)
    if max_chars is not None and len(value) > max_chars:
        raise ApiError(400, f"{field} can be at most {max_chars:,} characters.", field=field)
    return value.strip() or None


def _number(values: Mapping, key: str, where: str = "") -> float | None:
    value = values.get(key)
    field = where + key
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ApiError(400, f"{field} must be a number, like 0.5.", field=field) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ApiError(400, f"{field} must be a number, like 0.5.", field=field)
    return float(value)


def _moment(values: Mapping, key: str, where: str = "") -> datetime | None:
    value = _text(values, key, where=where, max_chars=64)
    if value is None:
        return None
    field = where + key
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            # A bare day, as the HTML queue takes it: "until" that day includes all of it.
            day = dates.parse_day(value)
            return datetime.combine(day, time.max if key == "until" else time.min)
        return dates.parse_moment(value)
    except ValueError as error:
        raise ApiError(400, f"{field} is not a date and time we can use ({error}): use "
                            "ISO 8601, like 2024-05-01 or 2024-05-01T12:00:00Z.",
                       field=field) from None


def whole_number(value, *, field: str, low: int, high: int, default: int | None = None) -> int:
    if value is None or value == "":
        if default is None:
            raise ApiError(400, f"{field} is required: a whole number from {low} to {high}.",
                           field=field)
        return default
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, f"{field} must be a whole number from {low} to {high}.",
                       field=field)
    return value


def cursor(value: str | None) -> str | None:
    """A page link; queue.page() checks it belongs to this order and refuses anything else."""
    if value is not None and len(value) > 512:
        raise ApiError(400, "That page link is broken: start from the first page.",
                       field="cursor")
    return value or None


def queue_filter(values: Mapping, where: str = "") -> QueueFilter:
    """A QueueFilter from query-string strings or JSON values, the same keys either way."""
    fields = {
        "order": _text(values, "order", where=where, max_chars=20) or "risk",
        "band": _text(values, "band", where=where, max_chars=20),
        "article": _text(values, "article", where=where, max_chars=120),
        "label": _text(values, "label", where=where, max_chars=40),
        "label_min": _number(values, "label_min", where),
        "scorer": _text(values, "scorer", where=where, max_chars=80),
        "since": _moment(values, "since", where),
        "until": _moment(values, "until", where),
        "text": _text(values, "q", where=where, max_chars=MAX_SEARCH),
    }
    # QueueFilter checks them all at once; checked a few at a time, its error names a field.
    label_alone = {"label": fields["label"],
                   "label_min": None if fields["label"] is None else 0.5}
    checks = (("order", {"order": fields["order"]}), ("band", {"band": fields["band"]}),
              ("label", label_alone),
              ("label_min", {"label": fields["label"], "label_min": fields["label_min"]}),
              ("until", {"since": fields["since"], "until": fields["until"]}))
    for field, values in checks:
        try:
            QueueFilter(**values)
        except QueueError as error:
            raise ApiError(400, str(error), field=where + field) from None
    try:
        return QueueFilter(**fields)
    except QueueError as error:
        raise ApiError(400, str(error)) from None


@dataclass(frozen=True)
class DecisionRequest:
    action: str
    reason: str | None
    note: str | None


def _decision_fields(body: Mapping, actions: Iterable[str]) -> DecisionRequest:
    actions = list(actions)
    action = body.get("action")
    if action not in actions:
        raise ApiError(400, f"action must be one of {', '.join(actions)}.", field="action")
    reason = _text(body, "reason", max_chars=40)
    if reason is not None and reason not in REASONS:
        raise ApiError(400, f"Unknown reason {reason!r}: use one of {', '.join(REASONS)}.",
                       field="reason")
    return DecisionRequest(action, reason, _text(body, "note", max_chars=MAX_NOTE))


def decision_request(body: Mapping) -> DecisionRequest:
    _only(body, ("action", "reason", "note"))
    return _decision_fields(body, [*ACTIONS, UNDO])


@dataclass(frozen=True)
class BulkRequest:
    decision: DecisionRequest
    ids: list[int] | None
    queue_filter: QueueFilter | None
    limit: int | None


def bulk_request(body: Mapping) -> BulkRequest:
    _only(body, ("action", "reason", "note", "ids", "filter", "limit"))
    decision = _decision_fields(body, ACTIONS)
    if ("ids" in body) == ("filter" in body):
        raise ApiError(400, "Send either ids (a list of comment ids) or filter (queue filters "
                            "with a limit), not both or neither.", field="ids")
    if "ids" in body:
        if "limit" in body:
            raise ApiError(400, "limit goes with filter; ids are already a list.", field="limit")
        ids = body["ids"]
        if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BULK or any(
                isinstance(i, bool) or not isinstance(i, int) or not 1 <= i <= MAX_ID
                for i in ids)):
            raise ApiError(400, f"ids must be a list of 1 to {MAX_BULK} comment ids.",
                           field="ids")
        return BulkRequest(decision, ids, None, None)
    filters = body["filter"]
    if not isinstance(filters, dict):
        raise ApiError(400, "filter must be an object of queue filters.", field="filter")
    _only(filters, FILTER_KEYS, "filter.")
    limit = whole_number(body.get("limit"), field="limit", low=1, high=MAX_BULK)
    return BulkRequest(decision, None, queue_filter(filters, "filter."), limit)


def hold_reason(body: Mapping) -> str | None:
    _only(body, ("reason",))
    return _text(body, "reason", max_chars=MAX_NOTE)


# Writing JSON


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"  # naive UTC in the database


band = queues.band_of


@dataclass(frozen=True)
class AuthorFacts:
    """What the queue knows about the authors of a page of comments: two queries a page."""

    histories: dict[str, dict[str, int]]
    held: set[str]

    @classmethod
    def of(cls, comments: Iterable[Comment]) -> AuthorFacts:
        keys = {comment.author_key for comment in comments if comment.author_key}
        return cls(authors.histories(keys), authors.held_keys(keys))


def author(comment: Comment, facts: AuthorFacts) -> dict:
    key = comment.author_key
    return {
        "name": comment.author_name,
        "key": key,
        "email": comment.author_email,  # every API caller is a moderator
        "held": key in facts.held,
        "history": facts.histories.get(key) if key else None,
    }


def item(comment: Comment, facts: AuthorFacts) -> dict:
    score = comment.current_score
    top_window = None
    if score is not None and score.top_window_start is not None:
        top_window = [score.top_window_start, score.top_window_end]
    return {
        "id": comment.id,
        "state": comment.state.value,
        "band": band(comment),
        "risk": comment.risk,
        "labels": score.labels if score is not None else {},
        "scorer": ({"name": comment.scorer_name, "version": comment.scorer_version,
                    "site_model": (score.site_model.version if score is not None
                                   and score.site_model is not None else None)}
                   if comment.scorer_name else None),
        "close_to": (score.matches or {}) if score is not None else {},
        "reports": {"open": comment.report_count, "weight": comment.report_weight},
        "policy_version": comment.policy.version if comment.policy is not None else None,
        "body": comment.body,
        "created_at": iso(comment.created_at),
        "score_error": comment.score_error,
        "windows": score.windows if score is not None else None,
        "top_window": top_window,
        "article": {
            "slug": comment.article.slug,
            "headline": comment.article.headline,
            "url": url_for("public.article", slug=comment.article.slug, _external=True),
        },
        "author": author(comment, facts),
    }


def items(comments: list[Comment]) -> list[dict]:
    facts = AuthorFacts.of(comments)
    return [item(comment, facts) for comment in comments]


def decision(record: Decision | None) -> dict | None:
    if record is None:
        return None
    return {
        "id": record.id,
        "by": record.by,
        "from_state": record.from_state.value,
        "to_state": record.to_state.value,
        "reason": record.reason,
        "note": record.note,
        "at": iso(record.created_at),
        "reverts_id": record.reverts_id,
    }


def detail(comment: Comment, recent: list[Comment], undoable: bool) -> dict:
    body = item(comment, AuthorFacts.of([comment]))
    body["decisions"] = [decision(record) for record in comment.decisions]
    body["author"]["recent"] = [
        {"id": other.id, "body": other.body, "state": other.state.value,
         "created_at": iso(other.created_at)}
        for other in recent
    ]
    body["undoable"] = undoable
    return body


def report(row) -> dict:
    return {"id": row.id, "reason": row.reason, "note": row.note,
            "created_at": iso(row.created_at), "reporter": row.reporter_key[:12],
            "resolution": row.resolution, "resolved_at": iso(row.resolved_at),
            "resolved_by": row.resolved_by.username if row.resolved_by else None}


@dataclass(frozen=True)
class SanctionRequest:
    kind: str | None
    match: list[str]
    days: int | None
    reason: str | None


def sanction_request(body: dict) -> SanctionRequest:
    """{"kind", "match": [...], "days"?, "reason"?}; the service judges the values."""
    _only(body, ("kind", "match", "days", "reason"))
    match = body.get("match")
    if not isinstance(match, list) or not all(isinstance(key, str) for key in match):
        raise ApiError(400, "match must be a list of: name, email, address.", field="match")
    days = body.get("days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool)):
        raise ApiError(400, "days must be a whole number.", field="days")
    return SanctionRequest(_text(body, "kind", max_chars=16), match, days,
                           _text(body, "reason", max_chars=500))


def sanction(row) -> dict:
    matched = [key for key, value in (("name", row.name_key), ("email", row.email_hash),
                                      ("address", row.ip_hash)) if value]
    return {"id": row.id, "kind": row.kind, "author_name": row.author_name, "match": matched,
            "reason": row.reason, "comment_id": row.comment_id,
            "created_at": iso(row.created_at), "expires_at": iso(row.expires_at),
            "lifted_at": iso(row.lifted_at),
            "created_by": row.created_by.username if row.created_by else None}
