"""Alerts: after each poll, tell the people who depend on a provider, through Apprise.

An incident is announced when it is new or its status changes (a resolution included),
to every ``[[notify]]`` target whose filter it matches; what was sent is recorded in
``alerts_sent``, so re-polling the same state, or restarting the service, never sends
it twice, and a receiver that failed is tried again after the next poll. Only incidents
still open, or resolved within the last day, are announced: a first crawl's years of
history are not.
"""

from __future__ import annotations

import hashlib

import apprise
import sqlite_utils

from incident_archive.core.sources import IMPACT_ORDER, NotifyTarget
from incident_archive.core.times import utc_now

RECENT = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day')"


def target_key(target: NotifyTarget) -> str:
    """A target's name in the archive: a digest, since an Apprise URL may hold a token."""
    return hashlib.sha256(target.url.encode()).hexdigest()[:16]


def due(db: sqlite_utils.Database, target: NotifyTarget) -> list[dict]:
    """The incidents this target should hear about now (new, or a status not yet sent)."""
    where, params = ["(i.resolved_at is null or i.resolved_at >= " + RECENT + ")"], []
    if target.sources:
        where.append(f"i.source in ({', '.join('?' * len(target.sources))})")
        params += target.sources
    if target.min_impact:
        wanted = IMPACT_ORDER[IMPACT_ORDER.index(target.min_impact):]
        where.append(f"i.impact in ({', '.join('?' * len(wanted))})")
        params += wanted
    if target.components:
        where.append("exists (select 1 from incident_components ic join components c on c.id = ic.component_id "
                     f"where ic.incident_id = i.id and c.name in ({', '.join('?' * len(target.components))}))")
        params += target.components
    if target.upstream_of:
        # An incident of a provider the dependent runs on, while the dependent has one open.
        where.append("exists (select 1 from upstream_overlaps o join incidents d on d.id = o.incident_id "
                     "where o.upstream_incident_id = i.id and d.source = ? and d.resolved_at is null)")
        params.append(target.upstream_of)
    sql = (f"select i.* from incidents i where {' and '.join(where)} and coalesce(i.status, '') not in "
           "(select status from alerts_sent where target = ? and incident_id = i.id) order by i.started_at")
    return [dict(row) for row in db.query(sql, [*params, target_key(target)])]


def message(db: sqlite_utils.Database, incident: dict, target: NotifyTarget, database: str) -> tuple[str, str]:
    """An alert's title and body: the incident, its impact and status, its latest update,
    the upstream incidents overlapping it, and its page in the archive."""
    source = db["sources"].get(incident["source"])["name"]
    state = "resolved" if incident["resolved_at"] else incident["status"] or "open"
    title = f"{source}: {incident['title']} ({incident['impact']}, {state})"
    latest = db.execute("select body from incident_updates where incident_id = ? order by posted_at desc limit 1",
                        [incident["id"]]).fetchone()
    upstream = db.execute("select upstream_incident_id, upstream_title, overlap_minutes from upstream_overlaps "
                          "where incident_id = ? order by overlap_minutes desc limit 3", [incident["id"]]).fetchall()
    page = f"{target.archive_url}/{database}/incidents/{incident['id'].replace(':', '~3A')}"
    lines = [f"Started {incident['started_at']}" + (f", resolved {incident['resolved_at']}" if incident["resolved_at"]
                                                     else ""),
             *([f"Latest update: {latest[0]}"] if latest and latest[0] else []),
             *[f"Upstream at the same time: {uid} {utitle} ({minutes} min overlap)" for uid, utitle, minutes in upstream],
             f"In the archive: {page}"]
    return title, "\n".join(lines)


def send_due(db_path: str, targets: list[NotifyTarget], database: str) -> list[str]:
    """Send every alert due to every target; returns what could not be sent (tried again later)."""
    failures = []
    db = sqlite_utils.Database(db_path)
    db.execute("PRAGMA busy_timeout = 30000")
    try:
        for target in targets:
            notifier = apprise.Apprise()
            if not notifier.add(target.url):
                failures.append(f"{target_key(target)}: not an Apprise URL")
                continue
            for incident in due(db, target):
                title, body = message(db, incident, target, database)
                if notifier.notify(title=title, body=body):
                    with db.conn:
                        db["alerts_sent"].insert({"target": target_key(target), "incident_id": incident["id"],
                                                  "status": incident["status"] or "", "sent_at": utc_now()},
                                                 replace=True)
                else:
                    failures.append(f"{target_key(target)}: {incident['id']} not delivered")
    finally:
        db.close()
    return failures
