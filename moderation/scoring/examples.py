"""Curated example sentences per label: training text for the composite's heads, and, at
scoring time, known texts that a comment may nearly repeat.

Each label has harmful examples ("+") and harmless look-alikes ("-") that share its words or
topics. Similarity to an example says which topic a comment is on, not what it means ("Gay
couples adopting is a good thing" sits close to hate about the same group), so an example only
moves a score when the comment nearly repeats it (cosine similarity at or above NEAR): a copy of
known abuse is held, a copy of a known harmless comment is not queued for that label."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).with_name("examples")
# The labels the examples speak for ("obscene" is the swear-word model's alone).
SEMANTIC_LABELS: tuple[str, ...] = (
    "toxicity", "severe_toxicity", "threat", "insult", "identity_attack", "sexual_explicit",
)
# Harmless comments of every kind: look-alikes for every label at once.
ORDINARY = "ordinary"
# From this similarity on, a comment counts as a near repeat of an example; at FULL it is the
# same text in other words. Chosen so that under 1% of ordinary calibration text comes this
# close to any harmful example (python -m moderation.scoring.train_heads prints the share).
NEAR, FULL = 0.80, 0.95


@dataclass(frozen=True)
class Example:
    label: str
    text: str
    harmful: bool


def parse(label: str, lines: Iterable[str]) -> list[Example]:
    """Examples from the file format: "+ text" harmful, "- text" look-alike, "#" comments."""
    examples = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line[:2] not in ("+ ", "- "):
            raise ValueError(f"{label} line {number}: start with '+ ' or '- ', not {line[:10]!r}")
        if label == ORDINARY and line[0] == "+":
            raise ValueError(f"{label} line {number}: ordinary comments are all harmless ('- ')")
        examples.append(Example(label, line[2:].strip(), line[0] == "+"))
    return examples


def shipped_examples(folder: Path = FOLDER) -> list[Example]:
    examples: list[Example] = []
    for label in (*SEMANTIC_LABELS, ORDINARY):
        path = folder / f"{label}.txt"
        if path.is_file():
            examples += parse(label, path.read_text(encoding="utf-8").splitlines())
    return examples


def fingerprint(examples: Sequence[Example]) -> str:
    """Eight hex digits that change whenever the set of examples does."""
    digest = hashlib.sha256()
    for example in sorted(set(examples), key=lambda e: (e.label, e.harmful, e.text)):
        digest.update(f"{example.label}\t{int(example.harmful)}\t{example.text}\n".encode())
    return digest.hexdigest()[:8]


@dataclass(frozen=True)
class Nearest:
    """Per label, for each text: its highest similarity to the label's harmful examples (and
    which), and to the look-alikes that speak for the label (its own and ordinary ones)."""

    harmful: dict[str, np.ndarray]
    harmful_index: dict[str, np.ndarray]  # into NearExamples.examples, -1 for none
    lookalike: dict[str, np.ndarray]


class NearExamples:
    """The examples' embeddings, grouped per label, ready to compare texts with."""

    def __init__(self, examples: Sequence[Example], vectors: np.ndarray):
        self.examples = list(examples)
        self.fingerprint = fingerprint(self.examples)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(self.examples), -1)
        self._harmful: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._lookalike: dict[str, np.ndarray] = {}
        for label in SEMANTIC_LABELS:
            # Every harmful example is toxic; the other labels have their own.
            rows = np.array([i for i, e in enumerate(self.examples)
                             if e.harmful and (label == "toxicity" or e.label == label)],
                            dtype=np.int64)
            self._harmful[label] = (rows, vectors[rows])
            harmless = [i for i, e in enumerate(self.examples) if not e.harmful
                        and (e.label in (label, ORDINARY) or label == "toxicity")]
            self._lookalike[label] = vectors[harmless]

    def count(self, label: str) -> int:
        return len(self._harmful[label][0])

    def nearest(self, vectors: np.ndarray) -> Nearest:
        vectors = np.asarray(vectors, dtype=np.float32)
        n = len(vectors)
        harmful, index, lookalike = {}, {}, {}
        for label in SEMANTIC_LABELS:
            rows, matrix = self._harmful[label]
            if len(rows):
                similarity = vectors @ matrix.T
                best = similarity.argmax(axis=1)
                harmful[label] = similarity[np.arange(n), best].astype(np.float64)
                index[label] = rows[best]
            else:
                harmful[label], index[label] = np.full(n, -1.0), np.full(n, -1)
            matrix = self._lookalike[label]
            lookalike[label] = ((vectors @ matrix.T).max(axis=1).astype(np.float64)
                                if len(matrix) else np.full(n, -1.0))
        return Nearest(harmful, index, lookalike)
