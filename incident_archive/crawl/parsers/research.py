"""Published research datasets of status-page incidents, read into the archive's items.

- The ICPE 2025 dataset (Chu et al., "An Empirical Characterization of Outages and
  Incidents in Public Services for Large Language Models"): raw scrapes of the
  Statuspage ``/history`` of OpenAI, Anthropic and Character.AI
  (``data/raw/incident/<date>/<provider>/*.csv``: title, link, impact, updates as JSON,
  "This incident affected: ...") and the daily uptime bars of each service
  (``data/raw/uptime/<date>/<service>/uptime_history.csv``: partial and major outage
  minutes per day).
- The FAILS table (``incident_stages_all.csv``): one row per incident with the time and
  text of each stage (investigating, identified, monitoring, resolved, postmortem).

They keep OpenAI's Statuspage history (2021 to January 2025), which status.openai.com no
longer serves. Incident ids are the pages' own codes, so an incident the spiders also
found is the same incident.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path

from incident_archive.core.times import to_utc_iso
from incident_archive.core.items import ComponentItem, IncidentItem, UpdateItem
from incident_archive.crawl.parsers import ParseError, update_id
from incident_archive.core.windows import apply_stated_window

# Update ids of our making, for datasets that give none; the page's own copy of the same
# update replaces them when a spider reads it.
RESEARCH_UPDATE_PREFIX = "research-"
# The dataset's provider names and the archive's source ids.
SOURCES = {
    "openai": ("openai", "OpenAI", "https://status.openai.com"),
    "anthropic": ("anthropic", "Anthropic", "https://status.anthropic.com"),
    "characterai": ("characterai", "Character.AI", "https://status.character.ai"),
    "character": ("characterai", "Character.AI", "https://status.character.ai"),
    "stabilityai": ("stabilityai", "Stability AI", "https://status.stability.ai"),
}
# The uptime folders' service names, as their status pages name the component.
UPTIME_SERVICES = {
    "api": ("openai", "API"),
    "chatgpt": ("openai", "ChatGPT"),
    "labs": ("openai", "Labs"),
    "playground": ("openai", "Playground"),
    "api.anthropic.com": ("anthropic", "api.anthropic.com"),
    "claude.ai": ("anthropic", "claude.ai"),
    "console.anthropic.com": ("anthropic", "console.anthropic.com"),
    "character.ai": ("characterai", "Character.AI"),
}
FAILS_SERVICES = ["Playground", "API", "DALL-E", "ChatGPT", "api.anthropic.com", "claude.ai",
                  "console.anthropic.com", "Character.AI", "REST API", "gRPC API", "Stable Assistant"]
FAILS_IMPACT = {"0": "none", "1": "minor", "2": "major", "3": "critical", "4": "maintenance"}
STAGES = ["investigating", "identified", "monitoring", "resolved", "postmortem"]
AFFECTED = re.compile(r"This incident affected:\s*(.*?)\.?\s*$", re.S)


@dataclass
class DailyOutage:
    source: str
    service: str
    day: str
    partial_minutes: int
    major_minutes: int
    incident_links: list[str]


def component(source: str, name: str) -> ComponentItem:
    """Datasets name components without their page ids: the name is the id."""
    return ComponentItem(source=source, native_id=f"name:{name}", name=name)


def affected_services(text: str | None) -> list[str]:
    """ "This incident affected: API, ChatGPT, and Labs." -> ["API", "ChatGPT", "Labs"]."""
    found = AFFECTED.search(text or "")
    if not found:
        return []
    return [s.strip() for s in re.split(r",\s*(?:and\s+)?|\s+and\s+", found.group(1)) if s.strip()]


def posted_time(stamp: str) -> str | None:
    """ "Posted 9 months ago. Nov 22, 2023 - 17:57 PST" -> "2023-11-23T01:57:00Z"."""
    text = stamp.split(". ", 1)[-1].replace(" - ", " ")
    return to_utc_iso(text)


def incident_from_scrape(row: dict, provider: str) -> IncidentItem:
    source, _, base = SOURCES[provider]
    link = (row.get("Incident_Link") or "").rstrip("/")
    code = link.rsplit("/", 1)[-1]
    if not code or not row.get("Incident_Title"):
        raise ParseError(source, f"research row has no incident link or title: {link!r}")
    updates = []
    for update in json.loads(row.get("Updates") or "[]"):
        posted = posted_time(update.get("Update_Timestamp", ""))
        updates.append(UpdateItem(
            native_id=update_id(posted, (update.get("Update_Title") or "").strip().lower() or None,
                                update.get("Update_Body"), RESEARCH_UPDATE_PREFIX),
            status=(update.get("Update_Title") or "").strip().lower() or None,
            body=update.get("Update_Body"),
            posted_at=posted,
        ))
    updates.sort(key=lambda u: u.posted_at or "")
    raw_impact = (row.get("Incident_Impact") or "").replace("impact-", "")
    return _incident(source, base, code, row["Incident_Title"], raw_impact, row.get("Incident_Impact"), updates,
                     affected_services(row.get("Service")))


def _incident(source, base, code, title, impact, impact_raw, updates, services) -> IncidentItem:
    resolved = [u.posted_at for u in updates if u.status in ("resolved", "postmortem") and u.posted_at]
    final = "postmortem" if any(u.status == "postmortem" for u in updates) else (
        "resolved" if resolved else (updates[-1].status if updates else None))
    incident = IncidentItem(
        source=source,
        native_id=code,
        title=title.strip(),
        impact=impact if impact in ("none", "minor", "major", "critical", "maintenance") else "none",
        impact_raw=impact_raw,
        status=final,
        started_at=updates[0].posted_at if updates else None,
        started_at_basis="posted",
        resolved_at=min(u.posted_at for u in updates if u.status == "resolved") if any(
            u.status == "resolved" for u in updates) else (min(resolved) if resolved else None),
        created_at=updates[0].posted_at if updates else None,
        url=f"{base}/incidents/{code}",
        updates=updates,
        components=[component(source, s) for s in services],
        partial=True,
    )
    apply_stated_window(incident)
    return incident


def read_incident_scrapes(folder: Path) -> list[IncidentItem]:
    """Every incident of ``data/raw/incident/<date>/<provider>/*.csv``, once each."""
    incidents: dict[tuple, IncidentItem] = {}
    for path in sorted(Path(folder).glob("*/*/*.csv")):
        provider = path.parent.name.lower()
        if provider not in SOURCES:
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                incident = incident_from_scrape(row, provider)
                incidents.setdefault((incident.source, incident.native_id), incident)
    return list(incidents.values())


def read_fails(path: Path) -> list[IncidentItem]:
    """The FAILS table: stages become updates, service flags components."""
    incidents = []
    with Path(path).open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            provider = (row.get("provider") or "").lower()
            if provider not in SOURCES:
                continue
            source, _, base = SOURCES[provider]
            updates = [
                UpdateItem(
                    native_id=f"{RESEARCH_UPDATE_PREFIX}{stage}",
                    status=stage,
                    body=row.get(f"{stage}_description") or None,
                    posted_at=to_utc_iso(row[f"{stage}_timestamp"]),
                )
                for stage in STAGES
                if row.get(f"{stage}_flag") == "1" and row.get(f"{stage}_timestamp")
            ]
            services = [s for s in FAILS_SERVICES if row.get(s) == "1"]
            level = row.get("incident_impact_level", "")
            incidents.append(_incident(source, base, row["incident_id"], row["Incident_Title"],
                                       FAILS_IMPACT.get(level, "none"), f"level {level}", updates, services))
    return incidents


def read_uptime(folder: Path) -> list[DailyOutage]:
    """``data/raw/uptime/<date>/<service>/uptime_history.csv``: one row per service-day."""
    days = []
    for path in sorted(Path(folder).glob("*/*/uptime_history.csv")):
        service_folder = path.parent.name
        if service_folder not in UPTIME_SERVICES:
            continue
        source, service = UPTIME_SERVICES[service_folder]
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                minutes = {"Partial outage": 0, "Major outage": 0}
                for outage in json.loads(row.get("Outages") or "[]"):
                    minutes[outage["Outage_Type"]] = minutes.get(outage["Outage_Type"], 0) + int(outage["Downtime (min)"])
                links = [i.get("Incident_Link") for i in json.loads(row.get("Incidents") or "[]")]
                days.append(DailyOutage(source, service, to_utc_iso(row["Date"])[:10],
                                        minutes["Partial outage"], minutes["Major outage"], links))
    return days
