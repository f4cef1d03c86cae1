"""The archive writer's batch path (one transaction, one statement per table) stores
exactly what writing the same incidents one at a time stores, twins and all."""

from __future__ import annotations

import copy
import dataclasses
import json

from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.testing.demo import RECORDED
from incident_archive.crawl.parsers import incidentio, statuspage
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage
from tests.conftest import OPENAI_MOVE

SEEN_AT = "2026-11-27T12:00:00Z"
TABLES = ["sources", "components", "incidents", "incident_updates", "incident_components", "component_impacts",
          "incident_regions", "incident_aliases", "incident_stage_times"]


def items():
    """OpenAI's December 2024 Statuspage incidents and, in the same batch, their copies
    republished by incident.io under ULIDs; a synthetic page's 40 incidents, one of them
    preceded by a partial (Atom-like) copy; one again, later, with one more update; and a
    partial copy of another."""
    recorded = json.loads((RECORDED / "openai-statuspage-2024-12.json").read_text())
    republished = json.loads((RECORDED / "openai-incidentio.json").read_text())
    synthetic = SyntheticStatuspage(SiteSpec("Acme AI", incidents=40, seed=3))
    batch = [statuspage.parse_incident_record(raw, "openai", "https://status.openai.com")
             for raw in recorded["incidents"]]
    batch += [incidentio.parse_incident_record(raw, "openai", "https://status.openai.com")
              for raw in republished["incidents"]]
    acme = [statuspage.parse_incident_record(raw, "acme", "https://status.acme.example")
            for raw in synthetic.incidents]
    batch.append(dataclasses.replace(acme[9], partial=True, updates=acme[9].updates[:1]))  # before its full copy
    batch += acme
    later = copy.deepcopy(acme[5])
    later.updates.append(dataclasses.replace(later.updates[-1], native_id="later-1", body="Postmortem published.",
                                             posted_at="2026-01-01T00:00:00Z"))
    batch.append(later)
    batch.append(dataclasses.replace(acme[7], partial=True, updates=acme[7].updates[:1]))
    return batch


def archive(path):
    db = open_archive(path)
    writer = ArchiveWriter(db)
    writer.save_source("openai", "statuspage", "OpenAI", "https://status.openai.com", migrated=OPENAI_MOVE)
    writer.save_source("acme", "statuspage", "Acme AI", "https://status.acme.example")
    return db, writer


def state(db) -> dict:
    return {t: sorted(map(json.dumps, db[t].rows)) for t in TABLES}


def test_a_batch_stores_what_one_at_a_time_stores(tmp_path):
    one_db, one = archive(tmp_path / "one.db")
    batch_db, batch = archive(tmp_path / "batch.db")
    one_results = [one.save_incident(item, SEEN_AT) for item in items()]
    batch_results = batch.save_incidents(items(), SEEN_AT)

    assert batch_results == one_results
    assert state(batch_db) == state(one_db)
    assert batch_results[-2] == ("updated", 1)  # the later copy, its one more update
    assert batch_results[:3] == [("new", 3), ("new", 4), ("new", 5)]
    aliases = {r["alias_id"]: r["incident_id"] for r in batch_db["incident_aliases"].rows}
    assert aliases["openai:01JG5C0WQ8R4ZP6H3M2N7K9D1F"] == "openai:6bwlxnvdncnm"
    assert batch_db["incidents"].count == 3 + 2 + 40  # twins stored once


def test_the_stage_times_follow_every_write(tmp_path):
    """The table the writer keeps equals the stage times computed afresh from the updates."""
    from incident_archive.archive.incidents import STAGE_TIMES_SELECT

    db, writer = archive(tmp_path / "a.db")
    batch = items()
    writer.save_incidents(batch[:20], SEEN_AT)
    for item in batch[20:]:
        writer.save_incident(item, SEEN_AT)
    kept = sorted(db.execute("SELECT * FROM incident_stage_times").fetchall())
    fresh = sorted(db.execute(STAGE_TIMES_SELECT.format(where="")).fetchall())
    assert kept == fresh and len(kept) == db["incidents"].count
    later = db["incident_stage_times"].get(f"acme:{batch[-2].native_id}")
    assert later["first_response_at"] is not None and later["resolved_post_at"] is not None
    # A page that raises an incident's impact: the copy kept for counts by impact follows.
    before = batch[-2].impact
    changed = dataclasses.replace(batch[-2], impact="minor" if before == "critical" else "critical")
    assert writer.save_incident(changed, SEEN_AT)[0] == "updated"
    assert db["incident_stage_times"].get(f"acme:{changed.native_id}")["impact"] == changed.impact != before


def test_the_search_index_follows_the_batches(tmp_path):
    db, writer = archive(tmp_path / "a.db")
    writer.save_incidents(items(), SEEN_AT)
    writer.save_incidents(items(), SEEN_AT)  # everything again: nothing new to index
    for table in ("incidents_fts", "incident_updates_fts"):
        db.execute(f"INSERT INTO [{table}] ([{table}]) VALUES ('integrity-check')")  # raises if out of step
    hits = {r["incident_id"] for r in db.query(
        "SELECT u.incident_id FROM incident_updates_fts f JOIN incident_updates u ON u.rowid = f.rowid "
        "WHERE incident_updates_fts MATCH 'upstream'")}
    assert "openai:6bwlxnvdncnm" in hits
    assert db["incident_updates"].count == db.execute("SELECT count(*) FROM incident_updates_fts_docsize").fetchone()[0]
