"""JSON from outside (request bodies, page cursors) parsed with a depth limit.

Python's parser recurses once per nesting level: `[[[[…` 1,000 deep raises RecursionError,
which is not a ValueError and would be a 500. Here too-deep input is a ValueError like any
other malformed JSON, and anything deeper than MAX_DEPTH is refused before it is used."""

from __future__ import annotations

import json

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32


class TooDeep(ValueError):
    pass


def depth(value) -> int:
    """Nesting depth without recursion: a scalar is 0, [] or {} is 1."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            items = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in items)
    return deepest


def loads(text, **kwargs):
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise TooDeep(f"JSON nested more than {MAX_DEPTH} levels deep") from None
    if depth(value) > MAX_DEPTH:
        raise TooDeep(f"JSON nested more than {MAX_DEPTH} levels deep")
    return value


class Provider(DefaultJSONProvider):
    """The app's JSON provider: request.get_json() goes through loads() above."""

    def loads(self, s, **kwargs):
        return loads(s, **kwargs)
