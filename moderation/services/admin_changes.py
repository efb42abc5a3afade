"""The admin log in words: one sentence per change, written from the event's stored before/after
detail ("maria closed comments on “Council approves a flood barrier”"). One formatter per
action; an action nobody taught this module yet still reads as a sentence, never a raw code."""

from __future__ import annotations

from collections.abc import Callable

from moderation.models import AdminEvent

SETTING_WORDS = {
    "comments_open": ("opened comments on", "closed comments on"),
    "premoderate": ("turned on pre-moderation for", "turned off pre-moderation for"),
}
FIELD_NAMES = {"canonical_url": "link", "published_at": "date", "site_id": "site",
               "allow_anonymous": "anonymous posting", "auto_register": "auto-registration",
               "sso": "reader sign-in", "comments_open": "comments open",
               "premoderate": "pre-moderation", "events": "events", "origins": "origins"}
SANCTION_WORDS = {"hold": "held every comment by", "suspend": "suspended",
                  "ban": "banned"}


def _quote(text) -> str:
    return f"“{text}”"


def _name(target: str, prefix: str) -> str:
    """"user maria" -> "maria": the target without the kind word the event put before it."""
    return target[len(prefix):] if target.startswith(prefix) else target


def _value(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return "none" if value in (None, "") else str(value)


def field_changes(before: dict | None, after: dict | None) -> list[str]:
    """"headline from “A” to “B”" for each field that differs."""
    before, after = before or {}, after or {}
    changes = []
    for field in after:
        if field in before and before[field] != after[field]:
            name = FIELD_NAMES.get(field, field.replace("_", " "))
            changes.append(f"{name} from {_value(before[field])} to {_value(after[field])}")
    return changes


def _with_changes(sentence: str, detail: dict) -> str:
    changes = field_changes(detail.get("before"), detail.get("after"))
    return f"{sentence}: {'; '.join(changes)}" if changes else sentence


def _article_title(event: AdminEvent, detail: dict) -> str:
    after = detail.get("after") or {}
    title = detail.get("headline") or after.get("headline")
    return _quote(title) if title else _quote(_name(event.target, "article "))


def _article_settings(event: AdminEvent, detail: dict) -> str:
    before, after = detail.get("before") or {}, detail.get("after") or {}
    title = _article_title(event, detail)
    parts = [SETTING_WORDS[field][0 if after[field] else 1]
             for field in SETTING_WORDS if field in after and before.get(field) != after[field]]
    if not parts:
        return f"changed the settings of {title}"
    return " and ".join(parts) + f" {title}"


def _article_create(event: AdminEvent, detail: dict) -> str:
    source = detail.get("source")
    return f"added the article {_article_title(event, detail)}" + (
        f" (from the {source})" if source and source != "admin" else "")


def _article_update(event: AdminEvent, detail: dict) -> str:
    return _with_changes(f"edited the article {_article_title(event, detail)}", detail)


def _user(verb: str) -> Callable[[AdminEvent, dict], str]:
    return lambda event, detail: verb.format(user=_name(event.target, "user "))


def _user_create(event: AdminEvent, detail: dict) -> str:
    role = detail.get("role", "moderator")
    return f"added {_name(event.target, 'user ')} as {'an' if role == 'admin' else 'a'} {role}"


def _user_role(event: AdminEvent, detail: dict) -> str:
    return (f"changed {_name(event.target, 'user ')}'s role from {detail.get('before')} "
            f"to {detail.get('after')}")


def _words(verb: str) -> Callable[[AdminEvent, dict], str]:
    def describe(event: AdminEvent, detail: dict) -> str:
        kind = detail.get("kind", "")
        match = " (and its plurals and endings)" if detail.get("inflect") else ""
        return f"{verb} {_quote(detail.get('word', event.target))}{match} " \
               f"{'to' if verb == 'added' else 'from'} the {kind} words"
    return describe


def _policy_change(change: dict) -> str:
    label, field = change.get("label"), change.get("field")
    before, after = change.get("before"), change.get("after")
    if label is None:
        return f"changed the reject band from {before} to {after}"
    name = label.replace("_", " ")
    if field == "enabled":
        return f"turned {name} {'on' if after else 'off'}"
    which = "approve" if field == "approve" else "reject"
    return f"changed the {name} {which} threshold from {_value(before)} to {_value(after)}"


def _policy_save(event: AdminEvent, detail: dict) -> str:
    changes = [_policy_change(change) for change in detail.get("changes") or []]
    text = "; ".join(changes) or "saved the policy"
    return f"{text} (policy v{detail.get('version', '?')})"


def _policy_reactivate(event: AdminEvent, detail: dict) -> str:
    return (f"re-activated policy v{detail.get('based_on', '?')} "
            f"(saved as v{detail.get('version', '?')})")


def _sanction(event: AdminEvent, detail: dict) -> str:
    kind = event.action.split(".", 1)[1]
    text = f"{SANCTION_WORDS.get(kind, kind)} {_quote(event.target)}"
    if detail.get("match"):
        text += f" (matched on {_value(detail['match'])})"
    if detail.get("expires_at"):
        text += f" until {detail['expires_at'][:10]}"
    return text


def _webhook(verb: str) -> Callable[[AdminEvent, dict], str]:
    def describe(event: AdminEvent, detail: dict) -> str:
        return _with_changes(f"{verb} {event.target}", detail)
    return describe


def _import(event: AdminEvent, detail: dict) -> str:
    return (f"imported {detail.get('rows', 0)} decisions ({detail.get('approved', 0)} approved, "
            f"{detail.get('rejected', 0)} rejected) from {_name(event.target, 'import ')}")


def _example(verb: str) -> Callable[[AdminEvent, dict], str]:
    def describe(event: AdminEvent, detail: dict) -> str:
        label = str(detail.get("label", "")).replace("_", " ")
        return f"{verb} the {label} example {_quote(detail.get('text', event.target))}"
    return describe


def _site_model(verb: str) -> Callable[[AdminEvent, dict], str]:
    def describe(event: AdminEvent, detail: dict) -> str:
        version = detail.get("version")
        return f"{verb} site model v{version}" if version else f"{verb} the site model"
    return describe


FORMATTERS: dict[str, Callable[[AdminEvent, dict], str]] = {
    "article.settings": _article_settings,
    "article.create": _article_create,
    "article.update": _article_update,
    "user.create": _user_create,
    "user.role": _user_role,
    "user.activate": _user("re-activated {user}"),
    "user.deactivate": _user("deactivated {user}"),
    "user.reset_password": _user("reset {user}'s password"),
    "user.update": _webhook("edited"),
    "site.create": lambda event, detail: f"added the site {_name(event.target, 'site ')}",
    "site.update": _webhook("edited"),
    "words.add": _words("added"),
    "words.remove": _words("removed"),
    "policy.save": _policy_save,
    "policy.reactivate": _policy_reactivate,
    "author.hold": lambda event, detail: f"held every comment by {_quote(event.target)}",
    "author.lift": lambda event, detail: f"lifted the hold on {_quote(event.target)}",
    "sanction.hold": _sanction, "sanction.suspend": _sanction, "sanction.ban": _sanction,
    "sanction.lift": lambda event, detail: f"lifted the sanction on {_quote(event.target)}",
    "webhook.create": _webhook("added"),
    "webhook.update": _webhook("edited"),
    "webhook.enable": _webhook("turned on"),
    "webhook.disable": _webhook("turned off"),
    "webhook.rotate_secret": _webhook("made a new secret for"),
    "webhook.redeliver": _webhook("re-sent"),
    "webhook.test": _webhook("sent a test event to"),
    "import.decisions": _import,
    "examples.add": _example("added"),
    "examples.accept": _example("put in use"),
    "examples.discard": _example("discarded"),
    "examples.remove": _example("removed"),
    "site_model.train": _site_model("trained"),
    "site_model.activate": _site_model("activated"),
    "site_model.rollback": _site_model("rolled back to"),
}


def _unknown(event: AdminEvent) -> str:
    # An action without a formatter: still a sentence ("site model: retire on v3"), so a new
    # kind of change shows up readable before anyone writes its own wording.
    area, _, verb = event.action.partition(".")
    words = f"{verb.replace('_', ' ')} ({area.replace('_', ' ')})" if verb else area
    return f"made a change: {words} on {event.target}"


def describe(event: AdminEvent) -> str:
    """The whole sentence, who first: "maria closed comments on “…”"."""
    who = event.actor.username if event.actor else "the system"
    formatter = FORMATTERS.get(event.action)
    detail = event.detail if isinstance(event.detail, dict) else {}
    try:
        text = formatter(event, detail) if formatter else _unknown(event)
    except (KeyError, TypeError, AttributeError):  # an old event stored with other detail
        text = _unknown(event)
    return f"{who} {text}"


def recent(limit: int = 30) -> list[tuple[AdminEvent, str]]:
    """The admin page's "Recent admin changes": each event with its sentence."""
    from moderation.services import admin_log

    return [(event, describe(event)) for event in admin_log.recent(limit=limit)]
