"""Google Cloud's status feed: ``status.cloud.google.com/incidents.json`` (a rolling year).

Each incident has ``begin``, ``end`` (absent while open), ``updates`` (newest first, in
markdown), ``severity`` and ``status_impact``, the ``affected_products`` and, per
update, the ``affected_locations``.
"""

from __future__ import annotations

from incident_archive.core.items import ComponentItem, IncidentItem, RegionItem, UpdateItem
from incident_archive.crawl.parsers import parser, each_record, expect, id_and_title, load_json, time_field, update_id


def map_impact(status_impact: str | None, severity: str | None) -> str:
    """Google's impact and severity onto the archive's scale."""
    if status_impact == "SERVICE_OUTAGE":
        return "critical" if severity == "high" else "major"
    if status_impact == "SERVICE_DISRUPTION":
        return "major" if severity == "high" else "minor"
    return "none"


def _regions(locations) -> list[RegionItem]:
    return [
        RegionItem(native_id=str(loc["id"]), name=str(loc.get("title") or loc["id"]))
        for loc in locations or []
        if isinstance(loc, dict) and loc.get("id")
    ]


def parse_incident_record(raw, source: str, base_url: str) -> IncidentItem:
    native_id, title, where = id_and_title(raw, source, "external_desc")
    updates, regions = [], {}
    for raw_update in expect(raw.get("updates") or [], list, source, f"{where} updates"):
        expect(raw_update, dict, source, f"{where} update")
        posted_at = time_field(raw_update.get("when") or raw_update.get("created"), source, f"{where} update time")
        updates.append(
            UpdateItem(
                native_id=update_id(posted_at, raw_update.get("status"), raw_update.get("text")),
                status=raw_update.get("status"),
                body=raw_update.get("text"),
                posted_at=posted_at,
            )
        )
        for region in _regions(raw_update.get("affected_locations")):
            regions[region.native_id] = region
    for key in ("currently_affected_locations", "previously_affected_locations"):
        for region in _regions(raw.get(key)):
            regions.setdefault(region.native_id, region)
    updates.sort(key=lambda u: u.posted_at or "")
    products = [
        ComponentItem(source=source, native_id=str(p["id"]), name=str(p.get("title") or p["id"]))
        for p in raw.get("affected_products") or []
        if isinstance(p, dict) and p.get("id")
    ]
    end = time_field(raw.get("end"), source, f"{where} end")
    status_impact, severity = raw.get("status_impact"), raw.get("severity")
    return IncidentItem(
        source=source,
        native_id=native_id,
        title=title,
        impact=map_impact(status_impact, severity),
        impact_raw="/".join(str(v) for v in (status_impact, severity) if v) or None,
        status="resolved" if end else "investigating",
        started_at=time_field(raw.get("begin"), source, f"{where} begin"),
        started_at_basis="page",
        resolved_at=end,
        created_at=time_field(raw.get("created"), source, f"{where} created"),
        updated_at=time_field(raw.get("modified"), source, f"{where} modified"),
        url=f"{base_url.rstrip('/')}/{raw.get('uri') or 'incidents/' + native_id}",
        updates=updates,
        components=products,
        regions=sorted(regions.values(), key=lambda r: r.native_id),
    )


@parser
def parse_incidents(body, source: str, base_url: str):
    """The whole feed; returns ``(incidents, problems)`` with malformed ones reported."""
    data = expect(load_json(body, source, "incidents.json"), list, source, "incidents.json")
    return each_record(data, parse_incident_record, source, base_url)
