"""People's names as typed: one normal form (NFKC), no invisible characters, and a "looks
like" key so "ＡDM1N" or "adm.in" is seen for the staff name it imitates.

Zero-width characters and bidi controls (U+200B, U+202E …) make two different strings look
the same, or one look like another ("\u202emoderator"); a name never needs them."""

from __future__ import annotations

import unicodedata

# Unicode "format" characters (Cf: zero-width space/joiners, bidi embeddings, overrides and
# isolates, word joiner, BOM, soft hyphen …) plus the few invisible ones outside Cf.
_INVISIBLE_EXTRA = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u2028\u2029\u180b\u180c"
                             "\u180d\u180f")


def _invisible(char: str) -> bool:
    point = ord(char)
    return (unicodedata.category(char) in ("Cf", "Zl", "Zp") or char in _INVISIBLE_EXTRA
            # variation selectors, but not FE0E/FE0F, which pick text or emoji style ("❤️")
            or 0xFE00 <= point <= 0xFE0D or 0xE0100 <= point <= 0xE01EF)
# Letters and digits a reader might use to imitate another name.
_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "i": "l", "3": "e", "4": "a", "5": "s",
                            "7": "t", "8": "b", "@": "a", "$": "s", "|": "l", "!": "l"})


def normalise(name: str | None) -> str:
    """NFKC and trimmed: full-width "ａｄｍｉｎ" is "admin"."""
    return unicodedata.normalize("NFKC", name or "").strip()


def hidden_characters(name: str | None) -> str | None:
    """A description of the first invisible or direction-changing character, or None."""
    for char in name or "":
        if _invisible(char):
            label = unicodedata.name(char, "").lower() or "an invisible character"
            return f"an invisible or text-direction character (U+{ord(char):04X} {label})"
    return None


def skeleton(name: str | None) -> str:
    """What a name looks like: case, accents, spacing, punctuation and digit-for-letter
    swaps removed. Two names with one skeleton read as the same name."""
    text = unicodedata.normalize("NFKD", normalise(name).casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.translate(_LOOKALIKE)
    text = text.replace("rn", "m").replace("vv", "w")
    return "".join(char for char in text if char.isalnum())
