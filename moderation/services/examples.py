"""The semantic examples admins curate beside the word lists: the sentences the offline
scorer compares comments with, per label. The repository ships a set
(moderation/scoring/examples/); admins add their own and take any out. Every change is kept."""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from moderation.extensions import db
from moderation.models import ExampleVector, SemanticExample, User, utcnow
from moderation.scoring.examples import (
    ORDINARY,
    SEMANTIC_LABELS,
    Example,
    fingerprint,
    shipped_examples,
)
from moderation.services import admin_log
from moderation.services.site_evidence import pack_embedding

log = logging.getLogger(__name__)
MIN_WORDS, MAX_CHARS, MAX_NOTE = 3, 300, 500
# The lists on the admin page: one per label, and ordinary comments (harmless for all).
LIST_LABELS = (*SEMANTIC_LABELS, ORDINARY)


class ExampleError(ValueError):
    """The example cannot be added or removed; the message says why, for a person."""


@dataclass(frozen=True)
class Listed:
    example: Example
    origin: str  # shipped | admin
    row: SemanticExample | None  # the admin's row for added examples


def _changes() -> list[SemanticExample]:
    return list(db.session.execute(
        db.select(SemanticExample).order_by(SemanticExample.id)).scalars())


def _resolve(changes: list[SemanticExample]) -> list[Listed]:
    removed_shipped = {(c.label, c.harmful, c.text) for c in changes
                       if c.origin == "shipped" and c.removed_at is not None}
    listed = [Listed(example, "shipped", None) for example in shipped_examples()
              if (example.label, example.harmful, example.text) not in removed_shipped]
    seen = {(item.example.label, item.example.harmful, item.example.text) for item in listed}
    for change in changes:
        key = (change.label, change.harmful, change.text)
        in_use = change.status == "active" and change.removed_at is None
        if change.origin == "admin" and in_use and key not in seen:
            listed.append(Listed(Example(change.label, change.text, change.harmful), "admin",
                                 change))
            seen.add(key)
    return listed


def listed() -> list[Listed]:
    """Every example in use, shipped first, then the admins' own."""
    return _resolve(_changes())


def by_label() -> dict[str, list[Listed]]:
    """The examples in use, grouped as the admin page lists them."""
    found = listed()
    return {label: [item for item in found if item.example.label == label]
            for label in LIST_LABELS}


def active() -> list[Example]:
    return [item.example for item in listed()]


def proposals() -> list[SemanticExample]:
    """Examples added but not in use yet: each waits for its replay and the admin's go."""
    return list(db.session.execute(
        db.select(SemanticExample).where(SemanticExample.status == "proposed",
                                         SemanticExample.removed_at.is_(None))
        .order_by(SemanticExample.id.desc())).scalars())


def as_example(row: SemanticExample) -> Example:
    return Example(row.label, row.text, row.harmful)


def proposal(proposal_id: int) -> SemanticExample | None:
    row = db.session.get(SemanticExample, proposal_id)
    return row if row is not None and row.origin == "admin" else None


def proposal_state(row: SemanticExample) -> str:
    """proposed | in use | discarded | removed (put in use, later taken out)."""
    if row.removed_at is None:
        return "proposed" if row.status == "proposed" else "in use"
    return "discarded" if row.status == "proposed" else "removed"


def removed(limit: int = 50) -> list[SemanticExample]:
    return list(db.session.execute(
        db.select(SemanticExample).where(SemanticExample.removed_at.is_not(None))
        .order_by(SemanticExample.removed_at.desc(), SemanticExample.id.desc()).limit(limit)
    ).scalars())


def _version() -> tuple:
    """Changes whenever an example is added or removed: one cheap aggregate query."""
    return tuple(db.session.execute(db.select(
        db.func.count(SemanticExample.id), db.func.max(SemanticExample.id),
        db.func.count(SemanticExample.removed_at), db.func.max(SemanticExample.removed_at),
        db.func.sum(db.case((SemanticExample.status == "active", 1), else_=0)),
    )).one())


# Per scorer object in this process: the database and list version it last got.
_synced: dict[int, tuple] = {}


def sync(scorer) -> bool:
    """Hand the scorer the current examples when they changed since it last had them.
    Scorers without examples are left alone. True when the scorer was given a new set."""
    if not hasattr(scorer, "set_examples"):
        return False
    version = (str(db.engine.url), _version())
    if _synced.get(id(scorer)) == version:
        return False
    examples = active()
    changed = fingerprint(examples) != fingerprint(scorer.examples)
    if changed:
        scorer.set_examples(examples)
    try:
        store_vectors(scorer, [*examples, *(as_example(row) for row in proposals())])
    except Exception as error:  # the encoder failed: scoring reports it; replays wait
        log.warning("could not embed the example sentences for replay: %s", error)
        return changed
    _synced[id(scorer)] = version
    return changed


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def store_vectors(scorer, examples: list[Example]) -> int:
    """Save the embeddings of examples the database has none for yet (this scorer's
    encoder), so the admin pages can replay changes without a model. Returns how many."""
    if not hasattr(scorer, "embed"):
        return 0
    encoder = scorer.encoder.identity.version
    have = set(db.session.execute(
        db.select(ExampleVector.text_sha256).where(ExampleVector.encoder == encoder)).scalars())
    missing = sorted({e.text for e in examples if text_key(e.text) not in have})
    if not missing:
        return 0
    vectors = scorer.embed(missing)
    now = utcnow()
    try:
        with db.session.begin_nested():
            db.session.add_all(ExampleVector(text_sha256=text_key(text), encoder=encoder,
                                             vector=pack_embedding(vector), created_at=now)
                               for text, vector in zip(missing, vectors, strict=True))
    except IntegrityError:
        return 0  # another worker stored them at the same moment: theirs serve as well
    return len(missing)


