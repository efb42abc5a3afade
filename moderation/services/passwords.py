"""What a staff password must be: at least 12 characters and not guessable, judged offline
by zxcvbn (common passwords, names, keyboard walks, dates, l33t, the username itself)."""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 12
MIN_SCORE = 3  # zxcvbn 0..4: 3 is "safely unguessable" (about 10^8 guesses or more)
ESTIMATE_CHARS = 100  # zxcvbn's cost grows with length; beyond this, length alone is plenty
LABELS = ("very weak", "weak", "fair", "strong", "very strong")


def strength(password: str, *, username: str | None = None) -> dict:
    """{"score": 0..4, "label", "acceptable", "warning", "suggestions"} for the meter."""
    password = password or ""
    inputs = [username] if username else []
    if not password:
        return {"score": 0, "label": LABELS[0], "acceptable": False, "warning": "",
                "suggestions": [f"Use at least {MIN_LENGTH} characters."]}
    result = zxcvbn(password[:ESTIMATE_CHARS], user_inputs=inputs)
    score = int(result["score"])
    feedback = result.get("feedback") or {}
    suggestions = list(feedback.get("suggestions") or [])
    if len(password) < MIN_LENGTH:
        suggestions.insert(0, f"Use at least {MIN_LENGTH} characters.")
    return {"score": score, "label": LABELS[score],
            "acceptable": len(password) >= MIN_LENGTH and score >= MIN_SCORE,
            "warning": feedback.get("warning") or "", "suggestions": suggestions}


def problem(password: str, *, username: str | None = None) -> str | None:
    """Why this password is refused, in a sentence; None when it is good enough."""
    if len(password or "") < MIN_LENGTH:
        return f"A password needs at least {MIN_LENGTH} characters."
    found = strength(password, username=username)
    if found["acceptable"]:
        return None
    why = found["warning"] or "It would be easy to guess."
    hint = found["suggestions"][0] if found["suggestions"] else \
        "Add a few uncommon words, or use a password manager."
    return f"That password is too easy to guess: {why.rstrip('.')}. {hint}"
