"""Sanctions that stick to an author, not a display name: a hold (every comment waits for a
moderator), a suspension until a date, or a ban (posting refused, nothing stored), matched on
any of the keys the moderator chooses: the name key, the email (hashed) or the address (hashed).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app

from moderation.extensions import db
from moderation.models import Comment, Sanction, User, utcnow
from moderation.services import admin_log

KINDS = ("hold", "suspend", "ban")
MATCHES = ("name", "email", "address")
MAX_DAYS = 3650
STRENGTH = {"ban": 3, "suspend": 2, "hold": 1}


class SanctionError(ValueError):
    """The sanction cannot be made or lifted; the message says why, for a person."""


@dataclass(frozen=True)
class Match:
    sanction: Sanction
    on: str  # name | email | address

    def same(self) -> str:
        """"same email as “Skeptic”": what the new comment shares with the sanctioned one."""
        return f"same {self.on} as “{self.sanction.author_name}”"

    def describe(self) -> str:
        return f"{self.sanction.kind}: {self.same()}"


def email_hash(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    if not email:
        return None
    secret = current_app.config["SECRET_KEY"]
    return hmac.new(secret.encode(), f"email:{email}".encode(), hashlib.sha256).hexdigest()


def create(comment: Comment, moderator: User, kind: str, match: list[str], *,
           days: int | None = None, reason: str | None = None,
           now: datetime | None = None) -> Sanction:
    if kind not in KINDS:
        raise SanctionError(f"Choose one of: {', '.join(KINDS)}.")
    match = list(dict.fromkeys(match or []))
    if not match or any(key not in MATCHES for key in match):
        raise SanctionError(f"Match the author on at least one of: {', '.join(MATCHES)}.")
    keys = {"name": comment.author_key, "email": email_hash(comment.author_email),
            "address": comment.ip_hash}
    missing = [key for key in match if not keys[key]]
    if missing:
        raise SanctionError(f"This comment has no {' or '.join(missing)} to match on.")
    now = now or utcnow()
    expires = None
    if kind == "suspend":
        if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise SanctionError(f"A suspension lasts 1 to {MAX_DAYS} days: say how many.")
        expires = now + timedelta(days=days)
    reason = (reason or "").strip()[:500] or None
    sanction = Sanction(
        kind=kind, author_name=comment.author_name, comment_id=comment.id, reason=reason,
        name_key=keys["name"] if "name" in match else None,
        email_hash=keys["email"] if "email" in match else None,
        ip_hash=keys["address"] if "address" in match else None,
        created_at=now, created_by_id=moderator.id, expires_at=expires)
    db.session.add(sanction)
    db.session.flush()
    admin_log.record(moderator, f"sanction.{kind}", comment.author_name, sanction_id=sanction.id,
                     match=match, expires_at=expires.isoformat() if expires else None)
    return sanction


def lift(sanction_id: int, moderator: User) -> Sanction:
    sanction = db.session.get(Sanction, sanction_id)
    if sanction is None:
        raise LookupError(sanction_id)
    done = db.session.execute(
        db.update(Sanction).where(Sanction.id == sanction_id, Sanction.lifted_at.is_(None))
        .values(lifted_at=utcnow(), lifted_by_id=moderator.id)
        .execution_options(synchronize_session="fetch")).rowcount
    if done != 1:
        raise SanctionError("That sanction was lifted already.")
    admin_log.record(moderator, "sanction.lift", sanction.author_name, sanction_id=sanction.id)
    return sanction


def _active(now: datetime):
    return db.and_(Sanction.lifted_at.is_(None),
                   db.or_(Sanction.expires_at.is_(None), Sanction.expires_at > now))


def _conditions(names, emails, addresses) -> list:
    return [column.in_(values) for column, values in (
        (Sanction.name_key, names), (Sanction.email_hash, emails), (Sanction.ip_hash, addresses))
        if values]


def _best(found, name_key: str | None, hashed: str | None,
          ip_hash: str | None) -> Match | None:
    """The strongest of `found` these keys fall under (newest on a tie), and the key it
    matched on, the most telling first: email, then address, then name."""
    best = None
    for sanction in found:
        on = ("email" if hashed and sanction.email_hash == hashed
              else "address" if ip_hash and sanction.ip_hash == ip_hash
              else "name" if name_key and sanction.name_key == name_key else None)
        if on and (best is None or (STRENGTH[sanction.kind], sanction.id)
                   > (STRENGTH[best.sanction.kind], best.sanction.id)):
            best = Match(sanction, on)
    return best


def strongest(name_key: str | None, email: str | None, ip_hash: str | None,
              now: datetime | None = None) -> Match | None:
    """The strongest active sanction any of these keys falls under, and the key it matched."""
    hashed = email_hash(email)
    if not (name_key or hashed or ip_hash):
        return None
    # Asked before every comment is stored: built once (a key that is None matches nothing).
    found = db.session.execute(_STRONGEST, {"now": now or utcnow(), "name_key": name_key,
                                            "email_hash": hashed, "ip_hash": ip_hash}).scalars()
    return _best(found, name_key, hashed, ip_hash)


_STRONGEST = db.select(Sanction).where(
    _active(db.bindparam("now")),
    db.or_(Sanction.name_key == db.bindparam("name_key"),
           Sanction.email_hash == db.bindparam("email_hash"),
           Sanction.ip_hash == db.bindparam("ip_hash")))


def refusal_for(name: str, email: str | None, ip_hash: str | None,
                reader_id: str | None = None, *, now: datetime | None = None) -> str | None:
    """What someone about to post is told if they are banned or suspended; None otherwise.
    Asked before every comment is stored, so it reads plain rows of the refusing kinds on the
    session's connection, without building ORM objects."""
    from moderation.services.authors import author_key

    # A signed-in reader's name key is their account (authors.author_key): a new display
    # name does not escape a ban.
    name_key, hashed = author_key(name, email, ip_hash, reader_id), email_hash(email)
    if not (name_key or hashed or ip_hash):
        return None
    found = db.session.connection().execute(_REFUSING, {
        "now": now or utcnow(), "name_key": name_key, "email_hash": hashed,
        "ip_hash": ip_hash}).all()
    if not found:
        return None
    strongest_row = max(found, key=lambda row: (STRENGTH[row.kind], row.id))
    return _refusal_text(strongest_row.kind, strongest_row.expires_at)


