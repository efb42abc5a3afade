"""Finding listed words in text, through the simple ways people disguise them. Pure Python:
no Flask, no database (services/words.py keeps the lists and moves bands).

Matching is case- and accent-insensitive, on word boundaries, and sees through simple
evasions: stretched letters ("fuuck", "fuuuuck"), separators between letters ("f.u.c.k",
"f-u-c-k", "f_u_c_k"), a word spelled out letter by letter ("f u c k"), and digit or symbol
swaps ("sh1t", "@$$"). Where separators may go is what keeps innocent text clean:

- inside a word only punctuation may separate letters, never a space or an apostrophe, so
  "as socks" is not "ass" and "he'll" is not "hell";
- spaces count only when every letter stands alone ("a s s");
- the whole match must stand on word boundaries, so "Scunthorpe", "class" and "grape" pass;
- any letter may be stretched, so a listed "god" also flags "good": list words, not stems;
- a match that starts like a number ("455", "4.5s", "$55") is not a word.

Patterns run on a folded copy of the text (case, accents, compatibility forms, look-alike
Cyrillic and Greek letters, invisible characters) that remembers where each character came
from, so every match is reported as a span of the original text, ready to highlight."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

KINDS = ("banned", "suspect")

@dataclass(frozen=True)
class WordMatch:
    word: str  # the rule as the admin wrote it
    kind: str  # banned | suspect
    start: int  # a span of the original text
    end: int


@dataclass(frozen=True)
class Piece:
    """A stretch of text to show, marked when a word matched it."""

    text: str
    start: int
    end: int
    kind: str | None = None
    word: str | None = None


# ---- folding: the text the patterns see --------------------------------------------------

# Letters that look like Latin ones, as people use them to slip past a filter.
_LOOKALIKES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i",
    "ј": "j", "ѕ": "s", "ԁ": "d", "ӏ": "l", "к": "k", "α": "a", "ο": "o", "ι": "i",
    "κ": "k", "ν": "v", "ρ": "p", "υ": "u",
})
# Marks (accents, vowel signs), and zero-width and other invisible characters. Dropping every
# mark keeps word boundaries whole in scripts that write vowels as marks.
_DROPPED = ("Mn", "Mc", "Me", "Cf")


def fold(text: str) -> tuple[str, list[int] | None]:
    """Lower-case, compatibility-decomposed text without accents or invisible characters,
    and for each of its characters the index of the original one it came from (None when
    the two line up one to one, as they do for ASCII)."""
    if text.isascii():
        return text.lower(), None
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.category(part) in _DROPPED:
                continue
            for piece in part.casefold().translate(_LOOKALIKES):
                folded.append(piece)
                origin.append(index)
    return "".join(folded), origin


# ---- patterns ---------------------------------------------------------------------------

# Digits and symbols read as letters.
_SWAPS = {"a": "4@", "e": "3", "i": "1!|", "l": "1|", "o": "0", "s": "5$", "t": "7"}
# "!" and "|" end sentences and tables more often than they end words.
_NOT_LAST = "!|"
_DASHES = "\u2010-\u2015"
# Between the letters of one word: punctuation only. No space (that would join real words:
# "as socks") and no apostrophe (contractions: "he'll", "we'll").
_INNER = rf"[._\-*~^/\\{_DASHES}]"
_INNER_GLUE = rf"{_INNER}{{1,3}}"
# Between letters spelled out one by one: spaces too, and quotes and commas.
_SPELL = rf"[ \t._\-*~^/\\{_DASHES}'\u2018\u2019\",:;+]"
_SPELL_GLUE = f"{_SPELL}{{1,5}}"
# Between the words of a phrase, or the parts of "mother-fucker": anything, or nothing.
_PHRASE_GLUE = rf"[\s{_SPELL[1:-1]}]{{0,5}}"
_NUMBER = rf"(?![0-9$]{_SPELL}{{0,5}}[0-9])"
_BEFORE = r"(?<![^\W_])"  # not preceded by a letter or digit
_AFTER = r"(?![^\W_])"
_RULE_PARTS = re.compile(r"[\s'’\-]+")
# Where a word may start: a letter, digit or stand-in symbol after anything else.
_STARTS = re.compile(_BEFORE + "(?:[^\\W_]|[" + re.escape("".join(sorted(
    {swap for swaps in _SWAPS.values() for swap in swaps if not swap.isalnum()}))) + "])")


# How far one letter may be stretched ("fuuuu…ck"). Bounded so a hostile "f.f.f.f…" of
# thousands of characters costs linear time, not a scan to its end from every start.
_STRETCH = 40


def _letter(char: str, *, last: bool) -> str:
    swaps = _SWAPS.get(char, "")
    if last:
        swaps = "".join(swap for swap in swaps if swap not in _NOT_LAST)
    return "[" + re.escape(char + swaps) + "]" if swaps else re.escape(char)


def _runs(token: str) -> list[tuple[str, int]]:
    runs: list[tuple[str, int]] = []
    for char in token:
        if runs and runs[-1][0] == char:
            runs[-1] = (char, runs[-1][1] + 1)
        else:
            runs.append((char, 1))
    return runs


def _joined(token: str, *, last_token: bool) -> str:
    """The token's letters with punctuation allowed between them and repeats stretched."""
    runs = _runs(token)
    parts = []
    for position, (char, count) in enumerate(runs):
        letter = _letter(char, last=last_token and position == len(runs) - 1)
        more = f"(?:{_INNER_GLUE})?{letter}"
        if count == 1:
            # Stretched any number of times: "fuuck" is as evasive as "fuuuuck". (Listing
            # "god" would flag "good"; whole-word matching keeps "scunthorpe" safe, not that.)
            parts.append(f"{letter}(?:{more}){{0,{_STRETCH}}}")
        else:
            parts.append(f"{letter}(?:{more}){{{count - 1},{_STRETCH}}}")
    return "".join(parts)


