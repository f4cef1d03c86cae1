"""Atlassian Statuspage's public JSON API (``/api/v2/*.json`` and ``/history``).

Used by GitHub, Cloudflare, Anthropic (status.claude.com) and, until 2025, OpenAI.
Times carry their own offsets; the impact scale is already ``none``..``critical``,
with scheduled maintenance told apart by its statuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import feedparser
from bs4 import BeautifulSoup

from incident_archive.core.times import parse_time, to_utc_iso
from incident_archive.core.items import ComponentItem, IncidentItem, SourceStatusItem, UpdateItem
from incident_archive.crawl.parsers import parser, ParseError, each_record, expect, id_and_title, load_json, time_field, update_id
from incident_archive.core.windows import apply_stated_window

MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
RESOLVED_STATUSES = {"resolved", "postmortem", "completed"}
STATUSPAGE_IMPACTS = {"none", "minor", "major", "critical", "maintenance"}


@dataclass
class HistoryEntry:
    """One line of the ``/history`` listing: enough to decide whether to fetch the incident."""

    code: str
    name: str | None
    impact: str | None


def map_impact(raw: str | None, status: str | None, scheduled: bool = False) -> str:
    """Statuspage's impact word onto the archive's scale (maintenance told apart)."""
    if scheduled or (status or "") in MAINTENANCE_STATUSES or raw == "maintenance":
        return "maintenance"
    return raw if raw in STATUSPAGE_IMPACTS else "none"


def parse_components(raw_components, source: str) -> list[ComponentItem]:
    """Leaf components with the name of their group; group containers are not components."""
    expect(raw_components, list, source, "components")
    groups = {
        c.get("id"): c.get("name")
        for c in raw_components
        if isinstance(c, dict) and c.get("group")
    }
    items = []
    for raw in raw_components:
        if not isinstance(raw, dict) or raw.get("group") or not raw.get("id"):
            continue
        items.append(
            ComponentItem(
                source=source,
                native_id=str(raw["id"]),
                name=str(raw.get("name") or raw["id"]),
                status=raw.get("status"),
                group_name=groups.get(raw.get("group_id")),
                description=raw.get("description"),
                position=raw.get("position") if isinstance(raw.get("position"), int) else None,
            )
        )
    return items


def parse_incident_record(raw, source: str, base_url: str) -> IncidentItem:
    """One incident object (as in ``incidents.json`` or ``incidents/<code>.json``)."""
    native_id, title, where = id_and_title(raw, source, "name")
    status = raw.get("status")
    raw_updates = raw.get("incident_updates") or []
    expect(raw_updates, list, source, f"{where} incident_updates")

    updates = []
    affected: dict[str, ComponentItem] = {}
    for raw_update in raw_updates:
        expect(raw_update, dict, source, f"{where} update")
        if not raw_update.get("id"):
            raise ParseError(source, f"{where} has an update without id")
        updates.append(
            UpdateItem(
                native_id=str(raw_update["id"]),
                status=raw_update.get("status"),
                body=raw_update.get("body"),
                posted_at=time_field(
                    raw_update.get("display_at") or raw_update.get("created_at"),
                    source,
                    f"{where} update time",
                ),
            )
        )
        for component in raw_update.get("affected_components") or []:
            if isinstance(component, dict) and component.get("code"):
                affected[component["code"]] = ComponentItem(
                    source=source, native_id=str(component["code"]), name=str(component.get("name") or component["code"])
                )
    updates.sort(key=lambda u: (u.posted_at or "", u.native_id))

    components = parse_components(raw.get("components") or [], source)
    known = {c.native_id for c in components}
    components += [c for code, c in affected.items() if code not in known]

    created_at = time_field(raw.get("created_at"), source, f"{where} created_at")
    if raw.get("started_at"):
        started_at, basis = time_field(raw["started_at"], source, f"{where} started_at"), "page"
    else:
        started_at, basis = created_at, "posted"
    resolved_at = time_field(raw.get("resolved_at"), source, f"{where} resolved_at")
    if resolved_at is None and status in RESOLVED_STATUSES:
        resolved_posts = [u.posted_at for u in updates if u.status in RESOLVED_STATUSES and u.posted_at]
        resolved_at = min(resolved_posts) if resolved_posts else None

    impact_raw = raw.get("impact")
    incident = IncidentItem(
        source=source,
        native_id=native_id,
        title=title,
        impact=map_impact(impact_raw, status, scheduled=bool(raw.get("scheduled_for"))),
        impact_raw=impact_raw,
        status=status,
        started_at=started_at,
        started_at_basis=basis,
        resolved_at=resolved_at,
        created_at=created_at,
        updated_at=time_field(raw.get("updated_at"), source, f"{where} updated_at"),
        url=f"{base_url.rstrip('/')}/incidents/{native_id}",
        updates=updates,
        components=components,
    )
    apply_stated_window(incident)
    return incident


@parser
def parse_incident(body, source: str, base_url: str) -> IncidentItem:
    """``/api/v2/incidents/<code>.json``: ``{"page": ..., "incident": {...}}``."""
    data = expect(load_json(body, source, "incident"), dict, source, "incident document")
    if "incident" not in data:
        raise ParseError(source, "incident document has no 'incident' key")
    return parse_incident_record(data["incident"], source, base_url)


@parser
def parse_incident_list(body, source: str, base_url: str, key: str = "incidents", required: bool = True):
    """A list of incidents (``incidents.json``, or the ``incidents`` of ``summary.json``,
    which has none when nothing is open: pass ``required=False``).

    Returns ``(incidents, problems)``: a malformed incident is reported as a ParseError
    in ``problems`` and its well-formed neighbours are still returned.
    """
    data = expect(load_json(body, source, key), dict, source, f"{key} document")
    if required and key not in data:
        raise ParseError(source, f"{key} document has no '{key}' key")
    return each_record(expect(data.get(key, []), list, source, key), parse_incident_record, source, base_url)


@parser
def parse_summary(body, source: str):
    """``/api/v2/summary.json``: the page-wide status and the component list."""
    data = expect(load_json(body, source, "summary"), dict, source, "summary document")
    status = data.get("status") if isinstance(data.get("status"), dict) else {}
    page = data.get("page") if isinstance(data.get("page"), dict) else {}
    source_status = SourceStatusItem(
        source=source,
        indicator=status.get("indicator"),
        description=status.get("description"),
        page_name=page.get("name"),
        page_time_zone=page.get("time_zone"),
    )
    return source_status, parse_components(data.get("components", []), source)


@parser
def parse_component_list(body, source: str) -> list[ComponentItem]:
    """``/api/v2/components.json``: ``{"components": [...]}``, the components alone."""
    data = expect(load_json(body, source, "components"), dict, source, "components document")
    if "components" not in data:
        raise ParseError(source, "components document has no 'components' key")
    return parse_components(data["components"], source)


@dataclass
class HistoryPage:
    """One page of the history listing: the months it covers (``YYYY-MM``) and its incidents.

    A page with no months at all is past the end of the history; a page whose months
    are all empty is a quiet stretch, not the end.
    """

    months: list[str]
    entries: list[HistoryEntry]
    past_the_end: bool = False


MONTH_NUMBERS = {name: number for number, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}


def _month_key(month: dict) -> str | None:
    year, name = month.get("year"), month.get("name")
    number = MONTH_NUMBERS.get(name.strip().lower()) if isinstance(name, str) else None
    if isinstance(year, int) and number:
        return f"{year:04d}-{number:02d}"
    return None


@parser
def parse_history_page(body, source: str) -> HistoryPage:
    """``/history.json?page=N`` (or ``/history?page=N`` asked for as JSON):
    ``{"months": [{"name": "December", "year": 2024, "incidents": [...]}]}``."""
    data = expect(load_json(body, source, "history page"), dict, source, "history page")
    if "months" not in data:
        raise ParseError(source, "history page has no 'months': not the JSON history")
    months = expect(data["months"] or [], list, source, "history months")
    entries, keys = [], []
    for month in months:
        expect(month, dict, source, "history month")
        if key := _month_key(month):
            keys.append(key)
        for raw in expect(month.get("incidents") or [], list, source, "history month incidents"):
            if isinstance(raw, dict) and isinstance(raw.get("code"), str) and raw["code"]:
                entries.append(HistoryEntry(code=raw["code"], name=raw.get("name"), impact=raw.get("impact")))
    return HistoryPage(months=keys, entries=entries, past_the_end=not months)


ATOM_INCIDENT_LINK = re.compile(r"/incidents/([a-z0-9]+)")


def _atom_updates(content_html: str, year: int, source: str, native_id: str) -> list[UpdateItem]:
    """The updates inside one ``/history.atom`` entry: ``<p><small>Dec 20, 16:44 UTC</small>
    <br><strong>Resolved</strong> - text</p>``, newest first, dates without a year."""
    updates = []
    for paragraph in BeautifulSoup(content_html, "html.parser").find_all("p"):
        stamp = paragraph.find("small")
        label = paragraph.find("strong")
        if stamp is None or label is None:
            continue
        when = stamp.get_text(" ", strip=True)
        body = paragraph.get_text(" ", strip=True)
        body = body.split(f"{label.get_text(strip=True)} -", 1)[-1].strip()
        try:
            posted = parse_time(f"{when} {year}")
        except ValueError:
            raise ParseError(source, f"incident {native_id} update time is not a time: {when!r}") from None
        updates.append(
            UpdateItem(
                native_id=update_id(to_utc_iso(posted), label.get_text(strip=True).lower(), body, "atom-"),
                status=label.get_text(strip=True).lower(),
                body=body,
                posted_at=to_utc_iso(posted),
            )
        )
    return updates


@parser
def parse_history_atom(body, source: str, base_url: str) -> list[IncidentItem]:
    """``/history.atom``: the 25 newest incidents with their updates, but no impact and no
    components. A fallback for pages whose JSON API is unavailable."""
    feed = feedparser.parse(body)
    if feed.bozo and not feed.entries:
        raise ParseError(source, f"history.atom is not an Atom feed ({feed.get('bozo_exception')})")
    incidents = []
    for entry in feed.entries:
        found = ATOM_INCIDENT_LINK.search(entry.get("link", ""))
        if not found or not entry.get("title"):
            continue
        native_id = found.group(1)
        # dict.get: feedparser's own get() answers a missing "updated" with "published"
        # and a DeprecationWarning; the fallback is said here instead.
        updated = parse_time(dict.get(entry, "updated") or entry.get("published"))
        updates = _atom_updates(entry.get("content", [{}])[0].get("value", ""), updated.year, source, native_id)
        for update in updates:  # "Dec 30" in an entry updated in January is last year's
            if update.posted_at > to_utc_iso(updated) and updated.month == 1:
                update.posted_at = to_utc_iso(parse_time(update.posted_at).replace(year=updated.year - 1))
        updates.sort(key=lambda u: u.posted_at)
        status = updates[-1].status if updates else None
        incident = IncidentItem(
            source=source,
            native_id=native_id,
            title=entry["title"].strip(),
            impact="none",
            impact_raw=None,
            status=status,
            started_at=updates[0].posted_at if updates else to_utc_iso(entry.get("published")),
            started_at_basis="posted",
            resolved_at=next((u.posted_at for u in updates if u.status in RESOLVED_STATUSES), None),
            created_at=to_utc_iso(entry.get("published")),
            updated_at=to_utc_iso(updated),
            url=f"{base_url.rstrip('/')}/incidents/{native_id}",
            updates=updates,
            partial=True,
        )
        apply_stated_window(incident)
        incidents.append(incident)
    return incidents
