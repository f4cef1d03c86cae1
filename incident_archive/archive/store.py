"""Writing items into the archive: upserts that never lose what was archived before.

Every incident is written in one transaction (row, updates, component links), so a
reader or a killed crawl never sees half an incident. An incident whose content is
what the archive already holds is not written at all: re-crawling unchanged pages
changes no row.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import sqlite_utils

from incident_archive.archive.schema import VERSIONED_INCIDENT_FIELDS, VERSIONED_UPDATE_FIELDS, migrate
from incident_archive.core.times import ISO_FORMAT, parse_time, seconds_between, utc_now
from incident_archive.archive.views import STAGE_TIMES_SELECT, create_views
from incident_archive.core.items import (ArticleItem, BodySeen, ComponentItem, IncidentItem, ListingItem, SourceStatusItem,
                           WalkState)

RESOLVED_STATUSES = ("resolved", "postmortem", "completed")
IMPACT_RANK = {"maintenance": 0, "none": 1, "minor": 2, "major": 3, "critical": 4}

# How long a writer waits for another writer's transaction before giving up.
BUSY_TIMEOUT_MS = 30_000


def open_archive(path: str | Path) -> sqlite_utils.Database:
    """Open (creating or upgrading) the archive at ``path``, ready for concurrent readers."""
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.enable_wal()
    # With WAL, NORMAL syncs at checkpoints rather than on every commit: a killed
    # process loses nothing committed, a power cut at worst the last transactions, and
    # neither corrupts the file. FULL spent 37% of ingest time in fsync.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    create_views(db)
    return db


def incident_key(source: str, native_id: str) -> str:
    """The archive's incident id: ``<source>:<native id>``."""
    return f"{source}:{native_id}"


# Updates read from a feed (``/history.atom``) or a research dataset carry ids of our
# making with these prefixes; the page's own copy of the same update takes their place.
LESSER_UPDATE_PREFIXES = ("atom-", "research-")


def same_text(a: str | None, b: str | None) -> bool:
    """Two renderings of one update's text (markup and spacing aside)."""
    normalise = lambda text: " ".join((text or "").split())[:80].lower()  # noqa: E731
    return bool(a and b) and normalise(a) == normalise(b)


# Fields a page may fail to give in one response (a broken or partial answer): a value
# the archive already holds is never replaced by nothing.
KEPT_WHEN_MISSING = ("started_at", "started_at_basis", "created_at", "updated_at", "url", "duration_s")


def missing(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def keep_known_fields(existing: dict, record: dict, item: IncidentItem) -> None:
    for field in (*KEPT_WHEN_MISSING, "title"):
        if missing(record[field]) and not missing(existing[field]):
            record[field] = existing[field]
    if item.impact_raw is None and existing["impact_raw"] is not None:
        record["impact"], record["impact_raw"] = existing["impact"], existing["impact_raw"]
    elif item.shim_copy and IMPACT_RANK.get(record["impact"], 0) <= IMPACT_RANK.get(existing["impact"], 0):
        record["impact"], record["impact_raw"] = existing["impact"], existing["impact_raw"]
    if item.shim_copy:
        for field in ("started_at", "started_at_basis", "resolved_at", "duration_s", "url"):
            if not missing(existing[field]):
                record[field] = existing[field]
    if record["status"] is None and existing["status"] is not None:
        record["status"] = existing["status"]
    if record["resolved_at"] is None and existing["resolved_at"] and record["status"] in RESOLVED_STATUSES:
        record["resolved_at"] = existing["resolved_at"]
        record["duration_s"] = existing["duration_s"]


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def normalized(title: str | None) -> str:
    """A title as SQLite's ``lower(trim(title))`` gives it (ASCII letters, spaces)."""
    return (title or "").strip(" ").translate(_ASCII_LOWER)


def normalize_title(title: str) -> str:
    """A headline reduced to its words: the same story under two feeds' punctuation."""
    title = re.split(r"\s+[|–—-]\s+[^|–—-]+$", title.strip())[0]  # " - The Outlet"
    return " ".join(re.findall(r"\w+", title.lower()))


def id_shape(native_id: str) -> tuple[int, bool, bool]:
    """Length and letter case of an id: tells one platform's ids from another's."""
    return len(native_id), any(c.islower() for c in native_id), any(c.isupper() for c in native_id)


def content_hash(item: IncidentItem) -> str:
    """A digest of everything the page said about an incident, to spot unchanged ones cheaply."""
    content = dict(vars(item))
    content.pop("fresh")
    content.pop("partial")
    # vars() of the nested items serializes them as asdict() would, without its deep copy.
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=vars).encode()).hexdigest()


