"""A fake scorer for pipeline plumbing only. It never backs a claim about scoring quality:
the scoring tests use the real Detoxify loader and the real packaged model."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence

from moderation.scoring import BASE_LABELS, ScoredText, ScorerError, ScorerIdentity

MARKER = re.compile(r"\[(?P<label>[a-z_]+)=(?P<value>[0-9.]+)\]")


class FakeScorer:
    """Reads scores from markers in the text: "[toxicity=0.95]". Unmarked text scores 0.01.
    "[fail]" raises, "[slow]" sleeps `slow_seconds`."""

    produces = BASE_LABELS

    def __init__(self, name: str = "fake", version: str = "1", slow_seconds: float = 5.0):
        self.identity = ScorerIdentity(name, version)
        self.slow_seconds = slow_seconds
        self.loaded = False
        self.calls: list[list[str]] = []
        self.fail_all = False
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self.loaded

    def load(self) -> None:
        self.loaded = True

    def score(self, texts: Sequence[str]) -> list[ScoredText]:
        self.load()
        with self._lock:
            self.calls.append(list(texts))
        if self.fail_all or any("[fail]" in text for text in texts):
            raise ScorerError("the fake scorer was told to fail")
        if any("[slow]" in text for text in texts):
            time.sleep(self.slow_seconds)
        return [self._one(text) for text in texts]

    @staticmethod
    def _one(text: str) -> ScoredText:
        labels = {"toxicity": 0.01}
        for match in MARKER.finditer(text):
            labels[match["label"]] = float(match["value"])
        return ScoredText(labels=labels)
