"""An incident.io status page as a folder of responses, in the real formats.

From a native ``summary`` and native incidents this writes ``/proxy/<host>`` (the
summary), ``/proxy/<host>/incidents`` (the recent listing), one
``/proxy/<host>/incidents?start_at=…&end_at=…`` per calendar month from the newest
incident back to ``since``, the Statuspage-compatible ``/api/v2/summary.json`` and
``/api/v2/incidents.json`` (which lack components and ``started_at`` and understate
impacts; serve them with ``validators="none"``, as the real shim sends none), and
``/feed.atom``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from urllib.parse import urlencode

from incident_archive.core.times import ISO_FORMAT, parse_time
from incident_archive.testing.replay import write_response
from incident_archive.crawl.spiders.incidentio import DEFAULT_SINCE, month_windows

LISTING_SIZE = 25
# The shim understates impacts (seen on status.openai.com): a level below the native state.
COMPAT_IMPACT = {"full_outage": "major", "partial_outage": "minor", "degraded_performance": "minor"}


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
            "/api/v2/components.json": {"components": [
                {"id": c["id"], "name": c["name"], "status": "operational", "position": n}
                for n, c in enumerate(self.summary["components"])
            ]},
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

    def feed_atom(self, base_url: str = "https://status.openai.com") -> str:
        """``/feed.atom``: one entry per recent incident, linked to its page, with its
        latest update as the content (the common Atom fields)."""
        entries = []
        for incident in self.incidents[: self.listing_size]:
            updates = sorted(incident["updates"], key=lambda u: u["published_at"])
            latest = updates[-1]["message_string"] if updates else ""
            entries.append(f"""  <entry>
    <id>{base_url}/incidents/{incident['id']}</id>
    <title>{html.escape(incident['name'])}</title>
    <link rel="alternate" href="{base_url}/incidents/{incident['id']}"/>
    <published>{incident['published_at']}</published>
    <updated>{updates[-1]['published_at'] if updates else incident['published_at']}</updated>
    <content type="html">{html.escape(html.escape(latest))}</content>
  </entry>""")
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
                f"  <title>{html.escape(self.summary['name'])} status</title>\n" + "\n".join(entries) + "\n</feed>\n")

    def write(self, root: Path) -> Path:
        for url, body in self.responses().items():
            write_response(root, url, json.dumps(body, indent=1))
        write_response(root, "/feed.atom", self.feed_atom())
        return Path(root)