def refusing_exists():
    """An EXISTS clause, true while an active ban or suspension matches the bound
    `refuse_name_key`, `refuse_email_hash` or `refuse_ip_hash` at `refuse_now`: a statement
    that stores a post can carry the check itself (services/submit) and so cost no query of
    its own. refusal_for says why, on the rare post it refused."""
    return db.exists().where(
        _active(db.bindparam("refuse_now", type_=Sanction.expires_at.type)),
        Sanction.kind != "hold",
        db.or_(Sanction.name_key == db.bindparam("refuse_name_key", type_=db.String),
               Sanction.email_hash == db.bindparam("refuse_email_hash", type_=db.String),
               Sanction.ip_hash == db.bindparam("refuse_ip_hash", type_=db.String)))


def refusing_parameters(name_key: str | None, email: str | None, ip_hash: str | None) -> dict:
    """The values refusing_exists() binds, for an author key (authors.author_key), an email
    and a hashed address."""
    return {"refuse_now": utcnow(), "refuse_name_key": name_key,
            "refuse_email_hash": email_hash(email), "refuse_ip_hash": ip_hash}


_REFUSING = db.select(Sanction.id, Sanction.kind, Sanction.expires_at).where(
    _active(db.bindparam("now")), Sanction.kind != "hold",
    db.or_(Sanction.name_key == db.bindparam("name_key"),
           Sanction.email_hash == db.bindparam("email_hash"),
           Sanction.ip_hash == db.bindparam("ip_hash")))


