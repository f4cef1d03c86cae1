"""An incident.io status page as a folder of responses, in the real formats.

From a native ``summary`` and native incidents this writes ``/proxy/<host>`` (the
summary), ``/proxy/<host>/incidents`` (the recent listing), one
``/proxy/<host>/incidents?start_at=…&end_at=…`` per calendar month from the newest
incident back to ``since``, and the Statuspage-compatible ``/api/v2/summary.json``
and ``/api/v2/incidents.json`` (which lack components and ``started_at``).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from archive.times import ISO_FORMAT, parse_time
from scraper.replay import write_response
from scraper.spiders.incidentio import DEFAULT_SINCE, month_windows

LISTING_SIZE = 25
COMPAT_IMPACT = {"full_outage": "critical", "partial_outage": "major", "degraded_performance": "minor"}


class IncidentioSite:
    def __init__(self, host: str, summary: dict, incidents: list[dict], listing_size: int = LISTING_SIZE):
        self.host = host
        self.listing_size = listing_size
        self.summary = summary
        self.incidents = sorted(incidents, key=lambda i: i["published_at"], reverse=True)

    @classmethod
    def from_file(cls, path: Path, host: str = "status.openai.com", **kwargs) -> IncidentioSite:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(host, data["summary"], data["incidents"], **kwargs)

    def compat_incident(self, incident: dict) -> dict:
        """The Statuspage-compatible view incident.io serves at ``/api/v2``."""
        states = [a.get("status") for a in incident.get("affected_components", [])]
        impact = next((COMPAT_IMPACT[s] for s in COMPAT_IMPACT if s in states), "none")
        updates = sorted(incident["updates"], key=lambda u: u["published_at"], reverse=True)
        resolved = incident["status"] == "resolved"
        return {
            "id": incident["id"],
            "name": incident["name"],
            "status": incident["status"],
            "impact": impact,
            "created_at": incident["published_at"],
            "updated_at": updates[0]["published_at"] if updates else incident["published_at"],
            "resolved_at": updates[0]["published_at"] if resolved and updates else None,
            "page_id": self.summary["id"],
            "incident_updates": [
                {"id": u["id"], "incident_id": incident["id"], "status": u["to_status"], "body": u["message_string"],
                 "created_at": u["published_at"], "updated_at": u["published_at"], "display_at": u["published_at"]}
                for u in updates
            ],
        }

    def responses(self) -> dict[str, dict]:
        proxy = f"/proxy/{self.host}"
        responses = {
            proxy: {"summary": self.summary},
            f"{proxy}/incidents": {"incidents": self.incidents[: self.listing_size]},
            "/api/v2/summary.json": {
                "page": {"id": self.summary["id"], "name": self.summary["name"]},
                "components": [
                    {"id": c["id"], "name": c["name"], "status": "operational", "position": n}
                    for n, c in enumerate(self.summary["components"])
                ],
                "status": {"indicator": "none", "description": "All Systems Operational"},
            },
            "/api/v2/incidents.json": {"incidents": [self.compat_incident(i) for i in self.incidents[: self.listing_size]]},
        }
        if self.incidents:
            since = parse_time(DEFAULT_SINCE)
            for start, end in month_windows(parse_time(self.incidents[0]["published_at"])):
                inside = [i for i in self.incidents if start <= parse_time(i["published_at"]) < end]
                query = urlencode({"start_at": start.strftime(ISO_FORMAT), "end_at": end.strftime(ISO_FORMAT)})
                responses[f"{proxy}/incidents?{query}"] = {"incidents": inside}
                if start <= since:
                    break
        return responses

    def write(self, root: Path) -> Path:
        for url, body in self.responses().items():
            write_response(root, url, json.dumps(body, indent=1))
        return Path(root)
