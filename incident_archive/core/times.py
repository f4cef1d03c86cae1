"""Timestamps in the archive: always UTC, ISO 8601, second precision, with a ``Z``.

Status pages publish times in every shape (``2022-08-16T13:38:19.282Z``,
``2019-02-20T12:00:19.418-06:00``, ``Feb 11, 2021 - 14:00 PST``). Users compare and
subtract them in SQL, so the archive stores exactly one form, which also sorts as text.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo

from dateutil import parser as dateparser
from dateutil import tz

# Zone abbreviations that status pages print and dateutil does not know by itself.
ZONE_ABBREVIATIONS: dict[str, tzinfo] = {
    "UTC": timezone.utc,
    "GMT": timezone.utc,
    "Z": timezone.utc,
    "PST": tz.gettz("America/Los_Angeles"),
    "PDT": tz.gettz("America/Los_Angeles"),
    "PT": tz.gettz("America/Los_Angeles"),
    "MST": tz.gettz("America/Denver"),
    "MDT": tz.gettz("America/Denver"),
    "CST": tz.gettz("America/Chicago"),
    "CDT": tz.gettz("America/Chicago"),
    "EST": tz.gettz("America/New_York"),
    "EDT": tz.gettz("America/New_York"),
    "ET": tz.gettz("America/New_York"),
    "CT": tz.gettz("America/Chicago"),
    "CET": tz.gettz("Europe/Berlin"),
    "CEST": tz.gettz("Europe/Berlin"),
}

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def from_epoch(seconds: float) -> datetime:
    """An aware UTC datetime from epoch seconds; ValueError when the number is not a time
    the platform can hold (the C library answers such with OverflowError or OSError)."""
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (OverflowError, OSError) as error:
        raise ValueError(f"{seconds} is not a time in epoch seconds ({error})") from None


def parse_time(value, default_zone: tzinfo | None = timezone.utc) -> datetime | None:
    """Parse any timestamp a status page prints into an aware UTC datetime.

    A naive time is taken to be in ``default_zone`` (UTC unless the page says otherwise).
    Returns None for empty input; raises ValueError for text that is not a time.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        # Epoch seconds, or milliseconds when the number is too large for seconds.
        return from_epoch(value / 1000 if value > 1e11 else value)
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) == 20 and value[10] == "T" and value[19] == "Z":
        # The archive's own format: read directly (dateutil is ten times slower).
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            parsed = _parse_with_dateutil(value)
    elif isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        # ISO 8601, what JSON APIs send: the standard library reads it ten times faster.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = _parse_with_dateutil(value)
    else:
        parsed = _parse_with_dateutil(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone or timezone.utc)
    return parsed.astimezone(timezone.utc)


def _parse_with_dateutil(value) -> datetime:
    """Any other wording of a time ("Dec 26, 2024 19:00 PST", RFC 822 in feeds)."""
    try:
        return dateparser.parse(str(value), tzinfos=ZONE_ABBREVIATIONS)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"not a time: {value!r}") from error


def to_utc_iso(value, default_zone: tzinfo | None = timezone.utc) -> str | None:
    """The archive's one time format: ``2024-12-26T19:00:00Z`` (None stays None)."""
    parsed = parse_time(value, default_zone)
    return parsed.strftime(ISO_FORMAT) if parsed else None


def seconds_between(start: str | None, end: str | None) -> int | None:
    """Whole seconds from ``start`` to ``end`` (archive-format strings), or None."""
    if not start or not end:
        return None
    delta = parse_time(end) - parse_time(start)
    return int(delta.total_seconds())


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime(ISO_FORMAT)