def _spelled(token: str, *, last_token: bool) -> str:
    """The token spelled out: every letter on its own, separated ("f u c k", "f. u. c. k")."""
    letters = [_letter(char, last=last_token and index == len(token) - 1)
               for index, char in enumerate(token)]
    return _SPELL_GLUE.join(letters)


# The endings an inflecting rule also takes: plurals, past tense, -ing, -er.
_ENDINGS = "(?:s|es|'s|’s|ed|d|ing|er|ers)?"


def pattern(word: str, inflect: bool = False) -> str:
    """The regular expression (over folded text) for one rule; with `inflect`, its last word
    may end in a plural or another common ending ("idiot": "Idiots!", "idiot's")."""
    tokens = [token for token in _RULE_PARTS.split(fold(word)[0]) if token]
    alternatives = []
    for index, token in enumerate(tokens):
        last = index == len(tokens) - 1
        joined = _joined(token, last_token=last)
        alternatives.append(
            f"(?:{joined}|{_spelled(token, last_token=last)})" if len(token) > 1 else joined
        )
    # A rule with digits in it ("88") means them; otherwise digits are only stand-ins.
    guard = "" if any(char.isdigit() for char in word) else _NUMBER
    return _BEFORE + guard + _PHRASE_GLUE.join(alternatives) + (
        _ENDINGS if inflect else "") + _AFTER


# What a stand-in may be read as: "1" -> "il". A rule is tried where its first letter, or a
# stand-in for it, starts a word.
_READS_AS = {swap: "".join(letter for letter, swaps in _SWAPS.items() if swap in swaps)
             for swap in {swap for swaps in _SWAPS.values() for swap in swaps}}


class _Group:
    """The rules of one kind that start with one letter, as one expression, compiled when
    first needed (a long list takes a while to compile, and most texts need few groups)."""

    def __init__(self, words: list[str], inflecting: frozenset[str] = frozenset()):
        # Longest first: where a phrase and a word in it both match, the phrase shows.
        self.words = sorted(words, key=lambda word: (-len(fold(word)[0]), word))
        self.inflecting = inflecting
        self._expression: re.Pattern | None = None

    @property
    def expression(self) -> re.Pattern:
        if self._expression is None:
            self._expression = re.compile("|".join(
                f"(?P<w{index}>{pattern(word, word in self.inflecting)})"
                for index, word in enumerate(self.words)))
        return self._expression