def snapshot(record: dict, item: IncidentItem | None, removed: bool = False) -> dict:
    """What a page said of an incident, as one version records it."""
    components = sorted({c.native_id for c in item.components} | {
        i.component_native_id for i in item.component_impacts}) if item else []
    return {field: record.get(field) for field in VERSIONED_INCIDENT_FIELDS[:-2]} | {
        "components": json.dumps(components) if components else None, "removed": int(removed)}


def changes(previous: dict, current: dict) -> list[str]:
    """The fields of ``current`` that differ from ``previous``, a missing value aside."""
    return [field for field, value in current.items() if not missing(value) and previous.get(field) != value
            or field == "removed" and previous.get(field) != value]


class ArchiveWriter:
    """The only code that writes crawled items into the archive."""

    def __init__(self, db: sqlite_utils.Database, run_id: int | None = None):
        self.db = db
        # The crawl run whose observations this writer records (versions name it).
        self.run_id = run_id
        self._migrations: dict[str, tuple[str, str] | None] = {}

    def save_source(
        self, source_id: str, kind: str, name: str, url: str, depends_on: list | None = None,
        aliases: list | None = None, migrated: dict | None | object = ...,
    ) -> None:
        """Record a source as the sources file describes it (``migrated`` left out, as an
        import does, keeps the declared platform move)."""
        existing = self._row("sources", source_id)
        if migrated is ...:
            migrated = {"from": existing["migrated_from"], "on": existing["migrated_on"]} if existing else None
        record = {
            "id": source_id,
            "kind": kind,
            "name": name,
            "url": url,
            "depends_on": json.dumps(depends_on) if depends_on else None,
            "aliases": json.dumps(aliases) if aliases else None,
            "migrated_from": (migrated or {}).get("from"),
            "migrated_on": (migrated or {}).get("on"),
        }
        self._migrations.pop(source_id, None)
        if existing is None:
            with self.db.atomic():
                self.db["sources"].insert(record)
        elif any(existing.get(k) != v for k, v in record.items()):
            with self.db.atomic():
                self.db["sources"].update(source_id, record)

    def save_source_status(self, item: SourceStatusItem) -> None:
        record = {"status_indicator": item.indicator, "status_description": item.description}
        existing = self._row("sources", item.source)
        if existing and any(existing[k] != v for k, v in record.items()):
            with self.db.atomic():
                self.db["sources"].update(item.source, record)

    def save_walk_state(self, state: WalkState, when: str | None = None) -> None:
        """Record where a source's history walk stands; a walk that reached the end of
        the history marks the source backfilled."""
        when = when or utc_now()
        with self.db.atomic():
            self.db["source_walks"].upsert(
                {"source": state.source, "walk": state.walk, "covered_until": state.covered_until,
                 "open_top": state.open_top, "resume_at": state.resume_at, "reached_end": int(state.reached_end),
                 "stopped": state.stopped, "pages": state.pages, "run_id": self.run_id, "updated_at": when},
                pk="source")
            if state.reached_end and not state.open_top and not self.is_backfilled(state.source):
                self.db["sources"].update(state.source, {"backfilled_at": when})

    def walk_state(self, source_id: str) -> WalkState | None:
        row = self._first("SELECT * FROM source_walks WHERE source = ?", [source_id])
        if row is None:
            return None
        return WalkState(row["source"], row["walk"], row["covered_until"], row["open_top"], row["resume_at"],
                         bool(row["reached_end"]), row["stopped"], row["pages"] or 0)

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

    def save_body_seen(self, seen: BodySeen, when: str | None = None) -> None:
        with self.db.atomic():
            self.db["response_digests"].upsert(
                {"source": seen.source, "url": seen.url, "digest": seen.digest, "seen_at": when or utc_now()},
                pk=("source", "url"))

    def body_digests(self, source_id: str) -> dict[str, str]:
        """The digest of each body of this source the archive has taken in, by URL."""
        return dict(self.db.execute("SELECT url, digest FROM response_digests WHERE source = ?", [source_id]))

    def is_backfilled(self, source_id: str) -> bool:
        row = self._row("sources", source_id)
        return bool(row and row.get("backfilled_at"))

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
                title = (item.source, normalized(item.title))
                shape = id_shape(item.native_id)
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

    # Full-text indexes the writer keeps itself (schema migration 9): a statement per
    # batch rather than a trigger per row halves the cost of a first crawl's writes.
    WRITER_INDEXED_TEXT = (("incidents", "title"), ("incident_updates", "body"))

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
        """Recompute the stage times (incident_archive.archive.views.STAGE_TIMES_SELECT) of these incidents."""

        for start in range(0, len(incident_ids), 500):
            chunk = incident_ids[start:start + 500]
            self.db.execute(
                f"INSERT OR REPLACE INTO incident_stage_times {STAGE_TIMES_SELECT} "
                f"WHERE u.incident_id IN ({', '.join('?' * len(chunk))}) GROUP BY u.incident_id", chunk)

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
            "url": item.url,
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
        if existing["content_hash"] == digest:
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

    def _save_components_of(self, incidents: list[tuple[str, IncidentItem]]) -> None:
        """The components incidents name, added when missing (see _save_component), and
        the links from each incident to them."""
        components = [c for _, item in incidents for c in item.components]
        if not components:
            return
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO components (id, source, native_id, name, group_name, description, status, "
            "position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(incident_key(c.source, c.native_id), c.source, c.native_id, c.name, c.group_name, c.description,
              c.status, c.position) for c in components],
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
        if alias and alias[0] == digest:
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

    # How far apart two starts of one incident, published under two ids, may be.
    SAME_INCIDENT_HOURS = 6

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

    def save_article(self, item: ArticleItem, seen_at: str | None = None) -> str:
        """Store an article once, however many feeds carry it: the same canonical URL, or
        failing that the same normalized title within three days, is the same article.
        Returns ``"new"``, ``"updated"`` or ``"unchanged"``."""
        seen_at = seen_at or utc_now()
        normalized = normalize_title(item.title)
        existing = self._first(
            "SELECT * FROM articles WHERE canonical_url = ?", [item.canonical_url]
        ) or self._first(
            """SELECT * FROM articles WHERE normalized_title = ?
               AND (published_at IS NULL OR ? IS NULL OR abs(julianday(published_at) - julianday(?)) <= 3)""",
            [normalized, item.published_at, item.published_at],
        )
        content = {k: v for k, v in asdict(item).items() if k not in ("source", "fresh")}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        article_id = existing["id"] if existing else hashlib.sha1(item.canonical_url.encode()).hexdigest()[:16]
        feed = {"article_id": article_id, "source": item.source, "entry_url": item.url}
        if existing and (existing["content_hash"] == digest or self._worse_copy(existing, item)):
            if self._first("SELECT 1 FROM article_feeds WHERE article_id = ? AND source = ?", [article_id, item.source]):
                return "unchanged"
            with self.db.atomic():
                self.db["article_feeds"].insert(feed | {"first_seen_at": seen_at})
            return "updated"
        record = {
            "id": article_id,
            "canonical_url": item.canonical_url,
            "url": item.url,
            "title": item.title,
            "normalized_title": normalized,
            "published_at": item.published_at,
            "author": item.author,
            "outlet": item.outlet,
            "summary": item.summary,
            "body": item.body,
            "extraction": item.extraction,
            "extraction_note": item.extraction_note,
            "first_seen_at": existing["first_seen_at"] if existing else seen_at,
            "content_hash": digest,
        }
        with self.db.atomic():
            if existing:
                self.db["articles"].update(article_id, record)
            else:
                self.db["articles"].insert(record)
            self.db["article_feeds"].insert(feed | {"first_seen_at": seen_at}, ignore=True)
        return "updated" if existing else "new"

    # How much of an article each way of reading it gets, best first.
    EXTRACTION_RANK = {"jsonld": 0, "opengraph": 1, "markup": 2, "feed": 3}

    @classmethod
    def _worse_copy(cls, existing: dict, item: ArticleItem) -> bool:
        """A copy read less fully (a syndicated page's bare markup, a feed entry alone)
        never replaces an article read more fully; the better copy takes over."""
        rank = cls.EXTRACTION_RANK
        return rank.get(item.extraction, 9) > rank.get(existing["extraction"], 9)

    def _first(self, sql: str, params: list) -> dict | None:
        cursor = self.db.execute(sql, params)
        row = cursor.fetchone()
        return dict(zip([d[0] for d in cursor.description], row)) if row else None

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

    def _row(self, table: str, key: str) -> dict | None:
        return self._first(f"SELECT * FROM [{table}] WHERE id = ?", [key])

    # Crawl provenance -------------------------------------------------------------

    def start_run(self, crawl_id: str, source: str, kind: str) -> int:
        with self.db.atomic():
            table = self.db["crawl_runs"].insert(
                {"crawl_id": crawl_id, "source": source, "kind": kind, "started_at": utc_now(), "outcome": "running"}
            )
        return table.last_pk

    def close_interrupted_runs(self) -> int:
        """Runs still 'running' when a new crawl starts were killed: say so."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE crawl_runs SET outcome = 'interrupted', error = 'the crawl stopped before this source finished' "
                "WHERE outcome = 'running'"
            )
        return cursor.rowcount

    def finish_run(self, run_id: int, outcome: str, error: str | None, counts: dict[str, int]) -> None:
        with self.db.atomic():
            self.db["crawl_runs"].update(
                run_id, {"finished_at": utc_now(), "outcome": outcome, "error": error, **counts}
            )
