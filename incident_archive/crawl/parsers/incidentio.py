"""incident.io status pages (status.openai.com since 2025): the native JSON.

``/proxy/<host>`` answers ``{"summary": {...}}``: components and the ``structure`` that
groups them. ``/proxy/<host>/incidents`` answers ``{"incidents": [...]}``, each with its
``updates`` (``to_status``, ``message_string``), ``affected_components`` and
``component_impacts``: per-component ``start_at``/``end_at`` windows, which become rows
of their own. The same summary is embedded in every page's HTML (Next.js
``self.__next_f.push`` chunks), which :func:`summary_from_html` reads.
"""

from __future__ import annotations

import json
import re

from incident_archive.core.items import ComponentImpactItem, ComponentItem, IncidentItem, SourceStatusItem, UpdateItem
from incident_archive.crawl.parsers import parser, ParseError, each_record, expect, id_and_title, load_json, time_field
from incident_archive.core.windows import apply_stated_window

# incident.io's component states, worst first, onto the archive's impact scale.
IMPACT_BY_COMPONENT_STATUS = {
    "full_outage": "critical",
    "partial_outage": "major",
    "degraded_performance": "minor",
    "operational": "none",
}
RESOLVED_STATUSES = {"resolved", "postmortem", "maintenance_complete", "completed"}
NEXT_CHUNK = re.compile(r"self\.__next_f\.push\((\[.*?\])\)</script>", re.S)


def _defined(value):
    """incident.io's pages write absent values as the string ``$undefined``."""
    return None if value == "$undefined" else value


