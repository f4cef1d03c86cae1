"""Writing incidents: rows, updates, their versions, components and links, the full-text
index and the stage times, in batches of one transaction each. Unchanged incidents are
not written; nothing archived is blanked or deleted.
"""

from __future__ import annotations

import json
from datetime import timedelta

from incident_archive.archive.identity import (
    LESSER_UPDATE_PREFIXES, RESOLVED_STATUSES, changes, content_hash, id_shape, incident_key, keep_known_fields,
    missing, normalized, same_content, same_text, snapshot,
)
from incident_archive.archive.overlaps import refresh_overlaps
from incident_archive.archive.schema import VERSIONED_INCIDENT_FIELDS, VERSIONED_UPDATE_FIELDS
from incident_archive.archive.summaries import refresh_service_times
from incident_archive.archive.writing import Writer
from incident_archive.core.items import ComponentItem, IncidentItem, ListingItem
from incident_archive.core.times import ISO_FORMAT, parse_time, seconds_between, utc_now
from incident_archive.core.words import web_url

# When each incident was first posted, answered, identified, monitored, resolved (its last
# resolved post) and given a postmortem: the writer keeps these in incident_stage_times.
STAGE_TIMES_SELECT = """
    select u.incident_id, i.source, u.first_posted_at, u.first_response_at, u.investigating_at, u.identified_at,
           u.monitoring_at, u.resolved_post_at, u.postmortem_at, i.impact
    from (
        select incident_id,
               min(posted_at) as first_posted_at,
               min(case when status in ('investigating', 'identified', 'monitoring') then posted_at end)
                   as first_response_at,
               min(case when status = 'investigating' then posted_at end) as investigating_at,
               min(case when status = 'identified' then posted_at end) as identified_at,
               min(case when status = 'monitoring' then posted_at end) as monitoring_at,
               max(case when status = 'resolved' then posted_at end) as resolved_post_at,
               min(case when status = 'postmortem' then posted_at end) as postmortem_at
        from incident_updates {where} group by incident_id
    ) u join incidents i on i.id = u.incident_id  -- once per incident, not once per update
    where true
"""  # "where true": without a WHERE, SQLite would parse a following ON CONFLICT as the join's ON
# An upsert, not INSERT OR REPLACE: a replaced row fires no delete trigger, and the
# triggers that count incidents per month (schema.month_count_triggers) need one.
STAGE_TIMES_UPDATE = ", ".join(
    f"{column} = excluded.{column}" for column in (
        "source", "first_posted_at", "first_response_at", "investigating_at", "identified_at", "monitoring_at",
        "resolved_post_at", "postmortem_at", "impact"))


