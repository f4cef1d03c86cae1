"""Times no status page can mean: kept out of the archive, and named.

A time before 1990, more than a day after the crawl, or a resolution before the start
is a typing slip or a placeholder (``9999-12-31``, the Unix epoch). Stored, one such
value makes a source's mean time to resolve hundreds of thousands of hours. The record
is kept; only the absurd value is dropped, and the crawl says which it was.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from incident_archive.core.items import IncidentItem

EARLIEST = "1990-01-01T00:00:00Z"
FUTURE_MARGIN = timedelta(days=1)


def _latest(now: datetime | None) -> str:
    now = now or datetime.now(timezone.utc)
    return (now + FUTURE_MARGIN).strftime("%Y-%m-%dT%H:%M:%SZ")


def _absurd(value: str | None, latest: str) -> bool:
    return bool(value) and not (EARLIEST <= value <= latest)


def absurd_times(item: IncidentItem, now: datetime | None = None) -> list[str]:
    """Drop the absurd times of ``item`` (in place); returns one problem per value dropped."""
    latest = _latest(now)
    where = f"incident {item.native_id}"
    problems = []
    for field in ("started_at", "resolved_at", "created_at", "updated_at"):
        value = getattr(item, field)
        if _absurd(value, latest):
            problems.append(f"{where}: {field} {value} is not a plausible time; not kept")
            setattr(item, field, None)
    if item.started_at and item.resolved_at and item.resolved_at < item.started_at:
        problems.append(f"{where}: resolved_at {item.resolved_at} is before started_at {item.started_at}; not kept")
        item.resolved_at = None
    for update in item.updates:
        if _absurd(update.posted_at, latest):
            problems.append(f"{where}: update {update.native_id} posted_at {update.posted_at} is not a plausible time;"
                            " not kept")
            update.posted_at = None
    for impact in item.component_impacts:
        for field in ("start_at", "end_at"):
            value = getattr(impact, field)
            if _absurd(value, latest):
                problems.append(f"{where}: component {impact.component_native_id} {field} {value} is not a "
                                "plausible time; not kept")
                setattr(impact, field, None)
    return problems