@parser
def summary_from_html(html: bytes | str, source: str) -> dict:
    """The ``summary`` object embedded in an incident.io page's HTML."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    payload = ""
    for chunk in NEXT_CHUNK.findall(html):
        try:
            parts = json.loads(chunk)
        except ValueError:
            continue
        if len(parts) > 1 and isinstance(parts[1], str):
            payload += parts[1]
    start = payload.find('{"summary":')
    if start < 0:
        raise ParseError(source, "page has no embedded incident.io summary")
    try:
        data, _ = json.JSONDecoder().raw_decode(payload, start)
    except ValueError as error:
        raise ParseError(source, f"embedded summary is not valid JSON ({error})") from None
    return data


@parser
def parse_summary(body, source: str):
    """The page status and its components, with the group each sits in."""
    data = body if isinstance(body, dict) else load_json(body, source, "summary")
    summary = expect(expect(data, dict, source, "summary document").get("summary"), dict, source, "summary")
    groups: dict[str, str] = {}
    structure = summary.get("structure") if isinstance(summary.get("structure"), dict) else {}
    for item in structure.get("items") or []:
        group = _defined(item.get("group")) if isinstance(item, dict) else None
        if isinstance(group, dict):
            for member in group.get("components") or []:
                if isinstance(member, dict) and member.get("component_id"):
                    groups[member["component_id"]] = group.get("name")
    components = []
    for position, raw in enumerate(expect(summary.get("components") or [], list, source, "summary components")):
        if isinstance(raw, dict) and raw.get("id"):
            components.append(
                ComponentItem(
                    source=source,
                    native_id=str(raw["id"]),
                    name=str(raw.get("name") or raw["id"]),
                    group_name=groups.get(raw["id"]),
                    description=_defined(raw.get("description")),
                    position=position,
                    status="operational",
                )
            )
    affected = {
        a.get("component_id"): a.get("status")
        for a in summary.get("affected_components") or []
        if isinstance(a, dict)
    }
    for component in components:
        component.status = affected.get(component.native_id, "operational")
    worst = min(
        (IMPACT_BY_COMPONENT_STATUS.get(s, "none") for s in affected.values()),
        key=["critical", "major", "minor", "none"].index,
        default="none",
    )
    ongoing = summary.get("ongoing_incidents") or []
    status = SourceStatusItem(
        source=source,
        indicator=worst,
        description=f"{len(ongoing)} ongoing incident(s)" if ongoing else "All systems operational",
        page_name=summary.get("name"),
    )
    return status, components


def parse_incident_record(raw, source: str, base_url: str) -> IncidentItem:
    native_id, title, where = id_and_title(raw, source, "name")
    status = raw.get("status")
    updates = []
    for raw_update in expect(raw.get("updates") or [], list, source, f"{where} updates"):
        expect(raw_update, dict, source, f"{where} update")
        if not raw_update.get("id"):
            raise ParseError(source, f"{where} has an update without id")
        updates.append(
            UpdateItem(
                native_id=str(raw_update["id"]),
                status=raw_update.get("to_status"),
                body=raw_update.get("message_string"),
                posted_at=time_field(raw_update.get("published_at"), source, f"{where} update time"),
            )
        )
    updates.sort(key=lambda u: (u.posted_at or "", u.native_id))
    impacts = []
    for raw_impact in expect(raw.get("component_impacts") or [], list, source, f"{where} component_impacts"):
        if isinstance(raw_impact, dict) and raw_impact.get("component_id"):
            impacts.append(
                ComponentImpactItem(
                    component_native_id=str(raw_impact["component_id"]),
                    status=raw_impact.get("status"),
                    start_at=time_field(raw_impact.get("start_at"), source, f"{where} impact start_at"),
                    end_at=time_field(raw_impact.get("end_at"), source, f"{where} impact end_at"),
                )
            )
    affected = [
        a for a in raw.get("affected_components") or [] if isinstance(a, dict) and a.get("component_id")
    ]
    components = [
        ComponentItem(source=source, native_id=str(a["component_id"]), name=str(a.get("name") or a["component_id"]))
        for a in affected
    ]
    published = time_field(raw.get("published_at"), source, f"{where} published_at")
    starts = [i.start_at for i in impacts if i.start_at]
    if starts:
        started_at, basis = min(starts), "page"
    else:
        started_at, basis = published or (updates[0].posted_at if updates else None), "posted"
    resolved_at = None
    if status in RESOLVED_STATUSES:
        ends = [i.end_at for i in impacts]
        if ends and all(ends):
            resolved_at = max(ends)
        else:
            resolved_posts = [u.posted_at for u in updates if u.status in RESOLVED_STATUSES and u.posted_at]
            resolved_at = min(resolved_posts) if resolved_posts else (updates[-1].posted_at if updates else None)
    states = [i.status for i in impacts] + [a.get("status") for a in affected]
    if status and "maintenance" in status:
        impact = "maintenance"
    else:
        impact = min(
            (IMPACT_BY_COMPONENT_STATUS.get(s, "none") for s in states if s),
            key=["critical", "major", "minor", "none"].index,
            default="none",
        )
    worst_raw = next((s for s in IMPACT_BY_COMPONENT_STATUS if s in states), None)
    incident = IncidentItem(
        source=source,
        native_id=native_id,
        title=title,
        impact=impact,
        impact_raw=raw.get("current_worst_impact") or worst_raw,
        status=status,
        started_at=started_at,
        started_at_basis=basis,
        resolved_at=resolved_at,
        created_at=published,
        updated_at=updates[-1].posted_at if updates else published,
        url=f"{base_url.rstrip('/')}/incidents/{native_id}",
        updates=updates,
        components=components,
        component_impacts=impacts,
    )
    apply_stated_window(incident)
    return incident


@parser
def parse_incidents(body, source: str, base_url: str):
    """``{"incidents": [...]}``; returns ``(incidents, problems)``."""
    data = expect(load_json(body, source, "incidents"), dict, source, "incidents document")
    if "incidents" not in data:
        raise ParseError(source, "incidents document has no 'incidents' key")
    return each_record(expect(data["incidents"], list, source, "incidents"), parse_incident_record, source, base_url)


@parser
def parse_shim_incidents(body, source: str, base_url: str):
    """The Statuspage-compatible ``/api/v2/incidents.json`` of an incident.io page: the
    Statuspage format, but with components left out and impacts understated, so its
    copies may raise an archived impact and never lower it."""
    from incident_archive.crawl.parsers.statuspage import parse_incident_list

    incidents, problems = parse_incident_list(body, source, base_url)
    for incident in incidents:
        incident.shim_copy = True
    return incidents, problems


@parser
def parse_feed_atom(body, source: str, base_url: str) -> list[IncidentItem]:
    """``/feed.atom``, the last resort when both JSON listings fail: the common Atom fields
    only (its exact markup was not recorded): each entry's link names the incident, its
    text is one update. Partial: it adds what the archive lacks, replaces nothing."""
    import feedparser
    from bs4 import BeautifulSoup

    from incident_archive.core.times import to_utc_iso
    from incident_archive.crawl.parsers import update_id

    feed = feedparser.parse(body)
    if feed.bozo and not feed.entries:
        raise ParseError(source, f"feed.atom is not an Atom feed ({feed.get('bozo_exception')})")
    incidents = []
    for entry in feed.entries:
        link = (entry.get("link") or entry.get("id") or "").rstrip("/")
        native_id = link.rsplit("/", 1)[-1]
        title = (entry.get("title") or "").strip()
        if not native_id or not title:
            continue
        posted = to_utc_iso(entry.get("published") or entry.get("updated")) if (
            entry.get("published") or entry.get("updated")) else None
        content = (entry.get("content") or [{}])[0].get("value") or entry.get("summary") or ""
        text = BeautifulSoup(content, "html.parser").get_text("\n", strip=True)
        incidents.append(IncidentItem(
            source=source, native_id=native_id, title=title, impact="none", impact_raw=None, status=None,
            started_at=posted, started_at_basis="posted" if posted else None, resolved_at=None, created_at=posted,
            url=link if link.startswith("http") else f"{base_url.rstrip('/')}/incidents/{native_id}",
            updates=[UpdateItem(update_id(posted, None, text, "atom-"), None, text, posted)] if text else [],
            partial=True,
        ))
    return incidents
