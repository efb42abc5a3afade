"""Benchmark inputs: real tweets from ../shared/data/olid when present, else generated text."""

from __future__ import annotations

import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLID = ROOT.parent / "shared" / "data" / "olid" / "olid-training-v1.0.tsv"
_FILLER = ("the council said it would review the plan next spring after residents asked "
           "for more time to read the proposals and raise their concerns").split()


def olid_rows() -> list[tuple[str, bool]]:
    """(text, offensive) pairs, or [] when the file is not there."""
    if not OLID.is_file():
        return []
    with OLID.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(row["tweet"], row["subtask_a"] == "OFF") for row in reader]


def texts(count: int, seed: int = 0) -> tuple[list[str], str]:
    rows = olid_rows()
    rng = random.Random(seed)
    if rows:
        return [rng.choice(rows)[0] for _ in range(count)], "OLID tweets"
    return [" ".join(rng.choices(_FILLER, k=rng.randint(8, 40))) for _ in range(count)], \
        "generated sentences (OLID absent)"


def comments_of_words(count: int, low: int, high: int, seed: int = 0) -> list[str]:
    """Comments of `low`..`high` words made by joining tweets: mixed lengths, as on a site."""
    pool = [text for text, _ in olid_rows()] or [" ".join(_FILLER)]
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        target = rng.randint(low, high)
        words: list[str] = []
        while len(words) < target:
            words += rng.choice(pool).split()
        made.append(" ".join(words[:target]))
    return made
