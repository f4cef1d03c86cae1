"""Seeded synthetic Statuspage sites, in the real response formats.

The tests, ``make demo`` and the benchmark need whole status pages (dozens to
hundreds of incidents, several history pages) that never change between runs and need
no network. This writes one into a folder that :mod:`incident_archive.testing.replay` serves: the same
endpoints, keys and time-zone offsets that Atlassian Statuspage serves, with content
drawn from a seeded random generator.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from dateutil import tz

from incident_archive.testing.statuspage_site import StatuspageSite

TITLES = [
    "Elevated error rates for {c}",
    "Degraded performance of {c}",
    "Increased latency on {c}",
    "{c} unavailable for some users",
    "Partial outage affecting {c}",
    "Delays in {c} processing",
]
BODIES = {
    "investigating": "We are investigating reports of {symptom} affecting {c}.",
    "identified": "The issue has been identified as {cause}. A fix is being implemented.",
    "monitoring": "A fix has been implemented and we are monitoring the results.",
    "resolved": "This incident has been resolved. {c} is operating normally.",
    "postmortem": "Postmortem: {cause} caused {symptom} for {minutes} minutes. We are adding safeguards.",
}
SYMPTOMS = ["elevated error rates", "increased latency", "failed requests", "timeouts", "login failures"]
CAUSES = [
    "a faulty configuration change",
    "an issue with an upstream provider",
    "a database failover",
    "capacity exhaustion in one region",
    "a bad deployment",
]


@dataclass
class SiteSpec:
    name: str
    incidents: int = 80
    seed: int = 1
    time_zone: str = "America/Los_Angeles"
    newest: datetime = datetime(2024, 12, 30, 17, 0, tzinfo=timezone.utc)
    days_between: float = 9.0
    open_incidents: int = 1
    components: list[tuple[str, list[str]]] = field(
        default_factory=lambda: [
            ("API", ["Chat Completions", "Embeddings", "Files"]),
            ("Web", ["Login", "Conversations"]),
        ]
    )


def _code(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(12))


def _stamp(moment: datetime, zone) -> str:
    """Statuspage's time format: milliseconds and the page's own UTC offset."""
    local = moment.astimezone(zone)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]


class SyntheticStatuspage:
    """Builds the page, components and incidents of one site from its spec."""

    def __init__(self, spec: SiteSpec):
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.zone = tz.gettz(spec.time_zone)
        self.page = {
            "id": _code(self.rng),
            "name": spec.name,
            "url": "https://status.example.invalid",
            "time_zone": spec.time_zone,
            "updated_at": _stamp(spec.newest, self.zone),
        }
        self.components = self._components()
        self.incidents = [self._incident(i) for i in range(spec.incidents)]

    def _components(self) -> list[dict]:
        created = _stamp(datetime(2021, 1, 1, tzinfo=timezone.utc), self.zone)
        components, position = [], 1
        for group_name, members in self.spec.components:
            group = {"id": _code(self.rng), "name": group_name, "group": True, "group_id": None}
            member_ids = []
            for member in members:
                component = {
                    "id": _code(self.rng),
                    "name": member,
                    "status": "operational",
                    "created_at": created,
                    "updated_at": created,
                    "position": position,
                    "description": f"{self.spec.name} {member}",
                    "showcase": False,
                    "start_date": "2021-01-01",
                    "group_id": group["id"],
                    "page_id": self.page["id"],
                    "group": False,
                    "only_show_if_degraded": False,
                }
                position += 1
                member_ids.append(component["id"])
                components.append(component)
            group.update(
                status="operational", created_at=created, updated_at=created, position=position,
                description=None, showcase=False, start_date=None, page_id=self.page["id"],
                only_show_if_degraded=False, components=member_ids,
            )
            position += 1
            components.append(group)
        return components

    def _incident(self, index: int) -> dict:
        rng, spec = self.rng, self.spec
        leaves = [c for c in self.components if not c["group"]]
        affected = rng.sample(leaves, k=rng.randint(1, min(3, len(leaves))))
        start = spec.newest - timedelta(days=index * spec.days_between, minutes=rng.randint(0, 600))
        is_open = index < spec.open_incidents
        steps = ["investigating", "identified"] if is_open else ["investigating", "identified", "monitoring", "resolved"]
        if not is_open and rng.random() < 0.2:
            steps.append("postmortem")
        minutes = rng.randint(15, 360)
        words = {
            "c": affected[0]["name"],
            "symptom": rng.choice(SYMPTOMS),
            "cause": rng.choice(CAUSES),
            "minutes": minutes,
        }
        code = _code(rng)
        times = [start + timedelta(minutes=minutes * i / (len(steps) - 1 or 1)) for i in range(len(steps))]
        if "postmortem" in steps:
            times[-1] = times[-2] + timedelta(days=2)
        updates = []
        for status, moment in zip(steps, times):
            stamp = _stamp(moment, self.zone)
            updates.append(
                {
                    "id": _code(rng),
                    "status": status,
                    "body": BODIES[status].format(**words),
                    "incident_id": code,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "display_at": stamp,
                    "affected_components": [
                        {"code": c["id"], "name": c["name"], "old_status": "operational", "new_status": "partial_outage"}
                        for c in affected
                    ]
                    if status == "investigating"
                    else None,
                    "deliver_notifications": True,
                    "custom_tweet": None,
                    "tweet_id": None,
                }
            )
        updates.reverse()  # Statuspage lists updates newest first
        resolved = [u for u in updates if u["status"] == "resolved"]
        return {
            "id": code,
            "name": rng.choice(TITLES).format(c=affected[0]["name"]),
            "status": steps[-1],
            "created_at": _stamp(start, self.zone),
            "updated_at": updates[0]["updated_at"],
            "monitoring_at": next((u["created_at"] for u in updates if u["status"] == "monitoring"), None),
            "resolved_at": resolved[0]["created_at"] if resolved else None,
            "impact": rng.choice(["none", "minor", "minor", "major", "major", "critical"]),
            "shortlink": f"https://stspg.io/{code[:8]}",
            "started_at": _stamp(start, self.zone),
            "page_id": self.page["id"],
            "incident_updates": updates,
            "components": [{k: v for k, v in c.items() if k != "components"} for c in affected],
        }

    def site(self) -> "StatuspageSite":
        return StatuspageSite(self.page, self.components, self.incidents, self.spec.newest)