class Matcher:
    """The active word rules, compiled. Rules are grouped by kind (so a banned word is found
    even where a suspect phrase overlaps it) and by first letter (so at each word start only
    the few rules that could begin there are tried)."""

    def __init__(self, rules: Iterable[tuple]):
        """`rules`: (word, kind) or (word, kind, inflect) tuples."""
        grouped: dict[str, dict[str, list[str]]] = {kind: {} for kind in KINDS}
        inflecting: set[str] = set()
        for word, kind, *inflect in rules:
            if inflect and inflect[0]:
                inflecting.add((word, kind))
            tokens = [token for token in _RULE_PARTS.split(fold(word)[0]) if token]
            if tokens:
                grouped[kind].setdefault(tokens[0][0], []).append(word)
        self._groups: dict[str, dict[str, _Group]] = {}
        for kind, by_first in grouped.items():
            for first, words in by_first.items():
                self._groups.setdefault(kind, {})[first] = _Group(
                    words, frozenset(word for word in words if (word, kind) in inflecting))

    def __bool__(self) -> bool:
        return bool(self._groups)

    def find(self, text: str) -> list[WordMatch]:
        if not self._groups or not text:
            return []
        folded, origin = fold(text)
        starts = [found.start() for found in _STARTS.finditer(folded)]
        matches = []
        for kind, groups in self._groups.items():
            resume = 0
            for position in starts:
                if position < resume:
                    continue  # inside the last match: matches do not overlap within a kind
                best, words = None, None
                char = folded[position]
                for first in char + _READS_AS.get(char, ""):
                    group = groups.get(first)
                    found = group.expression.match(folded, position) if group else None
                    if found and (best is None or found.end() > best.end()):
                        best, words = found, group.words
                if best is None:
                    continue
                resume = best.end()
                start, end = best.span()
                if origin is not None:
                    start, end = origin[start], origin[end - 1] + 1
                    # The last letter keeps its accents and vowel signs.
                    while end < len(text) and unicodedata.category(text[end]).startswith("M"):
                        end += 1
                matches.append(WordMatch(words[int(best.lastgroup[1:])], kind, start, end))
        return sorted(matches, key=lambda match: (match.start, KINDS.index(match.kind)))


def distinct(words: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(words))


def pieces(text: str, matches: Sequence[WordMatch], cuts: Iterable[int | None] = ()
           ) -> list[Piece]:
    """`text` cut into pieces that are each wholly inside one match or outside all of them,
    and also cut at `cuts` (say, a window to mark around some pieces). Where a banned and a
    suspect match overlap, the banned one shows."""
    owner: list[int | None] = [None] * len(text)
    # Suspect first so banned ones, written later, win where they overlap.
    ranked = sorted(range(len(matches)), key=lambda index: matches[index].kind == "banned")
    for index in ranked:
        match = matches[index]
        for position in range(max(0, match.start), min(len(text), match.end)):
            owner[position] = index
    stops = {0, len(text)} | {cut for cut in cuts if cut is not None and 0 <= cut <= len(text)}
    stops |= {position for position in range(1, len(text))
              if owner[position] != owner[position - 1]}
    result = []
    edges = sorted(stops)
    for start, end in zip(edges, edges[1:], strict=False):
        index = owner[start]
        match = matches[index] if index is not None else None
        result.append(Piece(text[start:end], start, end, match.kind if match else None,
                            match.word if match else None))
    return result


def summary(matches: Sequence[WordMatch]) -> dict[str, list[str]]:
    """{"banned": [...], "suspect": [...]}: the distinct rules that matched, for a note."""
    return {kind: distinct(match.word for match in matches if match.kind == kind)
            for kind in KINDS if any(match.kind == kind for match in matches)}