def clean_text(text: str | None) -> str:
    text = " ".join(unicodedata.normalize("NFC", text or "").split())
    if not text:
        raise ExampleError("Type the example sentence to add.")
    if len(text) > MAX_CHARS:
        raise ExampleError(f"An example can be at most {MAX_CHARS} characters; "
                           f"yours has {len(text)}. Short, typical sentences work best.")
    if len(text.split()) < MIN_WORDS:
        raise ExampleError(f"Write a whole sentence of at least {MIN_WORDS} words: single "
                           "words belong on the word lists.")
    if any(unicodedata.category(char) in ("Cc", "Cs", "Co") for char in text):
        raise ExampleError("The sentence holds characters that are not text.")
    return text


def _label(label: str | None, harmful: bool) -> str:
    if label not in LIST_LABELS:
        raise ExampleError(f"Choose one of: {', '.join(LIST_LABELS)}.")
    if label == ORDINARY and harmful:
        raise ExampleError("Ordinary comments are harmless look-alikes for every label; add a "
                           "harmful example under the label it shows.")
    return label


def add(actor: User, label: str, text: str, harmful: bool, note: str | None = None
        ) -> SemanticExample:
    """Propose an example. It is in use once accepted (after its replay)."""
    label, text = _label(label, harmful), clean_text(text)
    note = (note or "").strip() or None
    if note and len(note) > MAX_NOTE:
        raise ExampleError(f"A note can be at most {MAX_NOTE} characters; yours has {len(note)}.")
    kind = "harmful example" if harmful else "harmless look-alike"
    taken = [*listed(), *(Listed(as_example(row), "proposed", row) for row in proposals())]
    for item in taken:
        if item.example.label == label and item.example.text.casefold() == text.casefold():
            which = "harmful example" if item.example.harmful else "harmless look-alike"
            where = "proposed as" if item.origin == "proposed" else "already"
            raise ExampleError(f"“{text}” is {where} a {which} for {label.replace('_', ' ')}.")
    row = SemanticExample(label=label, text=text, harmful=harmful, origin="admin", note=note,
                          status="proposed", created_at=utcnow(), created_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    admin_log.record(actor, "examples.add", f"{label} {kind}: {text[:120]}", label=label,
                     text=text, harmful=harmful, note=note, example_id=row.id)
    return row


def _proposal(proposal_id: int) -> SemanticExample:
    row = proposal(proposal_id)
    if row is None:
        raise LookupError(proposal_id)
    return row


def accept(actor: User, proposal_id: int) -> SemanticExample:
    """Put a proposed example in use; workers pick it up with their next batch."""
    if as_example(_proposal(proposal_id)) in active():
        raise ExampleError("That sentence is in use already (perhaps from another proposal); "
                           "discard this one.")
    return _close(actor, proposal_id, "examples.accept", status="active")


def discard(actor: User, proposal_id: int) -> SemanticExample:
    return _close(actor, proposal_id, "examples.discard", removed_at=utcnow(),
                  removed_by_id=actor.id)


def _close(actor: User, proposal_id: int, action: str, **values) -> SemanticExample:
    row = _proposal(proposal_id)
    # Conditional on still being a proposal: of two admins deciding it at once, one does.
    done = db.session.execute(
        db.update(SemanticExample)
        .where(SemanticExample.id == row.id, SemanticExample.status == "proposed",
               SemanticExample.removed_at.is_(None))
        .values(**values).execution_options(synchronize_session="fetch")).rowcount
    if done != 1:
        raise ExampleError("That proposal was already put in use or discarded.")
    admin_log.record(actor, action, f"{row.label}: {row.text[:120]}", label=row.label,
                     text=row.text, harmful=row.harmful, example_id=row.id)
    return row


def remove(actor: User, label: str, text: str, harmful: bool) -> SemanticExample:
    """Take an example out of use; added ones keep their row, shipped ones get a row that
    records the removal."""
    label = _label(label, harmful)
    match = next((item for item in listed() if item.example == Example(label, text, harmful)),
                 None)
    if match is None:
        raise ExampleError("That example is not in use (someone may have removed it already).")
    now = utcnow()
    if match.row is not None:
        # Every row in use with this text (two admins may have added it at once), and only
        # while still in use: of two admins removing it at once, one does.
        done = db.session.execute(
            db.update(SemanticExample)
            .where(SemanticExample.label == label, SemanticExample.text == text,
                   SemanticExample.harmful == harmful, SemanticExample.origin == "admin",
                   SemanticExample.status == "active", SemanticExample.removed_at.is_(None))
            .values(removed_at=now, removed_by_id=actor.id)
            .execution_options(synchronize_session="fetch")).rowcount
        if done < 1:
            raise ExampleError("That example was already removed.")
        row = match.row
    else:
        row = SemanticExample(label=label, text=text, harmful=harmful, origin="shipped",
                              status="active", created_at=now, removed_at=now,
                              removed_by_id=actor.id)
        db.session.add(row)
        db.session.flush()
    admin_log.record(actor, "examples.remove", f"{label}: {text[:120]}", label=label,
                     text=text, harmful=harmful, origin=match.origin)
    return row
