"""A filter on the start of a time reads the index, as a filter on a range does.

Datasette's ``started_at__startswith=2024`` is ``started_at LIKE '2024%'``, which SQLite
cannot answer from an index (LIKE ignores case): a year's CSV of a million incidents
scanned them all (135 ms at p95, against 59 ms for the same rows asked by range). Every
``*_at`` column of the archive holds an ISO time in UTC, so for a prefix of digits,
dashes, colons and 'T' the same rows are those from the prefix up to the prefix and '~'
('~' sorts after every character of an ISO time). This wrapper asks Datasette for that
range (``__gte`` and ``__lt``) instead; the page's filters show the range it ran.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

TIME_PREFIX = re.compile(r"[0-9][0-9T:-]*")


def as_ranges(query: str) -> str | None:
    """``query`` with each ``<time column>__startswith=<prefix>`` as a range, or None when
    it has none that can be."""
    pairs = parse_qsl(query, keep_blank_values=True)
    keys = {key for key, _ in pairs}
    rewritten, changed = [], False
    for key, value in pairs:
        column, _, operation = key.rpartition("__")
        if operation == "startswith" and column.endswith("_at") and TIME_PREFIX.fullmatch(value) \
                and f"{column}__gte" not in keys and f"{column}__lt" not in keys:
            rewritten += [(f"{column}__gte", value), (f"{column}__lt", value + "~")]
            changed = True
        else:
            rewritten.append((key, value))
    return urlencode(rewritten) if changed else None


def prefixes_as_ranges(app):
    """An ASGI wrapper applying ``as_ranges`` to every request's query string."""
    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and b"__startswith=" in scope.get("query_string", b""):
            query = as_ranges(scope["query_string"].decode("utf-8", "replace"))
            if query is not None:
                scope = dict(scope, query_string=query.encode())
        await app(scope, receive, send)

    return wrapped