def _refusal_text(kind: str, expires_at: datetime | None) -> str | None:
    if kind == "hold":
        return None
    if kind == "ban":
        return "You can no longer comment on this site."
    return f"You cannot comment until {expires_at.strftime('%d %B %Y, %H:%M UTC')}."


STATUSES = ("active", "expired", "lifted", "all")


def status_of(sanction: Sanction, now: datetime | None = None) -> str:
    if sanction.lifted_at is not None:
        return "lifted"
    if sanction.expires_at is not None and sanction.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def browse(kind: str | None = None, status: str = "active", name: str | None = None,
           limit: int = 200) -> list[Sanction]:
    """The sanctions page: by kind, by status and by (part of) the name they were made against."""
    now = utcnow()
    query = db.select(Sanction).order_by(Sanction.id.desc()).limit(limit)
    if kind in KINDS:
        query = query.where(Sanction.kind == kind)
    if status == "active":
        query = query.where(_active(now))
    elif status == "lifted":
        query = query.where(Sanction.lifted_at.is_not(None))
    elif status == "expired":
        query = query.where(Sanction.lifted_at.is_(None), Sanction.expires_at <= now)
    if name:
        query = query.where(Sanction.author_name.icontains(name, autoescape=True))
    return list(db.session.execute(query).scalars())


def for_comments(comments) -> dict[int, Match]:
    """The strongest active sanction each comment's author falls under, in one query."""
    comments = list(comments)
    hashed = {comment.id: email_hash(comment.author_email) for comment in comments}
    conditions = _conditions({c.author_key for c in comments if c.author_key},
                             {value for value in hashed.values() if value},
                             {c.ip_hash for c in comments if c.ip_hash})
    if not conditions:
        return {}
    found = list(db.session.execute(
        db.select(Sanction).where(_active(utcnow()), db.or_(*conditions))).scalars())
    out = {}
    for comment in comments:
        if match := _best(found, comment.author_key, hashed[comment.id], comment.ip_hash):
            out[comment.id] = match
    return out


def available_keys(comment: Comment) -> dict[str, bool]:
    """Which keys this comment offers to match its author on (no email given: no email)."""
    return {"name": bool(comment.author_key), "email": bool(email_hash(comment.author_email)),
            "address": bool(comment.ip_hash)}


def touching(name_keys: set[str], email_hashes: set[str], ip_hashes: set[str],
             comment_ids: set[int]) -> list[Sanction]:
    """Every sanction, active or not, made on any of these keys or from any of these comments."""
    conditions = _conditions(name_keys, email_hashes, ip_hashes)
    if comment_ids:
        conditions.append(Sanction.comment_id.in_(comment_ids))
    if not conditions:
        return []
    return list(db.session.execute(
        db.select(Sanction).where(db.or_(*conditions)).order_by(Sanction.id.desc())).scalars())


@dataclass(frozen=True)
class Event:
    at: datetime
    what: str  # made | lifted
    sanction: Sanction
    by: User | None


def events(limit: int = 10, moderator: str | None = None) -> list[Event]:
    """The latest sanctions made or lifted, newest first, for the decision log."""
    made = db.select(Sanction).order_by(Sanction.created_at.desc()).limit(limit)
    lifted = (db.select(Sanction).where(Sanction.lifted_at.is_not(None))
              .order_by(Sanction.lifted_at.desc()).limit(limit))
    if moderator:
        made = made.join(User, User.id == Sanction.created_by_id).where(User.username == moderator)
        lifted = lifted.join(User, User.id == Sanction.lifted_by_id).where(
            User.username == moderator)
    out = [Event(s.created_at, "made", s, s.created_by)
           for s in db.session.execute(made).scalars()]
    out += [Event(s.lifted_at, "lifted", s, s.lifted_by)
            for s in db.session.execute(lifted).scalars()]
    return sorted(out, key=lambda event: event.at, reverse=True)[:limit]
