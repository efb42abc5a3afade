"""Long texts are scored in overlapping windows that fit the model, cut between words, so
abuse at the end of a long comment is not truncated away."""

from __future__ import annotations

import re
from typing import Any

_WORD = re.compile(r"\S+")


def plan_windows(tokenizer: Any, text: str, budget: int, overlap: int) -> list[tuple[int, int]]:
    """Character spans of overlapping windows of at most `budget` tokens, cut between words."""
    units = _units(tokenizer, text, budget)
    if sum(tokens for _, _, tokens in units) <= budget:
        return [(0, len(text))]
    spans = []
    for first, last in _group_units(units, budget, overlap):
        spans.append((units[first][0], units[last - 1][1]))
    return spans


def _units(tokenizer: Any, text: str, budget: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) runs of text that a window never splits: words, mostly."""
    if getattr(tokenizer, "is_fast", False):
        return _units_from_offsets(tokenizer, text, budget)
    return _units_from_words(tokenizer, text, budget)


def _units_from_offsets(tokenizer: Any, text: str, budget: int) -> list[tuple[int, int, int]]:
    # verbose=False: over-long input is the point here, not a mistake worth a warning.
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = encoding["offset_mapping"]
    if len(offsets) <= budget:
        return [(0, len(text), len(offsets))]
    words: dict[Any, list[int]] = {}
    for position, word in enumerate(encoding.word_ids()):
        key = ("token", position) if word is None else word  # a token outside any word
        words.setdefault(key, []).append(position)
    units = []
    for positions in words.values():
        spans = [offsets[p] for p in positions]
        if len(positions) > budget:  # one "word" longer than a window: cut it by token
            units += [(start, end, 1) for start, end in spans]
        else:
            units.append((spans[0][0], spans[-1][1], len(positions)))
    return sorted(units)


def _units_from_words(tokenizer: Any, text: str, budget: int) -> list[tuple[int, int, int]]:
    # Slow tokenizers have no offsets: count tokens word by word instead.
    total = len(tokenizer.tokenize(text))
    if total <= budget:
        return [(0, len(text), total)]
    units: list[tuple[int, int, int]] = []
    previous_end = 0
    for match in _WORD.finditer(text):
        # With the whitespace before it, a byte-level BPE sees the word as it is mid-sentence.
        units += _split_to_fit(tokenizer, text, previous_end, match.start(), match.end(), budget)
        previous_end = match.end()
    return units


def _split_to_fit(tokenizer, text, lead, start, end, budget) -> list[tuple[int, int, int]]:
    tokens = len(tokenizer.tokenize(text[lead:end]))
    if tokens <= budget or end - start <= 1:
        return [(start, end, tokens)]
    middle = (start + end) // 2
    return _split_to_fit(tokenizer, text, start, start, middle, budget) + _split_to_fit(
        tokenizer, text, middle, middle, end, budget
    )


def _group_units(units, budget: int, overlap: int) -> list[tuple[int, int]]:
    """[first, last) unit ranges: greedy fill, then step back about `overlap` tokens."""
    groups = []
    first = 0
    while True:
        last, used = first, 0
        while last < len(units) and used + units[last][2] <= budget:
            used += units[last][2]
            last += 1
        last = max(last, first + 1)  # a unit bigger than the budget is truncated, not skipped
        groups.append((first, last))
        if last >= len(units):
            return groups
        following, repeated = last, 0
        while following - 1 > first and repeated + units[following - 1][2] <= overlap:
            following -= 1
            repeated += units[following][2]
        first = following


def window_texts(texts: list[str], plans: list[list[tuple[int, int]]]) -> list[str]:
    """Every window's text, text by text; a text that fits is passed whole, as Detoxify would."""
    return [
        text[start:end] if len(spans) > 1 else text
        for text, spans in zip(texts, plans, strict=True)
        for start, end in spans
    ]
