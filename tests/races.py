"""Force the worst interleaving of two deciders: both read a comment's state before either
writes, so only the compare-and-swap in services/lifecycle.py can keep one of them out."""

import threading

from moderation.services import lifecycle


def both_read_before_either_writes(monkeypatch, parties: int = 2) -> None:
    barrier = threading.Barrier(parties, timeout=10)
    seen = threading.local()
    real_current_state = lifecycle.current_state

    def current_state_then_wait(comment_id):
        state = real_current_state(comment_id)
        if not getattr(seen, "waited", False):
            seen.waited = True
            barrier.wait()
        return state

    monkeypatch.setattr(lifecycle, "current_state", current_state_then_wait)
