"""Past decisions brought over from another moderation tool, as decided comments marked imported.

Every row is checked before anything is written: one bad row refuses the whole file, with every
problem listed by its line number, so a half-imported history never has to be cleaned up."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath
from typing import BinaryIO, TextIO

from flask import current_app
from sqlalchemy.orm import selectinload

from moderation import dates
from moderation.extensions import db
from moderation.models import Article, Comment, CommentState, Decision, ImportBatch, User, utcnow
from moderation.services import admin_log
from moderation.services.decide import IMPORTED

MAX_ROWS = 100_000
MAX_LISTED = 50
REQUIRED_COLUMNS = ("text", "decision")
OPTIONAL_COLUMNS = ("article", "date")
ARCHIVE_SLUG = "imported-history"
AUTHOR_NAME = "Imported"
REASON = IMPORTED  # also what keeps these decisions from being undone
DELIMITER_NAMES = {",": "commas", "\t": "tabs"}
DECISIONS = {
    **dict.fromkeys(("approved", "approve", "accept", "published", "yes"),
                    CommentState.APPROVED),
    **dict.fromkeys(("rejected", "reject", "remove", "removed", "deleted", "no"),
                    CommentState.REJECTED),
}
# Control characters other than tab and newlines mean binary junk, not something typed.
NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ImportRejected(Exception):
    """The file is refused as a whole; `errors` says why, one line each."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


class UnreadableLine(ValueError):
    """The csv reader gave up at this line (an unterminated quote, a huge cell) and cannot
    resync after it."""

    def __init__(self, line: int, reason: str):
        self.line = line
        super().__init__(f"Line {line}: could not be read ({reason}).")


class NotText(ValueError):
    """The bytes are not UTF-8 text (a spreadsheet, an image, UTF-16...)."""


@dataclass(frozen=True)
class ImportRow:
    line: int
    text: str
    state: CommentState
    article_slug: str | None
    created_at: datetime | None


@dataclass
class ImportResult:
    batch: ImportBatch
    comment_ids: list[int]
    approved: int = 0
    rejected: int = 0
    archived: int = 0  # rows whose article was missing or unknown
    unknown_articles: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.comment_ids)

    @property
    def archive_note(self) -> str | None:
        if not self.archived:
            return None
        unknown = ", ".join(self.unknown_articles[:5])
        if len(self.unknown_articles) > 5:
            unknown += f" and {len(self.unknown_articles) - 5:,} more"
        return (f"{self.archived:,} of them went to the archive article “{ARCHIVE_SLUG}”"
                + (f" (articles not found: {unknown})." if unknown else "."))


@dataclass(frozen=True)
class BatchSummary:
    batch: ImportBatch
    scored: int
    waiting: int  # for the scoring worker


def decode_text(data: bytes) -> str:
    """UTF-8 with or without a byte order mark; anything else is refused, not guessed at."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotText("The file is not UTF-8 text: it looks like a binary file (a spreadsheet, "
                      "an image) or another encoding. Save it as “CSV UTF-8” and try "
                      "again.") from None
    first_line = text.split("\n", 1)[0]
    if "\x00" in first_line:
        # UTF-16 without a BOM decodes as UTF-8 with a NUL after every letter.
        raise NotText("The file is not UTF-8 text: its first line contains NUL bytes (binary "
                      "data, or UTF-16). Save it as “CSV UTF-8” and try again.")
    return text


def first_line(text: str) -> str:
    return next((line for line in io.StringIO(text) if line.strip()), "")


def sniff_delimiter(first_line: str, filename: str = "") -> str:
    """Tab for .tsv files and for headers split by tabs, else comma."""
    if filename.lower().endswith(".tsv"):
        return "\t"
    return "\t" if first_line.count("\t") > first_line.count(",") else ","


def records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(physical line where the record starts, its cells); a quoted cell may span lines.
    Blank lines are skipped."""
    # strict: an unterminated or stray quote is an error, not text glued to the next cells.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    next_line = 1
    try:
        for cells in reader:
            start, next_line = next_line, reader.line_num + 1
            if any(cell.strip() for cell in cells):
                yield start, cells
    except csv.Error as error:
        raise UnreadableLine(next_line, str(error)) from None


def clean_filename(name: str | None) -> str:
    base = PurePath((name or "").replace("\\", "/")).name
    base = NOT_TEXT.sub("", base).strip()
    return base[:255] or "upload.csv"


