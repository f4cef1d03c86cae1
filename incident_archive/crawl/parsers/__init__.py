"""Parsers: pure functions from a response body to items, one module per source format.

They never touch the network or the database, so every one of them is tested on
real recorded bodies without a crawl. The only exception a parser raises on bad
input is :class:`ParseError`, which names the source and says what was wrong.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable

# What a parser's own code raises when a body has an unexpected shape it did not check
# for (a number where text was expected, a list where an object was).
SHAPE_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError, UnicodeError, RecursionError)


class ParseError(ValueError):
    """A body (or one record in it) that does not have the shape its format promises."""

    def __init__(self, source: str, reason: str):
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def load_json(body: bytes | str, source: str, what: str):
    """Decode a JSON body, turning any decoding failure into a ParseError for ``source``."""
    try:
        # json.loads on bytes detects UTF-8, UTF-16 and UTF-32, with or without a BOM.
        if isinstance(body, bytes) and body.startswith(b"\xef\xbb\xbf"):
            body = body[3:]
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise ParseError(source, f"{what} is not valid JSON ({error})") from None


def expect(value, kind: type | tuple[type, ...], source: str, what: str):
    """Return ``value`` if it is of ``kind``, else raise a ParseError naming ``what``."""
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ParseError(source, f"{what} should be {names}, got {type(value).__name__}")
    return value


def time_field(value, source: str, what: str) -> str | None:
    """A time in the archive's format, or a ParseError naming the field."""
    from incident_archive.core.times import to_utc_iso

    try:
        return to_utc_iso(value)
    except (ValueError, TypeError, OverflowError):
        raise ParseError(source, f"{what} is not a time: {value!r}") from None


def id_and_title(raw, source: str, title_key: str) -> tuple[str, str, str]:
    """An incident record's id and title, both required; and how to name it in errors."""
    expect(raw, dict, source, "incident")
    native_id = raw.get("id")
    if not isinstance(native_id, str) or not native_id:
        raise ParseError(source, "incident has no id")
    where = f"incident {native_id}"
    title = raw.get(title_key)
    if not isinstance(title, str) or not title.strip():
        raise ParseError(source, f"{where} has no {title_key}")
    return native_id, title.strip(), where


def shape_error(source: str, error: Exception, what: str = "body") -> ParseError:
    if isinstance(error, ParseError):
        return error
    return ParseError(source, f"{what} has an unexpected shape ({type(error).__name__}: {error})")


def parser(function: Callable) -> Callable:
    """Make a parser's only exception its ParseError, whatever the body holds.

    Parsers check the shapes they rely on and say what was wrong; this is the net under
    them, so a shape nobody foresaw still names the source instead of crashing the crawl.
    """

    @functools.wraps(function)
    def wrapper(body, source: str, *args, **kwargs):
        try:
            return function(body, source, *args, **kwargs)
        except ParseError:
            raise
        except SHAPE_ERRORS as error:
            raise shape_error(source, error) from None

    return wrapper


def each_record(records, parse_one: Callable, source: str, *args):
    """Parse every record; returns ``(parsed, problems)``: a malformed record is reported
    as a ParseError and its well-formed neighbours are kept."""
    parsed, problems = [], []
    for raw in records:
        try:
            parsed.append(parse_one(raw, source, *args))
        except SHAPE_ERRORS as error:
            problems.append(shape_error(source, error, "a record"))
    return parsed, problems


def update_id(posted_at: str | None, status: str | None, body: str | None, prefix: str = "") -> str:
    """An id for an update its page gives none: from its content (time, status, text),
    never from its position in a list, which shifts when the page adds or drops one."""
    content = json.dumps([posted_at, status, " ".join((body or "").split())])
    return prefix + "c" + hashlib.sha1(content.encode()).hexdigest()[:16]
