"""Curated example sentences per label, and the label probabilities a text gets from how close
it comes to them.

Each label has harmful examples ("+") and harmless look-alikes ("-") that share its words or
topics. A text's features for a label are its highest and top-3 mean cosine similarity to the
harmful examples and its highest similarity to any look-alike; a logistic calibration per label
(calibration.json, fitted by `python -m moderation.scoring.calibrate`) turns them into a
probability."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import ExampleMatch

FOLDER = Path(__file__).with_name("examples")
CALIBRATION_FILE = FOLDER / "calibration.json"
# The labels the examples speak for ("obscene" is the swear-word model's alone).
SEMANTIC_LABELS: tuple[str, ...] = (
    "toxicity", "severe_toxicity", "threat", "insult", "identity_attack", "sexual_explicit",
)
# Harmless comments of every kind: look-alikes for every label at once.
ORDINARY = "ordinary"
TOP_K = 3
FEATURES = ("max_harmful", f"top{TOP_K}_harmful", "max_lookalike")


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
class Calibration:
    """Per label: weights over FEATURES and a bias of a logistic curve."""

    weights: dict[str, tuple[float, ...]]
    bias: dict[str, float]

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        data = json.loads(path.read_text(encoding="utf-8"))
        labels = data["labels"]
        return cls(weights={label: tuple(rule["weights"]) for label, rule in labels.items()},
                   bias={label: float(rule["bias"]) for label, rule in labels.items()})

    def probability(self, label: str, features: np.ndarray) -> np.ndarray:
        weights = np.asarray(self.weights[label], dtype=np.float64)
        logits = features.astype(np.float64) @ weights + self.bias[label]
        return 1.0 / (1.0 + np.exp(-logits))


class ExampleIndex:
    """The examples' embeddings, grouped per label, ready to compare texts with."""

    def __init__(self, examples: Sequence[Example], vectors: np.ndarray):
        self.examples = list(examples)
        self.fingerprint = fingerprint(self.examples)
        vectors = np.asarray(vectors, dtype=np.float32)
        lookalike = [i for i, e in enumerate(self.examples) if not e.harmful]
        self._lookalikes = vectors[lookalike]
        self._harmful: dict[str, tuple[list[int], np.ndarray]] = {}
        for label in SEMANTIC_LABELS:
            # Every harmful example is toxic; the other labels have their own.
            rows = [i for i, e in enumerate(self.examples)
                    if e.harmful and (label == "toxicity" or e.label == label)]
            self._harmful[label] = (rows, vectors[rows])

    def count(self, label: str) -> int:
        return len(self._harmful[label][0])

    def features(self, vectors: np.ndarray, exclude: np.ndarray | None = None
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per label, (N x 3) features and the index (into examples) of the closest harmful
        example. `exclude[i]` is an example index that text i must not be compared with
        (leave-one-out calibration), or -1."""
        vectors = np.asarray(vectors, dtype=np.float32)
        n = len(vectors)
        lookalike_sim = self._similarities(vectors, self._lookalikes, exclude,
                                           [i for i, e in enumerate(self.examples)
                                            if not e.harmful])
        max_lookalike = lookalike_sim.max(axis=1) if lookalike_sim.shape[1] else np.zeros(n)
        features, closest = {}, {}
        for label in SEMANTIC_LABELS:
            rows, matrix = self._harmful[label]
            if not rows:
                features[label] = np.column_stack([np.zeros(n), np.zeros(n), max_lookalike])
                closest[label] = np.full(n, -1)
                continue
            similarity = self._similarities(vectors, matrix, exclude, rows)
            top = np.sort(similarity, axis=1)[:, ::-1][:, :TOP_K]
            features[label] = np.column_stack([top[:, 0], top.mean(axis=1), max_lookalike])
            closest[label] = np.asarray(rows)[similarity.argmax(axis=1)]
        return features, closest

    @staticmethod
    def _similarities(vectors, matrix, exclude, rows) -> np.ndarray:
        similarity = vectors @ matrix.T if len(matrix) else np.zeros((len(vectors), 0))
        if exclude is not None and len(rows):
            position = {example: column for column, example in enumerate(rows)}
            for text_index, example in enumerate(exclude):
                column = position.get(int(example))
                if column is not None:
                    similarity[text_index, column] = -1.0
        return similarity

    def score(self, vectors: np.ndarray, calibration: Calibration
              ) -> tuple[dict[str, np.ndarray], list[dict[str, ExampleMatch]]]:
        """Per label probabilities for each vector, and each vector's closest harmful example
        per label."""
        features, closest = self.features(vectors)
        probabilities = {label: calibration.probability(label, features[label])
                         for label in SEMANTIC_LABELS}
        matches: list[dict[str, ExampleMatch]] = [{} for _ in range(len(vectors))]
        for label in SEMANTIC_LABELS:
            for row, example in enumerate(closest[label]):
                if example >= 0:
                    matches[row][label] = ExampleMatch(
                        self.examples[example].text, round(float(features[label][row, 0]), 4))
        return probabilities, matches
