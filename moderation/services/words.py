"""Banned and suspect words: the lists admins edit, and what a match does to a comment's band
(banned: the reject band; suspect: never approved without a moderator). The matching itself
is moderation/wordmatch.py."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import selectinload

from moderation.extensions import db
from moderation.models import Band, Comment, User, WordRule, utcnow
from moderation.services import admin_log
from moderation.wordmatch import KINDS, Matcher, WordMatch, distinct, fold

MAX_WORD = 80
MAX_NOTE = 500


class WordError(ValueError):
    """The word cannot be added or removed; the message says why, for a person."""


# ---- the compiled lists, per process ------------------------------------------------------

_cache: dict[str, tuple[tuple, Matcher]] = {}
_CACHE_SIZE = 8  # databases per process: one in production, a few in the tests


def _fingerprint() -> tuple:
    """Changes whenever a rule is added or removed; one cheap aggregate query."""
    row = db.session.execute(db.select(
        db.func.count(WordRule.id), db.func.max(WordRule.id), db.func.max(WordRule.created_at),
        db.func.count(WordRule.removed_at), db.func.max(WordRule.removed_at),
    )).one()
    return tuple(row)


def matcher() -> Matcher:
    """The active rules compiled, recompiled only when the lists changed: the worker and each
    page ask once and reuse the answer."""
    key = str(db.engine.url)
    fingerprint = _fingerprint()
    cached = _cache.get(key)
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    if fingerprint[0] == 0:
        compiled = Matcher(())
    else:
        compiled = Matcher(db.session.execute(
            db.select(WordRule.word, WordRule.kind, WordRule.inflect)
            .where(WordRule.removed_at.is_(None))
        ).all())
    if len(_cache) >= _CACHE_SIZE and key not in _cache:
        _cache.clear()
    _cache[key] = (fingerprint, compiled)
    return compiled


def find(text: str, *, using: Matcher | None = None) -> list[WordMatch]:
    """Every banned and suspect word in `text`, by position, as spans of `text` itself."""
    return (using if using is not None else matcher()).find(text)


def adjust_band(band: Band, text: str, *, using: Matcher | None = None
                ) -> tuple[Band, str | None]:
    """The band after the word lists have had their say, and a note saying which words did:
    a banned word puts the comment in the reject band, a suspect word keeps it from being
    approved without a moderator."""
    matches = find(text, using=using)
    banned = distinct(match.word for match in matches if match.kind == "banned")
    if banned:
        return Band.REJECT, _note("banned", banned)
    suspect = distinct(match.word for match in matches if match.kind == "suspect")
    if suspect and band is Band.APPROVE:
        return Band.QUEUE, _note("suspect", suspect)
    return band, None


def _note(kind: str, words: list[str]) -> str:
    return f"{kind} word{'s' if len(words) > 1 else ''}: {', '.join(words)}"


def matches_for(comments: Sequence[Comment]) -> dict[int, list[WordMatch]]:
    """The words in each comment of a page, one compiled matcher for all of them."""
    using = matcher()
    if not using:
        return {}
    return {comment.id: found for comment in comments if (found := using.find(comment.body))}


# ---- the lists --------------------------------------------------------------------------

_ALLOWED = re.compile(r"[^\W_]+(?:(?: |['’]| ?- ?)[^\W_]+)*")


def clean_word(word: str | None) -> str:
    """The word as it will be stored: trimmed, inner spaces single. WordError if it is not a
    plain word or phrase."""
    word = " ".join(unicodedata.normalize("NFC", word or "").split())
    if not word:
        raise WordError("Type the word or phrase to add.")
    if len(word) > MAX_WORD:
        raise WordError(f"A word or phrase can be at most {MAX_WORD} characters; "
                        f"yours has {len(word)}.")
    # Marks ride on the letter before them; the shape check looks at the letters alone.
    skeleton = "".join(char for char in word if not unicodedata.category(char).startswith("M"))
    if not _ALLOWED.fullmatch(skeleton):
        raise WordError("Use letters, digits, spaces, apostrophes and hyphens only. List the "
                        "plain word: spellings such as “f.u.c.k”, “fuuuck” or “sh1t” are "
                        "caught without listing them.")
    return word


def active_rules(kind: str | None = None) -> list[WordRule]:
    query = (db.select(WordRule).where(WordRule.removed_at.is_(None))
             .options(selectinload(WordRule.created_by)).order_by(WordRule.word, WordRule.id))
    if kind is not None:
        query = query.where(WordRule.kind == kind)
    return list(db.session.execute(query).scalars())


def removed_rules(limit: int = 50) -> list[WordRule]:
    return list(db.session.execute(
        db.select(WordRule).where(WordRule.removed_at.is_not(None))
        .options(selectinload(WordRule.created_by), selectinload(WordRule.removed_by))
        .order_by(WordRule.removed_at.desc(), WordRule.id.desc()).limit(limit)
    ).scalars())


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise WordError(f"A note can be at most {MAX_NOTE} characters; yours has {len(note)}.")
    return note


def add(actor: User, word: str, kind: str, note: str | None = None, *,
        inflect: bool = False) -> WordRule:
    if kind not in KINDS:
        raise WordError("Choose the banned or the suspect list.")
    word = clean_word(word)
    note = _clean_note(note)
    key = fold(word)[0]
    if any(fold(rule.word)[0] == key for rule in active_rules(kind)):
        raise WordError(f"“{word}” is already on the {kind} list.")
    rule = WordRule(word=word, kind=kind, note=note, inflect=bool(inflect), created_at=utcnow(),
                    created_by_id=actor.id)
    db.session.add(rule)
    db.session.flush()
    admin_log.record(actor, "words.add", f"{kind} word {word}", word=word, kind=kind,
                     note=note, rule_id=rule.id, inflect=bool(inflect))
    return rule


MAX_PASTED = 500  # words in one paste


@dataclass
class Pasted:
    added: list[WordRule] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already listed, or twice in the paste


def add_many(actor: User, text: str, kind: str, note: str | None = None, *,
             inflect: bool = False) -> Pasted:
    """A pasted list, one word or phrase a line. Every line is checked before any is added:
    one that is not a word refuses the whole paste, naming its line. Words already listed
    (or pasted twice) are skipped and reported, not errors."""
    if kind not in KINDS:
        raise WordError("Choose the banned or the suspect list.")
    lines = [(number, line) for number, line in enumerate((text or "").splitlines(), 1)
             if line.strip()]
    if not lines:
        raise WordError("Type the word or phrase to add.")
    if len(lines) > MAX_PASTED:
        raise WordError(f"Paste at most {MAX_PASTED} words at a time; yours has {len(lines)}.")
    words = []
    for number, line in lines:
        try:
            words.append(clean_word(line))
        except WordError as error:
            raise WordError(f"Line {number} (“{line.strip()[:40]}”): {error}" if len(lines) > 1
                            else str(error)) from None
    listed = {fold(rule.word)[0] for rule in active_rules(kind)}
    result = Pasted()
    for word in words:
        key = fold(word)[0]
        if key in listed:
            result.skipped.append(word)
            continue
        listed.add(key)
        result.added.append(add(actor, word, kind, note, inflect=inflect))
    if len(words) == 1 and result.skipped:
        raise WordError(f"“{words[0]}” is already on the {kind} list.")
    return result


def paste_summary(pasted: Pasted, kind: str) -> str:
    """"Added “a”, “b” to the banned words. Already listed: “c”."""
    text = (f"Added {', '.join(f'“{rule.word}”' for rule in pasted.added)} to the {kind} words."
            if pasted.added else f"Nothing new for the {kind} words.")
    if pasted.skipped:
        text += f" Already listed: {', '.join(f'“{word}”' for word in pasted.skipped)}."
    return text


def remove(rule_id: int, actor: User) -> WordRule:
    """Take a word off its list; the row stays, with who removed it and when."""
    rule = db.session.get(WordRule, rule_id)
    if rule is None:
        raise LookupError(rule_id)
    # Conditional on still being active: of two admins removing it at once, one does.
    removed = db.session.execute(
        db.update(WordRule).where(WordRule.id == rule_id, WordRule.removed_at.is_(None))
        .values(removed_at=utcnow(), removed_by_id=actor.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if removed != 1:
        raise WordError(f"“{rule.word}” was already removed from the {rule.kind} list.")
    admin_log.record(actor, "words.remove", f"{rule.kind} word {rule.word}", word=rule.word,
                     kind=rule.kind, rule_id=rule.id)
    return rule
