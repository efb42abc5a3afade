"""The scoring worker's numeric settings, checked before a worker starts: `flask worker` and
`flask supervise` stop with one sentence per bad value instead of a traceback (or, under the
supervisor, a worker that dies and is restarted over and over)."""

from __future__ import annotations

import math

# (kind, smallest allowed, what it is: for the message)
SETTINGS = {
    "MODERATION_WORKER_THREADS": (int, 0, "model threads, 0 for one per core"),
    "MODERATION_WORKER_NICE": (int, 0, "how much to lower the priority, 0 for not at all"),
    "MODERATION_WORKER_RECENT_TEXTS": (int, 0, "texts remembered, 0 for none"),
    "MODERATION_WORKER_BATCH": (int, 1, "comments claimed at once"),
    "MODERATION_WORKER_POLL_SECONDS": (float, 0.0, "seconds between looks for work"),
    "MODERATION_WORKER_GATHER_SECONDS": (float, 0.0, "seconds to wait for more posts"),
    "MODERATION_LEASE_SECONDS": (float, 1.0, "seconds a claim lasts"),
    "MODERATION_SCORE_TIMEOUT_SECONDS": (float, 0.1, "seconds a batch may take"),
    "MODERATION_LOAD_TIMEOUT_SECONDS": (float, 0.1, "seconds loading the model may take"),
    "MODERATION_RETRY_BASE_SECONDS": (float, 0.0, "first retry delay in seconds"),
    "MODERATION_RETRY_MAX_SECONDS": (float, 0.0, "longest retry delay in seconds"),
    "MODERATION_SITE_MODEL_RETRAIN_EVERY": (int, 0, "decisions between retrainings, 0 for never"),
    "MODERATION_SITE_MODEL_CHECK_SECONDS": (float, 0.0, "seconds between retraining checks"),
    "MODERATION_WEBHOOKS_EVERY_SECONDS": (float, 0.0, "seconds between webhook deliveries"),
}


def setting_problems(config) -> list[str]:
    """What is wrong with the worker's settings, one sentence each (empty: all fine), so that
    `flask worker` and `flask supervise` stop with a message instead of a traceback."""
    problems = []
    for key, (kind, least, meaning) in SETTINGS.items():
        value = config.get(key)
        whole = kind is int
        try:
            if isinstance(value, bool) or (whole and isinstance(value, float)):
                raise ValueError
            number = kind(value)
            if not math.isfinite(number):  # "nan", "inf"
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"{key} ({meaning}) must be "
                            f"{'a whole number' if whole else 'a number'}; it is {value!r}.")
            continue
        if number < least:
            problems.append(f"{key} ({meaning}) must be at least {least:g}; it is {value!r}.")
    return problems
