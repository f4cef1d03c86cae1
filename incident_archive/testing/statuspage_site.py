"""A Statuspage site as a folder of responses: every endpoint, in the real format.

Given a page, its components and its incidents (Statuspage's own objects), this writes
what Atlassian Statuspage would serve: ``summary.json``, ``incidents.json`` (the 50
newest), the ``/history`` pages (three months a page, page 1 newest) and one
``incidents/<code>.json`` per incident, in the folder layout :mod:`incident_archive.testing.replay`
serves. It is fed generated incidents (:mod:`incident_archive.testing.synthetic`) or real recorded ones.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path

from dateutil import tz

from incident_archive.core.times import parse_time, to_utc_iso
from incident_archive.testing.replay import write_response

MONTHS_PER_HISTORY_PAGE = 3
NEWEST_INCIDENTS = 50
ATOM_ENTRIES = 25


class StatuspageSite:
    """Every endpoint of a Statuspage site, built from its page, components and incidents.

    ``incidents`` are Statuspage incident objects, newest first. Used with generated
    incidents (the demo, the tests, the benchmark) and with real recorded ones.
    """

    def __init__(self, page: dict, components: list[dict], incidents: list[dict], newest: datetime | None = None):
        self.page = page
        self.components = components
        self.incidents = incidents
        self.zone = tz.gettz(page.get("time_zone") or "UTC")
        newest = newest or max((parse_time(i["created_at"]) for i in incidents), default=datetime.now(timezone.utc))
        self.newest = newest.astimezone(self.zone)

    def summary(self) -> dict:
        open_incidents = [i for i in self.incidents if i["status"] not in ("resolved", "postmortem")]
        worst = max((i["impact"] for i in open_incidents), key=["none", "minor", "major", "critical"].index, default="none")
        return {
            "page": self.page,
            "components": self.components,
            "incidents": open_incidents,
            "scheduled_maintenances": [],
            "status": {
                "indicator": worst,
                "description": "All Systems Operational" if worst == "none" else "Partial System Outage",
            },
        }

    def history_pages(self) -> list[dict]:
        """Three months a page, newest first, as ``/history`` serves them in JSON."""
        by_month: dict[tuple[int, int], list[dict]] = {}
        for incident in self.incidents:
            moment = parse_time(incident["created_at"]).astimezone(self.zone)
            by_month.setdefault((moment.year, moment.month), []).append(
                {
                    "code": incident["id"],
                    "name": incident["name"],
                    "message": incident["incident_updates"][0]["body"],
                    "impact": incident["impact"],
                    "timestamp": incident["created_at"],
                }
            )
        newest = self.newest
        year, month = newest.year, newest.month
        oldest = min(by_month) if by_month else (year, month)
        pages = []
        while (year, month) >= oldest:
            months = []
            for _ in range(MONTHS_PER_HISTORY_PAGE):
                months.append(
                    {
                        "name": datetime(year, month, 1).strftime("%B"),
                        "year": year,
                        "incidents": by_month.get((year, month), []),
                    }
                )
                year, month = (year, month - 1) if month > 1 else (year - 1, 12)
            pages.append({"months": months})
        # Past the oldest incident the real site answers with no months at all.
        pages.append({"months": []})
        return pages

    def responses(self, outside_api: bool = False) -> dict[str, dict]:
        """Every URL the site answers (path with query) and its JSON body: the API under
        ``/api/v2/`` and ``/history.json``; with ``outside_api`` also the copies Statuspage
        serves outside ``/api/`` (``/index.json``, ``/incidents/<code>.json``), which a crawl
        reads only where robots.txt forbids ``/api/``."""
        responses = {
            "/api/v2/summary.json": self.summary(),
            "/api/v2/incidents.json": {"page": self.page, "incidents": self.incidents[:NEWEST_INCIDENTS]},
        }
        for number, page in enumerate(self.history_pages(), start=1):
            responses[f"/history.json?page={number}"] = page
        for incident in self.incidents:
            responses[f"/api/v2/incidents/{incident['id']}.json"] = {"page": self.page, "incident": incident}
        if outside_api:
            responses["/index.json"] = responses["/api/v2/summary.json"]
            for incident in self.incidents:
                responses[f"/incidents/{incident['id']}.json"] = responses[f"/api/v2/incidents/{incident['id']}.json"]
        return responses

    def history_atom(self) -> str:
        """``/history.atom``: the 25 newest incidents, updates as HTML paragraphs."""
        entries = []
        for incident in self.incidents[:ATOM_ENTRIES]:
            paragraphs = []
            for update in incident["incident_updates"]:
                moment = parse_time(update["display_at"] or update["created_at"])
                paragraphs.append(
                    f"<p><small>{moment.strftime('%b')} <var data-var='date'>{moment.day}</var>, "
                    f"<var data-var='time'>{moment.strftime('%H:%M')}</var> UTC</small><br>"
                    f"<strong>{html.escape(update['status'].title())}</strong> - {html.escape(update['body'] or '')}</p>"
                )
            entries.append(
                f"""  <entry>
    <id>tag:status.example,2005:Incident/{incident['id']}</id>
    <published>{to_utc_iso(incident['created_at'])}</published>
    <updated>{to_utc_iso(incident['updated_at'])}</updated>
    <link rel="alternate" type="text/html" href="{self.page.get('url', '')}/incidents/{incident['id']}"/>
    <title>{html.escape(incident['name'])}</title>
    <content type="html">{html.escape(''.join(paragraphs))}</content>
  </entry>"""
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">\n'
            f"  <title>{html.escape(self.page['name'])} Status - Incident History</title>\n"
            + "\n".join(entries)
            + "\n</feed>\n"
        )

    def write(self, root: Path, robots_txt: str | None = None) -> Path:
        """Write every response under ``root`` in the layout the replay server reads;
        ``robots_txt`` as status.claude.com's (``Disallow: /api/``), say, with the copies
        outside ``/api/`` a crawl then reads."""
        for url, body in self.responses(outside_api=robots_txt is not None).items():
            write_response(root, url, json.dumps(body, indent=1))
        write_response(root, "/history.atom", self.history_atom())
        if robots_txt is not None:
            write_response(root, "/robots.txt", robots_txt)
        return Path(root)