class IncidentWriter(Writer):
    """The only code that writes crawled incidents into the archive."""

    # How far apart two starts of one incident, published under two ids, may be.
    SAME_INCIDENT_HOURS = 6

    # Full-text indexes the writer keeps itself (schema migration 9): a statement per
    # batch rather than a trigger per row halves the cost of a first crawl's writes.
    WRITER_INDEXED_TEXT = (("incidents", "title"), ("incident_updates", "body"))

    def save_components(self, items: list[ComponentItem]) -> int:
        """Upsert components; returns how many rows were written."""
        written = 0
        with self.db.atomic():
            for item in items:
                written += self._save_component(item, full=True)
        return written

    def _save_component(self, item: ComponentItem, full: bool) -> int:
        """Write one component; returns 1 if a row was written.

        ``full`` is True for the authoritative list (a summary); a component named by
        an incident is only added when missing, so an old incident never overwrites
        the current name or status.
        """
        key = incident_key(item.source, item.native_id)
        record = {
            "id": key,
            "source": item.source,
            "native_id": item.native_id,
            "name": item.name,
            "group_name": item.group_name,
            "description": item.description,
            "status": item.status,
            "position": item.position,
        }
        existing = self._row("components", key)
        if existing is None:
            self.db["components"].insert(record)
            return 1
        if full and any(existing.get(k) != v for k, v in record.items()):
            self.db["components"].update(key, record)
            return 1
        return 0

    def save_incidents(self, items: list[IncidentItem], seen_at: str | None = None) -> list[tuple[str, int]]:
        """Store a batch of incidents in one transaction; returns each one's outcome as
        :meth:`save_incident` does, in order.

        Incidents the archive has never seen, under no other id (the bulk of a first
        crawl), are written with one ``executemany`` per table; the others go through
        :meth:`save_incident`.
        """
        seen_at = seen_at or utc_now()
        results: list[tuple[str, int] | None] = [None] * len(items)
        with self.db.atomic():
            keys = [incident_key(i.source, i.native_id) for i in items]
            known = self._existing(keys, "SELECT id FROM incidents WHERE id IN ({})")
            known |= self._existing(keys, "SELECT alias_id FROM incident_aliases WHERE alias_id IN ({})")
            # Only an incident new to the archive can be a republished copy of another
            # (a recrawl's incidents are all known: no title lookups at all).
            archived = self._same_titles_archived(
                [i for k, i in zip(keys, items) if k not in known and self.may_be_migrated(i)])
            pending: dict[str, tuple[int, IncidentItem]] = {}
            pending_shapes: dict[tuple[str, str], set] = {}
            for position, (key, item) in enumerate(zip(keys, items)):
                # Titles and id shapes matter only on a page that moved platform.
                moved = self.migration(item.source) is not None
                title = (item.source, normalized(item.title)) if moved else None
                shape = id_shape(item.native_id) if moved else None
                migrated = self.may_be_migrated(item)
                if key in pending or migrated and pending_shapes.get(title, {shape}) != {shape}:
                    # its twin is pending: write that first, then compare with it
                    self._insert_batch(pending, results, seen_at)
                    known |= pending.keys()
                    for _, other in pending.values():
                        archived.setdefault((other.source, normalized(other.title)), []).append(
                            (id_shape(other.native_id), other.started_at))
                    pending, pending_shapes = {}, {}
                if key in known or item.partial or migrated and self._maybe_republished(item, archived.get(title, ())):
                    results[position] = self.save_incident(item, seen_at)
                    known.add(key)
                else:
                    pending[key] = (position, item)
                    if moved:
                        pending_shapes.setdefault(title, set()).add(shape)
            self._insert_batch(pending, results, seen_at)
        return results

    def migration(self, source: str) -> tuple[str, str] | None:
        """The platform this source moved from and the date it moved, if the sources file says so."""
        if source not in self._migrations:
            row = self._first("SELECT migrated_from, migrated_on FROM sources WHERE id = ?", [source])
            self._migrations[source] = (row["migrated_from"], row["migrated_on"]) if row and row["migrated_on"] else None
        return self._migrations[source]

    def may_be_migrated(self, item: IncidentItem) -> bool:
        """Only an incident that started before its source's declared platform move can be
        an old incident republished under a new id; no rule merges on a title alone."""
        moved = self.migration(item.source)
        return bool(moved and item.started_at and item.started_at < moved[1])

    def _existing(self, keys: list[str], sql: str) -> set[str]:
        found = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            found.update(row[0] for row in self.db.execute(sql.format(", ".join("?" * len(chunk))), chunk))
        return found

    def _same_titles_archived(self, items: list[IncidentItem]) -> dict[tuple[str, str], list[tuple]]:
        """For each (source, title) of the batch, the id shapes and starts of the archived
        incidents with that title that started within SAME_INCIDENT_HOURS of one of the
        batch's: what _same_incident compares a new id with. One indexed range read per
        incident (titles like "Elevated error rates" recur thousands of times)."""
        found: dict[tuple[str, str], list[tuple]] = {}
        margin = timedelta(hours=self.SAME_INCIDENT_HOURS)
        for item in items:
            if not item.started_at:
                continue
            title = normalized(item.title)
            start = parse_time(item.started_at)
            rows = self.db.execute(
                "SELECT native_id, started_at FROM incidents WHERE source = ? AND lower(trim(title)) = ? "
                "AND started_at BETWEEN ? AND ?",
                [item.source, title, (start - margin).strftime(ISO_FORMAT), (start + margin).strftime(ISO_FORMAT)])
            for native_id, started_at in rows:
                found.setdefault((item.source, title), []).append((id_shape(native_id), started_at))
        return found

    def _maybe_republished(self, item: IncidentItem, same_title: list[tuple]) -> bool:
        """Whether an archived incident of the same title, another id shape and a start
        within SAME_INCIDENT_HOURS could be this one (then _same_incident decides)."""
        if not item.started_at:
            return False
        shape = id_shape(item.native_id)
        start = parse_time(item.started_at)
        return any(
            other_shape != shape and other_start
            and abs((parse_time(other_start) - start).total_seconds()) <= self.SAME_INCIDENT_HOURS * 3600
            for other_shape, other_start in same_title
        )

    def _insert_batch(self, pending: dict, results: list, seen_at: str) -> None:
        """New incidents, their updates and their links, one statement per table."""
        if not pending:
            return
        records = [self._new_record(item, seen_at) for _, item in pending.values()]
        columns = list(records[0])
        self.db.conn.executemany(
            f"INSERT INTO incidents ({', '.join(f'[{c}]' for c in columns)}) VALUES ({', '.join('?' * len(columns))})",
            [list(r.values()) for r in records],
        )
        updates = {}
        for key, (position, item) in pending.items():
            rows = {f"{key}:{u.native_id}": (f"{key}:{u.native_id}", key, u.native_id, u.status, u.body, u.posted_at,
                                             seen_at) for u in reversed(item.updates)}  # the first copy wins
            updates.update(rows)
            results[position] = ("new", len(rows))  # a new incident's updates are all new
        self.db.conn.executemany(
            "INSERT INTO incident_updates (id, incident_id, native_id, status, body, posted_at, first_seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            list(updates.values()),
        )
        self.db.conn.executemany(
            f"INSERT INTO incident_versions (incident_id, version, run_id, observed_at, "
            f"{', '.join(VERSIONED_INCIDENT_FIELDS)}) VALUES (?, 1, ?, ?, {', '.join('?' * len(VERSIONED_INCIDENT_FIELDS))})",
            [[record["id"], self.run_id, seen_at, *snapshot(record, item).values()]
             for record, (_, item) in zip(records, pending.values())],
        )
        self.db.conn.executemany(
            "INSERT INTO update_versions (update_id, incident_id, version, run_id, observed_at, status, body, posted_at) "
            "VALUES (?, ?, 1, ?, ?, ?, ?, ?)",
            [(update_id, incident_id, self.run_id, seen_at, status, body, posted_at)
             for update_id, incident_id, _, status, body, posted_at, _ in updates.values()],
        )
        self.index_new_text()
        self._refresh_stage_times(list(pending))
        self._save_components_of([(key, item) for key, (_, item) in pending.items()])
        for key, (_, item) in pending.items():
            self._save_impacts_and_regions(key, item)
        refresh_service_times(self.db, list(pending), new=True)
        refresh_overlaps(self.db)

    def index_new_text(self) -> None:
        """Add the rows inserted since the last call to the full-text indexes.

        Called right after every insert, in the same transaction, so a row is indexed
        before anything can update it (the update triggers remove the old text from
        the index, which must be there). Rows are never deleted, so a rowid above the
        index's highest is a row it lacks, whoever inserted it.
        """
        for table, column in self.WRITER_INDEXED_TEXT:
            self.db.execute(
                f"INSERT INTO [{table}_fts] (rowid, [{column}]) SELECT rowid, [{column}] FROM [{table}] "
                f"WHERE rowid > (SELECT coalesce(max(id), 0) FROM [{table}_fts_docsize])"
            )

    def _refresh_stage_times(self, incident_ids: list[str]) -> None:
        """Recompute the stage times (STAGE_TIMES_SELECT) of these incidents."""

        for start in range(0, len(incident_ids), 500):
            chunk = incident_ids[start:start + 500]
            self.db.execute(
                "INSERT INTO incident_stage_times "
                + STAGE_TIMES_SELECT.format(where=f"WHERE incident_id IN ({', '.join('?' * len(chunk))})")
                + f"ON CONFLICT (incident_id) DO UPDATE SET {STAGE_TIMES_UPDATE}", chunk)

    def _new_record(self, item: IncidentItem, seen_at: str, digest: str | None = None) -> dict:
        return {
            "id": incident_key(item.source, item.native_id),
            "source": item.source,
            "native_id": item.native_id,
            "title": item.title,
            "impact": item.impact,
            "impact_raw": item.impact_raw,
            "status": item.status,
            "started_at": item.started_at,
            "started_at_basis": item.started_at_basis,
            "resolved_at": item.resolved_at,
            "duration_s": seconds_between(item.started_at, item.resolved_at),
            "created_at": item.created_at,
            "updated_at": item.updated_at,
            "url": web_url(item.url),
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
            "content_hash": digest or content_hash(item),
        }

    def save_incident(self, item: IncidentItem, seen_at: str | None = None) -> tuple[str, int]:
        """Store an incident; returns its outcome (``"new"``, ``"updated"`` or
        ``"unchanged"``) and how many updates were added.

        Updates are added or corrected, never removed: an update that has left the
        page's window stays archived. ``last_seen_at`` moves only when the page served
        the incident afresh (not from a 304 revalidation).
        """
        seen_at = seen_at or utc_now()
        key = incident_key(item.source, item.native_id)
        digest = content_hash(item)
        existing = self._row("incidents", key)
        if existing is None:
            canonical, reason = self._same_incident(item, key)
            if canonical:
                return self._save_republished(item, key, canonical, reason, digest, seen_at)
            results = [None]
            with self.db.atomic():
                self._insert_batch({key: (0, item)}, results, seen_at)
            return results[0]
        if item.partial:
            return self._add_to_existing(key, item, seen_at)
        if same_content(existing["content_hash"], item, digest):
            if item.fresh and (existing["last_seen_at"] != seen_at or existing["removed_at"]):
                with self.db.atomic():
                    self.db["incidents"].update(key, {"last_seen_at": seen_at, "removed_at": None})
                    if existing["removed_at"]:
                        self._record_version(key, {}, None, seen_at, removed=False)
            return "unchanged", 0

        record = self._new_record(item, seen_at, digest) | {"first_seen_at": existing["first_seen_at"]}
        keep_known_fields(existing, record, item)
        if not item.fresh:
            record["last_seen_at"] = existing["last_seen_at"]
        removed = bool(existing["removed_at"]) and not item.fresh
        record["removed_at"] = existing["removed_at"] if removed else None
        with self.db.atomic():
            self.db["incidents"].update(key, record)
            self._record_version(key, record, item, seen_at, removed=removed)
            updates_new = sum(self._save_update(key, update, seen_at) for update in item.updates)
            self._refresh_stage_times([key])
            self._save_links(key, item)
        return "updated", updates_new

    def _last_version(self, table: str, column: str, key: str) -> dict | None:
        return self._first(f"SELECT * FROM [{table}] WHERE [{column}] = ? ORDER BY version DESC LIMIT 1", [key])

    def _record_version(self, key: str, record: dict, item: IncidentItem | None, seen_at: str,
                        removed: bool) -> None:
        """Keep what the page said now as a new version, if anything differs from the last."""
        previous = self._last_version("incident_versions", "incident_id", key) or {"version": 0}
        current = snapshot(record, item, removed) if record else {"removed": int(removed)}
        changed = changes(previous, current)
        if not changed:
            return
        merged = {field: previous.get(field) for field in VERSIONED_INCIDENT_FIELDS}
        merged.update({field: value for field, value in current.items() if not missing(value) or field == "removed"})
        self.db["incident_versions"].insert(
            {"incident_id": key, "version": previous["version"] + 1, "run_id": self.run_id, "observed_at": seen_at,
             **merged, "changed": json.dumps(changed)})

    def _save_links(self, key: str, item: IncidentItem) -> None:
        """Components, component impact windows and regions of an incident (never removed)."""
        self._save_components_of([(key, item)])
        self._save_impacts_and_regions(key, item)
        refresh_service_times(self.db, [key])
        refresh_overlaps(self.db)

    def _save_components_of(self, incidents: list[tuple[str, IncidentItem]]) -> None:
        """The components incidents name, added when missing (see _save_component), and
        the links from each incident to them."""
        components: dict[str, ComponentItem] = {}  # a batch names its source's few components again and again
        for _, item in incidents:
            for c in item.components:
                components.setdefault(incident_key(c.source, c.native_id), c)  # the first wins, as OR IGNORE would
        if not components:
            return
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO components (id, source, native_id, name, group_name, description, status, "
            "position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(key, c.source, c.native_id, c.name, c.group_name, c.description, c.status, c.position)
             for key, c in components.items()],
        )
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO incident_components (incident_id, component_id) VALUES (?, ?)",
            [(key, incident_key(c.source, c.native_id)) for key, item in incidents for c in item.components],
        )

    def _save_impacts_and_regions(self, key: str, item: IncidentItem) -> None:
        for impact in item.component_impacts:
            component_id = incident_key(item.source, impact.component_native_id)
            if self._row("components", component_id) is None:
                self.db["components"].insert(
                    {"id": component_id, "source": item.source, "native_id": impact.component_native_id,
                     "name": impact.component_native_id}
                )
            self.db["component_impacts"].upsert(
                {
                    "id": f"{key}:{impact.component_native_id}:{impact.start_at}",
                    "incident_id": key,
                    "component_id": component_id,
                    "status": impact.status,
                    "start_at": impact.start_at,
                    "end_at": impact.end_at,
                    "duration_s": seconds_between(impact.start_at, impact.end_at),
                },
                pk="id",
            )
            self.db["incident_components"].insert({"incident_id": key, "component_id": component_id}, ignore=True)
        for region in item.regions:
            self.db["incident_regions"].upsert(
                {"incident_id": key, "region": region.native_id, "region_name": region.name},
                pk=("incident_id", "region"),
            )

    def _save_republished(
        self, item: IncidentItem, alias_id: str, incident_id: str, reason: str | None, digest: str, seen_at: str
    ) -> tuple[str, int]:
        """An incident the archive holds under another id: keep the archived row as it is,
        add what the republished copy has that the archive lacks."""
        alias = self.db.execute(
            "SELECT content_hash FROM incident_aliases WHERE alias_id = ?", [alias_id]
        ).fetchone()
        if alias and same_content(alias[0], item, digest):
            return "unchanged", 0
        with self.db.atomic():
            if alias is None:
                self.db["incident_aliases"].insert(
                    {"alias_id": alias_id, "incident_id": incident_id, "reason": reason, "linked_at": seen_at}
                )
            self.db["incident_aliases"].update(alias_id, {"content_hash": digest})
        return "updated", self._add_to_existing(incident_id, item, seen_at)[1]

    def _add_to_existing(self, incident_id: str, item: IncidentItem, seen_at: str) -> tuple[str, int]:
        """Updates, components and windows the archive lacks; the incident row stays."""
        with self.db.atomic():
            updates_new = sum(self._save_update(incident_id, update, seen_at) for update in item.updates)
            self._refresh_stage_times([incident_id])
            self._save_links(incident_id, item)
        return ("updated" if updates_new else "unchanged"), updates_new

    def _same_incident(self, item: IncidentItem, key: str) -> tuple[str | None, str | None]:
        """The archived incident this new id is another name for, and why.

        A page that changes platform (OpenAI: Statuspage to incident.io) republishes old
        incidents under new ids. An alias recorded earlier decides; otherwise, for a
        source whose move the sources file declares, an incident that started before
        the move, with the same title, an id of the other platform's shape and a start
        within a few hours is the same incident.
        """
        row = self.db.execute("SELECT incident_id FROM incident_aliases WHERE alias_id = ?", [key]).fetchone()
        if row:
            return row[0], None
        if not self.may_be_migrated(item):
            return None, None
        row = self.db.execute(
            """SELECT id, native_id, started_at FROM incidents
               WHERE source = ? AND id != ? AND lower(trim(title)) = lower(trim(?))
                 AND abs(julianday(started_at) - julianday(?)) * 24 <= ?
               ORDER BY abs(julianday(started_at) - julianday(?))""",
            [item.source, key, item.title, item.started_at, self.SAME_INCIDENT_HOURS, item.started_at],
        )
        for incident_id, native_id, started_at in row:
            if id_shape(native_id) != id_shape(item.native_id):
                return incident_id, (f"republished after the move from {self.migration(item.source)[0]}: same title, "
                                     f"started {started_at} vs {item.started_at}")
        return None, None

    def _save_update(self, incident_id: str, update, seen_at: str) -> int:
        """Add or correct one update; returns 1 when it is new to the archive.

        The same update reached through another format (the Atom feed's copy of a JSON
        update, a republished copy under a new id) is recognised by its minute and its
        text and corrected in place, not stored twice.
        """
        key = f"{incident_id}:{update.native_id}"
        record = {
            "incident_id": incident_id,
            "native_id": update.native_id,
            "status": update.status,
            "body": update.body,
            "posted_at": update.posted_at,
        }
        existing = self._row("incident_updates", key) or self._same_update(incident_id, update)
        if existing is None:
            self.db["incident_updates"].insert(record | {"id": key, "first_seen_at": seen_at})
            self.index_new_text()
            self.db["update_versions"].insert(
                {"update_id": key, "incident_id": incident_id, "version": 1, "run_id": self.run_id,
                 "observed_at": seen_at, **{f: record[f] for f in VERSIONED_UPDATE_FIELDS}})
            return 1
        if existing["native_id"] != update.native_id and not existing["native_id"].startswith(LESSER_UPDATE_PREFIXES):
            return 0  # another platform's copy of an update the archive has: keep the archived one
        for field in VERSIONED_UPDATE_FIELDS:  # a response that lacks a value never blanks one
            if missing(record[field]) and not missing(existing[field]):
                record[field] = existing[field]
        if any(existing[k] != v for k, v in record.items()):
            self.db["incident_updates"].update(existing["id"], record)
            changed = [f for f in VERSIONED_UPDATE_FIELDS if existing[f] != record[f]]
            if changed:
                previous = self._last_version("update_versions", "update_id", existing["id"]) or {"version": 0}
                self.db["update_versions"].insert(
                    {"update_id": existing["id"], "incident_id": incident_id, "version": previous["version"] + 1,
                     "run_id": self.run_id, "observed_at": seen_at, **{f: record[f] for f in VERSIONED_UPDATE_FIELDS},
                     "changed": json.dumps(changed)})
        return 0

    def _same_update(self, incident_id: str, update) -> dict | None:
        if not update.posted_at:
            return None
        cursor = self.db.execute(
            "SELECT * FROM incident_updates WHERE incident_id = ? AND substr(posted_at, 1, 16) = ?",
            [incident_id, update.posted_at[:16]],
        )
        columns = [d[0] for d in cursor.description]
        for row in cursor:
            candidate = dict(zip(columns, row))
            if same_text(candidate["body"], update.body) or candidate["posted_at"] == update.posted_at:
                return candidate
        return None

    def save_listing(self, listing: ListingItem, seen_at: str | None = None) -> int:
        """An archived incident a complete listing should hold but lacks is marked removed
        (never deleted); one it holds again is no longer. Returns how many were removed."""
        seen_at = seen_at or utc_now()
        listed = set(listing.native_ids)
        rows = self.db.execute(
            "SELECT id, native_id, removed_at FROM incidents WHERE source = ? AND created_at >= ? "
            "AND coalesce(started_at, created_at) >= ?", [listing.source, listing.since, listing.since]).fetchall()
        removed = 0
        with self.db.atomic():
            for key, native_id, removed_at in rows:
                if native_id in listed and removed_at:
                    self.db["incidents"].update(key, {"removed_at": None})
                    self._record_version(key, {}, None, seen_at, removed=False)
                elif native_id not in listed and not removed_at:
                    self.db["incidents"].update(key, {"removed_at": seen_at})
                    self._record_version(key, {}, None, seen_at, removed=True)
                    removed += 1
        return removed

    def archived_native_ids(self, source: str) -> tuple[set[str], set[str]]:
        """Native ids of this source's archived incidents: (finished, still open).

        A crawl need not fetch the finished ones again (the walk back through history
        stops at them); the open ones it fetches even when it needs no history walk.
        """
        placeholders = ", ".join("?" for _ in RESOLVED_STATUSES)
        rows = self.db.execute(
            f"SELECT native_id, status IN ({placeholders}) FROM incidents WHERE source = ?",
            [*RESOLVED_STATUSES, source],
        )
        finished, still_open = set(), set()
        for native_id, done in rows:
            (finished if done else still_open).add(native_id)
        return finished, still_open

    def save_daily_outage(self, day) -> bool:
        """One service-day of a status page's uptime bar; returns True if written."""
        key = f"{day.source}:{day.service}:{day.day}"
        record = {
            "id": key,
            "source": day.source,
            "service": day.service,
            "day": day.day,
            "partial_outage_minutes": day.partial_minutes,
            "major_outage_minutes": day.major_minutes,
            "incident_links": json.dumps(day.incident_links) if day.incident_links else None,
        }
        existing = self._row("daily_outages", key)
        if existing == record:
            return False
        with self.db.atomic():
            self.db["daily_outages"].upsert(record, pk="id")
        return True
