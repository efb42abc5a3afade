"""The offline default: the swear-word model (alt-profanity-check) for toxicity and obscenity,
plus sentence embeddings compared with curated example sentences for what swearing does not
show (threats, attacks on groups, insults, severe abuse, sexual content).

Everything ships inside installed packages and this repository; nothing is downloaded."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .base import BASE_LABELS, ScoredText, ScorerIdentity, check_texts
from .embedded import EmbeddedScorer
from .encoder import DIMENSIONS, SentenceEncoder
from .examples import (
    SEMANTIC_LABELS,
    Calibration,
    Example,
    ExampleIndex,
    fingerprint,
    shipped_examples,
)


@dataclass(frozen=True)
class _State:
    index: ExampleIndex
    identity: ScorerIdentity


class CompositeScorer:
    name = "composite"
    produces: tuple[str, ...] = BASE_LABELS

    def __init__(self, examples: Sequence[Example] | None = None, *,
                 encoder: SentenceEncoder | None = None,
                 profanity: EmbeddedScorer | None = None,
                 calibration: Calibration | None = None, batch_size: int = 32):
        self.encoder = encoder or SentenceEncoder(batch_size=batch_size)
        self.profanity = profanity or EmbeddedScorer()
        self._calibration = calibration
        self._examples = list(shipped_examples() if examples is None else examples)
        self._vectors: dict[str, np.ndarray] = {}  # example text -> embedding
        self._state: _State | None = None
        self._lock = threading.Lock()
        self.identity = self._identity(fingerprint(self._examples))

    def _identity(self, examples_fingerprint: str) -> ScorerIdentity:
        apc = self.profanity.identity.version
        minilm = self.encoder.identity.version.removeprefix("sha256:")[:8]
        return ScorerIdentity(self.name, f"apc{apc}+minilm:{minilm}+ex:{examples_fingerprint}")

    @property
    def ready(self) -> bool:
        return self._state is not None

    @property
    def examples(self) -> list[Example]:
        return list(self._examples)

    def load(self) -> None:
        with self._lock:
            if self._state is None:
                self.profanity.load()
                self.encoder.load()
                if self._calibration is None:
                    self._calibration = Calibration.load()
                self._state = self._build(self._examples)

    def set_examples(self, examples: Sequence[Example]) -> None:
        """Use this set of examples from the next call on; only new sentences are embedded."""
        examples = list(examples)
        with self._lock:
            self._examples = examples
            if self._state is not None:
                self._state = self._build(examples)
            else:
                self.identity = self._identity(fingerprint(examples))

    def _build(self, examples: list[Example]) -> _State:
        missing = sorted({e.text for e in examples} - set(self._vectors))
        if missing:
            self._vectors.update(zip(missing, self.encoder.encode(missing), strict=True))
        vectors = np.array([self._vectors[e.text] for e in examples], dtype=np.float32)
        index = ExampleIndex(examples, vectors.reshape(len(examples), DIMENSIONS))
        self.identity = self._identity(index.fingerprint)
        return _State(index, self.identity)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Whole-text embeddings (truncated at a window), as the examples are embedded; the
        examples already in use come from memory."""
        texts = check_texts(texts)
        if not texts:
            return np.empty((0, DIMENSIONS), dtype=np.float32)
        unknown = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        fresh = dict(zip(unknown, self.encoder.encode(unknown), strict=True))
        return np.array([self._vectors.get(text, fresh.get(text)) for text in texts],
                        dtype=np.float32).reshape(len(texts), -1)

    def score(self, texts: Sequence[str]) -> list[ScoredText]:
        texts = check_texts(texts)
        if not texts:
            return []
        self.load()
        state, calibration = self._state, self._calibration
        plans = [self.encoder.plan(text) for text in texts]
        windows = [text[start:end] if len(spans) > 1 else text
                   for text, spans in zip(texts, plans, strict=True) for start, end in spans]
        vectors = self.encoder.encode(windows)
        semantic, matches = state.index.score(vectors, calibration)
        swearing = np.array([s.labels["toxicity"] for s in self.profanity.score(windows)])
        rows = np.column_stack([
            np.maximum(swearing, semantic["toxicity"]) if label == "toxicity"
            else swearing if label == "obscene" else semantic[label]
            for label in BASE_LABELS
        ])
        scored, cursor = [], 0
        for spans in plans:
            window_rows = rows[cursor : cursor + len(spans)]
            top = int(window_rows.max(axis=1).argmax())
            labels = {label: round(float(window_rows[:, i].max()), 6)
                      for i, label in enumerate(BASE_LABELS)}
            # Each label's match comes from the window where that label peaked.
            closest = {label: matches[cursor + int(window_rows[:, BASE_LABELS.index(label)]
                                                     .argmax())][label]
                       for label in SEMANTIC_LABELS if label in matches[cursor]}
            scored.append(ScoredText(
                labels=labels, windows=len(spans),
                top_window=spans[top] if len(spans) > 1 else None,
                embedding=vectors[cursor + top], matches=closest))
            cursor += len(spans)
        return scored