def capped(errors: list[str], limit: int = MAX_LISTED) -> list[str]:
    if len(errors) <= limit:
        return errors
    return [*errors[:limit], f"… and {len(errors) - limit:,} more."]


def parse_date(value: str) -> datetime:
    """ISO 8601 date or date and time; an offset is converted to UTC, which is what is stored."""
    return dates.parse_moment(value)


def parse_rows(text: str, *, filename: str = "", delimiter: str | None = None,
               max_chars: int = 5000, max_rows: int = MAX_ROWS) -> list[ImportRow]:
    """Every row checked; ImportRejected lists every problem found (capped)."""
    delimiter = delimiter or sniff_delimiter(first_line(text), filename)
    found = records(text, delimiter)
    errors: list[str] = []
    rows: list[ImportRow] = []
    try:
        header_line, header = next(found, (1, None))
        if header is None:
            raise ImportRejected(["The file is empty: it needs a header line (text,decision) "
                                  "and one line per past decision."])
        columns = _columns(header, delimiter, header_line)
        for count, (line, cells) in enumerate(found, start=1):
            if count > max_rows:
                raise ImportRejected([f"The file has more than {max_rows:,} rows: split it into "
                                      "smaller files and import them one by one."])
            row, problems = _check_row(line, cells, columns, len(header), max_chars)
            if row is not None:
                rows.append(row)
            errors.extend(problems)
    except UnreadableLine as error:
        errors.append(f"{error} The rest of the file was not checked.")
    if errors:
        raise ImportRejected(capped(errors))
    if not rows:
        raise ImportRejected(["The file has a header but no rows to import."])
    return rows


def _columns(header: list[str], delimiter: str, line: int) -> dict[str, int]:
    names = [name.strip().lstrip("\ufeff").lower() for name in header]
    columns: dict[str, int] = {}
    for index, name in enumerate(names):
        columns.setdefault(name, index)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        shown = ", ".join(repr(name) for name in names[:20]) or "none"
        raise ImportRejected([
            f"The file needs the columns {' and '.join(REQUIRED_COLUMNS)} (optional: "
            f"{' and '.join(OPTIONAL_COLUMNS)}); missing: {', '.join(missing)}. Columns found "
            f"on line {line}, split by {DELIMITER_NAMES.get(delimiter, repr(delimiter))}: {shown}."
        ])
    return columns


def _check_row(line: int, cells: list[str], columns: dict[str, int], width: int,
               max_chars: int) -> tuple[ImportRow | None, list[str]]:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    problems: list[str] = []
    if len(cells) > width:
        problems.append(f"Line {line}: {len(cells)} fields where the header has {width} "
                        "(a comma or tab in the text needs the text in double quotes).")
    if any(NOT_TEXT.search(value) for value in cells):
        problems.append(f"Line {line}: contains characters that are not text (NUL or other "
                        "control codes).")
    text = cell("text")
    if not text:
        problems.append(f"Line {line}: the text is empty.")
    elif len(text) > max_chars:
        problems.append(f"Line {line}: the text has {len(text):,} characters; a comment may "
                        f"have at most {max_chars:,}.")
    decision = cell("decision")
    state = DECISIONS.get(decision.lower())
    if state is None:
        problems.append(f"Line {line}: " + (
            "the decision is empty" if not decision else f"unknown decision {decision[:40]!r}")
            + " (use approved or rejected).")
    created_at = None
    if date := cell("date"):
        try:
            created_at = parse_date(date)
        except (ValueError, OverflowError):  # OverflowError: year 1 at UTC+14, say
            problems.append(f"Line {line}: cannot read the date {date[:40]!r} (write it as "
                            "ISO 8601, e.g. 2024-05-31 or 2024-05-31T14:30:00).")
    if problems:
        return None, problems
    return ImportRow(line, text, state, cell("article") or None, created_at), []


