"""The crawl's own records: the sources, each crawl run's outcome and counts, where each
source's history walk stands, and the bodies already taken in."""

from __future__ import annotations

import json

from incident_archive.archive.overlaps import refresh_relations
from incident_archive.archive.writing import Writer
from incident_archive.core.items import BodySeen, SourceStatusItem, WalkState
from incident_archive.core.times import utc_now


class CrawlRecords(Writer):
    def save_source(
        self, source_id: str, kind: str, name: str, url: str, depends_on: list | None = None,
        aliases: list | None = None, migrated: dict | None | object = ..., every_s: int | None | object = ...,
        runs_in: dict | None | object = ..., peers: list | None | object = ...,
    ) -> None:
        """Record a source as the sources file describes it (``migrated`` left out, as an
        import does, keeps the declared platform move). A change of what it depends on or
        its peers recounts the overlaps of the pairs it relates (archive/overlaps.py)."""
        existing = self._row("sources", source_id)
        if migrated is ...:
            migrated = {"from": existing["migrated_from"], "on": existing["migrated_on"]} if existing else None
        if every_s is ...:
            every_s = existing["every_s"] if existing else None
        if runs_in is ...:
            runs_in = json.loads(existing["runs_in"]) if existing and existing.get("runs_in") else None
        if peers is ...:
            peers = json.loads(existing["peers"]) if existing and existing.get("peers") else None
        record = {
            "id": source_id,
            "kind": kind,
            "name": name,
            "url": url,
            "depends_on": json.dumps(depends_on) if depends_on else None,
            "aliases": json.dumps(aliases) if aliases else None,
            "migrated_from": (migrated or {}).get("from"),
            "migrated_on": (migrated or {}).get("on"),
            "every_s": every_s,
            "runs_in": json.dumps(runs_in) if runs_in else None,
            "peers": json.dumps(peers) if peers else None,
        }
        self._migrations.pop(source_id, None)
        relates = any((existing or {}).get(k) != record[k] for k in ("depends_on", "peers"))
        if existing is None:
            with self.db.atomic():
                self.db["sources"].insert(record)
                if relates:
                    refresh_relations(self.db)
        elif any(existing.get(k) != v for k, v in record.items()):
            with self.db.atomic():
                self.db["sources"].update(source_id, record)
                if relates:
                    refresh_relations(self.db)

    def save_configured_source(self, source) -> None:
        """Record a source as the sources file declares it (a ``core.sources.Source``)."""
        options = source.options
        self.save_source(source.id, source.kind, source.name, source.url, options.get("depends_on"),
                         options.get("aliases"), options.get("migrated"), options.get("every_s"), options.get("runs_in"),
                         options.get("peers"))

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

    def start_run(self, crawl_id: str, source: str, kind: str) -> int:
        # Plain SQL: sqlite-utils' insert reads the table's schema on every call, a tenth
        # of an unchanged poll's CPU with this and finish_run (bench/analysis.md).
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT INTO crawl_runs (crawl_id, source, kind, started_at, outcome) VALUES (?, ?, ?, ?, 'running')",
                [crawl_id, source, kind, utc_now()])
        return cursor.lastrowid

    def close_interrupted_runs(self, sources: list[str]) -> int:
        """Runs of these sources still 'running' when a new crawl of them starts were killed:
        say so (another source's run may be a live poll of the watch service)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE crawl_runs SET outcome = 'interrupted', error = 'the crawl stopped before this source finished' "
                f"WHERE outcome = 'running' AND source IN ({', '.join('?' * len(sources))})", sources)
        return cursor.rowcount

    def close_unfinished_runs(self, crawl_id: str) -> int:
        """Runs of this crawl that never finished (the crawl was stopped as they started)."""
        with self.db.atomic():
            cursor = self.db.execute(
                "UPDATE crawl_runs SET outcome = 'interrupted', finished_at = ?, "
                "error = 'stopped by a signal as this source started; the next crawl goes on from here' "
                "WHERE crawl_id = ? AND outcome = 'running'", [utc_now(), crawl_id])
        return cursor.rowcount

    def finish_run(self, run_id: int, outcome: str, error: str | None, counts: dict[str, int]) -> None:
        values = {"finished_at": utc_now(), "outcome": outcome, "error": error, **counts}
        with self.db.atomic():
            self.db.execute(f"UPDATE crawl_runs SET {', '.join(f'[{name}] = ?' for name in values)} WHERE id = ?",
                            [*values.values(), run_id])
