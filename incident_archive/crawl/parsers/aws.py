"""AWS Health Dashboard: ``/public/currentevents``, its history events, the legacy
``status.aws.amazon.com/data.json`` and the RSS feed.

The current events are JSON served as UTF-16 with a byte-order mark. An event names its
region and service in its ARN (``arn:aws:health:us-west-2::event/MULTIPLE_SERVICES/…``);
its ``event_log`` entries are the updates; status codes run 0 (resolved), 1
(informational), 2 (degraded), 3 (disrupted). The legacy form has one entry per event
with its updates as HTML ``<div>``s, each starting with a local time.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone

import feedparser
from bs4 import BeautifulSoup

from incident_archive.core.times import ISO_FORMAT, ZONE_ABBREVIATIONS, from_epoch, parse_time, to_utc_iso
from incident_archive.core.items import ComponentItem, IncidentItem, RegionItem, UpdateItem
from incident_archive.crawl.parsers import ParseError, each_record, expect, load_json, parser, update_id
from incident_archive.core.windows import MONTH, TIME, ZONE, apply_stated_window

IMPACT_BY_CODE = {0: "none", 1: "minor", 2: "major", 3: "critical"}
STATUS_PREFIX = re.compile(r"^\s*\[(RESOLVED|INFORMATIONAL|UPDATE)\]\s*", re.IGNORECASE)


def decode(body: bytes | str, source: str) -> object:
    """JSON in whatever encoding AWS served it (UTF-16 with a BOM, or without, or UTF-8)."""
    return load_json(body, source, "events")


def _code(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _epoch(value, source, what) -> str | None:
    if value in (None, ""):
        return None
    try:
        return to_utc_iso(float(value))
    except (TypeError, ValueError, OverflowError, OSError):
        raise ParseError(source, f"{what} is not an epoch time: {value!r}") from None


def parse_event(raw, source: str, base_url: str) -> IncidentItem:
    """One event of ``currentevents`` or of the history events."""
    expect(raw, dict, source, "event")
    arn = raw.get("arn")
    if not isinstance(arn, str) or not arn.startswith("arn:") or "event/" not in arn:
        raise ParseError(source, f"event has no ARN: {arn!r}")
    fields = arn.split(":")
    region = fields[3] if len(fields) > 3 else ""
    path = arn.split("event/", 1)[1].split("/")
    service_code, event_id = path[0], path[-1]
    native_id = f"{region}:{event_id}" if region else event_id
    title = STATUS_PREFIX.sub("", str(raw.get("summary") or "")).strip()
    if not title:
        raise ParseError(source, f"event {native_id} has no summary")
    updates, codes = [], [_code(raw.get("status"))]
    for entry in expect(raw.get("event_log") or [], list, source, f"event {native_id} event_log"):
        expect(entry, dict, source, f"event {native_id} log entry")
        posted_at = _epoch(entry.get("timestamp"), source, f"event {native_id} log time")
        codes.append(_code(entry.get("status")))
        status = {0: "resolved", 1: "informational", 2: "degraded", 3: "disrupted"}.get(
            _code(entry.get("status")), str(entry.get("status")))
        updates.append(UpdateItem(native_id=update_id(posted_at, status, entry.get("message")), status=status,
                                  body=entry.get("message"), posted_at=posted_at))
    updates.sort(key=lambda u: u.posted_at or "")
    services = raw.get("impacted_services") if isinstance(raw.get("impacted_services"), dict) else {}
    components = []
    for key, service in services.items():
        if isinstance(service, dict):
            codes.append(_code(service.get("max")))
            components.append(ComponentItem(source=source, native_id=str(key), name=str(service.get("service_name") or key)))
    if not components:
        components.append(ComponentItem(source=source, native_id=str(raw.get("service") or service_code),
                                        name=str(raw.get("service_name") or service_code)))
    worst = max((c for c in codes if c is not None), default=0)
    end = _epoch(raw.get("end_time"), source, f"event {native_id} end_time")
    resolved = end is not None or _code(raw.get("status")) == 0
    start = _epoch(raw.get("date"), source, f"event {native_id} date") or (updates[0].posted_at if updates else None)
    incident = IncidentItem(
        source=source,
        native_id=native_id,
        title=title,
        impact=IMPACT_BY_CODE.get(worst, "major"),
        impact_raw=f"status {worst}",
        status="resolved" if resolved else "investigating",
        started_at=start,
        started_at_basis="posted",
        resolved_at=end if resolved else None,
        created_at=start,
        updated_at=updates[-1].posted_at if updates else start,
        url=f"{base_url.rstrip('/')}/#/event/{arn}",
        updates=updates,
        components=components,
        regions=[RegionItem(native_id=region, name=str(raw.get("region_name") or region))] if region else [],
    )
    apply_stated_window(incident)
    return incident


@parser
def parse_events(body, source: str, base_url: str):
    """Current or history events: a list of events, or lists of them keyed by service.

    Returns ``(incidents, problems)``; the same event listed twice is kept once.
    """
    data = decode(body, source)
    if isinstance(data, dict):
        raw_events = [e for value in data.values() if isinstance(value, list) for e in value]
    else:
        raw_events = expect(data, list, source, "events")
    incidents, problems = each_record(raw_events, parse_event, source, base_url)
    return list({incident.native_id: incident for incident in incidents}.values()), problems


LEGACY_REGION = re.compile(r"-((?:[a-z]{2}-)?(?:gov-)?[a-z]+-[a-z]+-\d)$")
LEGACY_TIME = re.compile(rf"^\s*(?:(?P<date>{MONTH}\s+\d{{1,2}}),\s*)?(?P<time>{TIME})\s*(?P<zone>{ZONE})?")


def parse_legacy_entry(raw, source: str, base_url: str) -> IncidentItem:
    """One entry of the pre-2023 ``data.json``: its updates are HTML divs of local times."""
    expect(raw, dict, source, "legacy entry")
    service, date = raw.get("service"), raw.get("date")
    if not service or not date:
        raise ParseError(source, "legacy entry has no service or date")
    native_id = f"{service}_{date}"
    day = from_epoch(float(date))
    updates: list[UpdateItem] = []
    for block in BeautifulSoup(raw.get("description") or "", "html.parser").find_all("div"):
        text = block.get_text(" ", strip=True).replace("\xa0", " ")
        match = LEGACY_TIME.match(text)
        posted_at = None
        if match:
            zone = ZONE_ABBREVIATIONS.get((match.group("zone") or "UTC").strip("()").upper(), timezone.utc)
            local = day.astimezone(zone)
            # Later updates carry their own date ("Aug 7, 1:50 AM PDT"); the year is the event's.
            when = f"{match.group('date')} {local.year}" if match.group("date") else local.strftime("%Y-%m-%d")
            posted_at = to_utc_iso(f"{when} {match.group('time')}", default_zone=zone)
            previous = next((u.posted_at for u in reversed(updates) if u.posted_at), None)
            if previous and posted_at < previous:  # the updates ran past local midnight
                posted_at = to_utc_iso(parse_time(posted_at) + timedelta(days=1))
            text = text[match.end():].strip()
        updates.append(UpdateItem(native_id=update_id(posted_at, None, text), status=None, body=text, posted_at=posted_at))
    posts = [u.posted_at for u in updates if u.posted_at]
    started_at = min([day.strftime(ISO_FORMAT), *posts])  # posts carry minutes only
    region = LEGACY_REGION.search(service)
    title = STATUS_PREFIX.sub("", str(raw.get("summary") or "")).strip() or str(raw.get("service_name"))
    code = _code(raw.get("status")) or 0
    resolved = str(raw.get("summary") or "").upper().startswith("[RESOLVED]")
    incident = IncidentItem(
        source=source,
        native_id=native_id,
        title=title,
        impact=IMPACT_BY_CODE.get(code, "major"),
        impact_raw=f"status {code}",
        status="resolved" if resolved else "investigating",
        started_at=started_at,
        started_at_basis="posted",
        resolved_at=max(posts) if resolved and posts else None,
        created_at=day.strftime(ISO_FORMAT),
        url=base_url,
        updates=updates,
        components=[ComponentItem(source=source, native_id=str(service), name=str(raw.get("service_name") or service))],
        regions=[RegionItem(native_id=region.group(1), name=region.group(1))] if region else [],
    )
    apply_stated_window(incident)
    return incident


@parser
def parse_legacy(body, source: str, base_url: str):
    """The legacy ``data.json`` (``{"archive": [...], "current": [...]}``)."""
    data = expect(decode(body, source), dict, source, "data.json")
    return each_record((data.get("archive") or []) + (data.get("current") or []), parse_legacy_entry, source, base_url)


# The RSS title's prefix says how the service stands: the impact and whether it is over.
RSS_PREFIXES = {
    "service is operating normally": ("minor", "resolved"),  # an event that is over
    "resolved": ("minor", "resolved"),
    "informational message": ("minor", "investigating"),
    "performance issues": ("minor", "investigating"),
    "service degradation": ("major", "investigating"),
    "service impact": ("major", "investigating"),
    "service disruption": ("critical", "investigating"),
}


@parser
def parse_rss(body, source: str, base_url: str) -> list[IncidentItem]:
    """The Service Health Dashboard RSS: one item per post, its guid ``#<service>_<epoch>``."""
    feed = feedparser.parse(body)
    if feed.bozo and not feed.entries:
        raise ParseError(source, f"RSS is not a feed ({feed.get('bozo_exception')})")
    incidents = []
    for entry in feed.entries:
        guid = entry.get("id") or ""
        native_id = guid.rsplit("#", 1)[-1]
        title = entry.get("title") or ""
        if not native_id or not title:
            continue
        impact, status = "major", "investigating"
        prefixes = []
        while ":" in title and title.split(":", 1)[0].strip().lower() in RSS_PREFIXES:
            prefix, title = title.split(":", 1)
            prefixes.append(prefix.strip().lower())
        for prefix in prefixes:  # "Resolved: Informational message: …" is resolved
            impact = RSS_PREFIXES[prefix][0] if prefix != "resolved" else impact
            status = "resolved" if "resolved" in (prefix, RSS_PREFIXES[prefix][1]) else status
        title = STATUS_PREFIX.sub("", title).strip()
        posted_at = to_utc_iso(entry.get("published")) if entry.get("published") else None
        service = native_id.rsplit("_", 1)[0]
        region = LEGACY_REGION.search(service)
        incident = IncidentItem(
            source=source,
            native_id=native_id,
            title=title,
            impact=impact if prefixes else "major",
            impact_raw=": ".join(prefixes) or None,
            status=status,
            started_at=posted_at,
            started_at_basis="posted",
            resolved_at=posted_at if status == "resolved" else None,
            created_at=posted_at,
            url=entry.get("link") or base_url,
            updates=[UpdateItem(native_id=native_id, status=status, body=entry.get("summary"), posted_at=posted_at)],
            components=[ComponentItem(source=source, native_id=service, name=service)],
            regions=[RegionItem(native_id=region.group(1), name=region.group(1))] if region else [],
        )
        apply_stated_window(incident)
        incidents.append(incident)
    return incidents
