"""Parsers: pure functions from a response body to items, one module per source format.

They never touch the network or the database, so every one of them is tested on
real recorded bodies without a crawl. The only exception a parser raises on bad
input is :class:`ParseError`, which names the source and says what was wrong.
"""

from __future__ import annotations

import json


class ParseError(ValueError):
    """A body (or one record in it) that does not have the shape its format promises."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def load_json(body: bytes | str, source: str, what: str):
    """Decode a JSON body, turning any decoding failure into a ParseError for ``source``."""
    try:
        if isinstance(body, bytes):
            body = body.decode("utf-8-sig")
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise ParseError(source, f"{what} is not valid JSON ({error})") from None


def expect(value, kind: type | tuple[type, ...], source: str, what: str):
    """Return ``value`` if it is of ``kind``, else raise a ParseError naming ``what``."""
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ParseError(source, f"{what} should be {names}, got {type(value).__name__}")
    return value
