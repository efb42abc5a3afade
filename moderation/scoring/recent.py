"""The scores of recently seen texts: an identical text (one comment pasted by many accounts, a
reader who posts the same thing twice) is scored once while the scorer's version stays the
same. Plain least-recently-used memory per process; a new scorer version (other examples,
other heads) misses, because the version is part of the key."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from .base import ScoredText, Scorer


class RecentScores:
    def __init__(self, size: int):
        self.size = max(0, int(size))
        self._known: OrderedDict[tuple[str, str, str], ScoredText] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def score(self, scorer: Scorer, texts: Sequence[str]) -> list[ScoredText]:
        """scorer.score(texts), asking the scorer only for the texts not remembered (each
        distinct text once). Results are shared, never mutated: callers replace() them."""
        if not self.size:
            return list(scorer.score(list(texts)))
        identity = scorer.identity
        keys = [(identity.name, identity.version, text) for text in texts]
        found: dict[tuple[str, str, str], ScoredText] = {}
        with self._lock:
            for key in keys:
                if key in self._known:
                    self._known.move_to_end(key)
                    found[key] = self._known[key]
        missing = list(dict.fromkeys(key for key in keys if key not in found))
        if missing:
            scored = scorer.score([text for _, _, text in missing])
            if len(scored) != len(missing):
                raise RuntimeError(f"scorer returned {len(scored)} results for "
                                   f"{len(missing)} texts")
            found.update(zip(missing, scored, strict=True))
            with self._lock:
                for key, result in zip(missing, scored, strict=True):
                    self._known[key] = result
                while len(self._known) > self.size:
                    self._known.popitem(last=False)
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        return [found[key] for key in keys]