def import_decisions(source: bytes | str | BinaryIO | TextIO, filename: str, actor: User, *,
                     delimiter: str | None = None, max_bytes: int | None = None,
                     max_chars: int | None = None, max_rows: int = MAX_ROWS,
                     now: datetime | None = None) -> ImportResult:
    """Check every row, then write one batch: a decided comment and its decision per row.
    Flushes; the caller commits (or rolls back on ImportRejected)."""
    config = current_app.config
    max_bytes = max_bytes or int(config["MODERATION_IMPORT_MAX_BYTES"])
    max_chars = max_chars or int(config["MODERATION_COMMENT_MAX_CHARS"])
    filename = clean_filename(filename)
    data = source.read(max_bytes + 1) if hasattr(source, "read") else source
    if len(data) > max_bytes:
        raise ImportRejected([f"The file is larger than {max_bytes:,} bytes, the most one "
                              "import takes: split it into smaller files."])
    try:
        text = decode_text(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    except NotText as error:
        raise ImportRejected([str(error)]) from None
    rows = parse_rows(text, filename=filename, delimiter=delimiter, max_chars=max_chars,
                      max_rows=max_rows)
    return _write(rows, filename, actor, now or utcnow())


def _write(rows: list[ImportRow], filename: str, actor: User, now: datetime) -> ImportResult:
    article_ids = _article_ids({row.article_slug for row in rows if row.article_slug})
    archive_id = None
    if any(article_ids.get(row.article_slug) is None for row in rows):
        archive_id = _archive_article(min(row.created_at or now for row in rows)).id
    batch = ImportBatch(filename=filename, rows=len(rows), created_by_id=actor.id,
                        created_at=now)
    db.session.add(batch)
    db.session.flush()
    # Bulk inserts (executemany): a 100,000-row history as ORM objects would take minutes.
    # The ids come back by public token, which is unique: RETURNING in row order would make
    # SQLite insert one row at a time.
    tokens = [secrets.token_urlsafe(24) for _ in rows]
    db.session.execute(Comment.__table__.insert(), [
        {"article_id": article_ids.get(row.article_slug) or archive_id,
         "author_name": AUTHOR_NAME, "body": row.text, "created_at": row.created_at or now,
         "public_token": token, "state": row.state, "verdict": row.state.value,
         "import_id": batch.id, "score_attempts": 0}
        for row, token in zip(rows, tokens, strict=True)
    ])
    id_by_token = dict(db.session.execute(
        db.select(Comment.public_token, Comment.id).where(Comment.import_id == batch.id)).all())
    comment_ids = [id_by_token[token] for token in tokens]
    db.session.execute(Decision.__table__.insert(), [
        {"comment_id": comment_id, "actor_id": actor.id, "from_state": CommentState.PENDING,
         "to_state": row.state, "reason": REASON, "created_at": now,
         "note": f"imported from {filename}, line {row.line}"}
        for comment_id, row in zip(comment_ids, rows, strict=True)
    ])
    result = ImportResult(batch=batch, comment_ids=comment_ids)
    result.approved = sum(row.state is CommentState.APPROVED for row in rows)
    result.rejected = len(rows) - result.approved
    result.archived = sum(article_ids.get(row.article_slug) is None for row in rows)
    result.unknown_articles = sorted({row.article_slug for row in rows
                                      if row.article_slug and row.article_slug not in article_ids})
    admin_log.record(actor, "import.decisions", f"import #{batch.id} {filename}",
                     rows=len(rows), approved=result.approved, rejected=result.rejected,
                     archived=result.archived)
    return result


def _article_ids(slugs: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(slugs)
    for start in range(0, len(ordered), 500):  # keeps each IN list small
        chunk = ordered[start:start + 500]
        found.update(db.session.execute(
            db.select(Article.slug, Article.id).where(Article.slug.in_(chunk))).all())
    return found


def _archive_article(earliest: datetime) -> Article:
    """Where imported comments without a known article go: closed, one per site."""
    article = db.session.execute(
        db.select(Article).where(Article.slug == ARCHIVE_SLUG)).scalar_one_or_none()
    if article is None:
        article = Article(
            slug=ARCHIVE_SLUG, section="Archive", headline="Imported comment history",
            byline="Moderation archive", published_at=earliest, tags=[],
            body="Comments brought over from the previous moderation tool whose article "
                 "could not be matched to one on this site.",
            comments_open=False, created_at=utcnow(),
        )
        db.session.add(article)
        db.session.flush()
    return article


def batch_summaries(limit: int = 50) -> list[BatchSummary]:
    """The latest batches, with how many of their comments the worker has scored so far."""
    scored = db.func.count(Comment.scored_at)
    total = db.func.count(Comment.id)
    found = db.session.execute(
        db.select(ImportBatch, scored, total)
        .outerjoin(Comment, Comment.import_id == ImportBatch.id)
        .group_by(ImportBatch.id)
        .order_by(ImportBatch.id.desc())
        .limit(limit)
        .options(selectinload(ImportBatch.created_by))
    ).all()
    return [BatchSummary(batch, scored, total - scored) for batch, scored, total in found]
