"""Schema and store: migrations are idempotent, upserts never lose or duplicate."""

from __future__ import annotations

import sqlite_utils

from incident_archive.archive.schema import MIGRATIONS, NUMBERED_BEFORE_NAMED, migrate
from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.core.items import ComponentItem, IncidentItem, UpdateItem


def incident(updates, **fields):
    base = dict(source="s", native_id="i1", title="Outage", impact="major", impact_raw="major",
                status="investigating", started_at="2024-12-26T19:00:00Z", resolved_at=None)
    base.update(fields)
    return IncidentItem(updates=updates, components=[ComponentItem("s", "c1", "API")], **base)


def applied(db) -> list[str]:
    return [m.name for m in MIGRATIONS.applied(db)]


def test_migrate_creates_schema_once(tmp_path):
    db = sqlite_utils.Database(tmp_path / "a.db")
    count = len(MIGRATIONS.pending(db))
    assert migrate(db) == count > len(NUMBERED_BEFORE_NAMED)
    assert migrate(db) == 0
    assert applied(db)[:len(NUMBERED_BEFORE_NAMED)] == NUMBERED_BEFORE_NAMED
    assert {"sources", "incidents", "incident_updates", "components", "incident_components", "crawl_runs"} <= set(
        db.table_names()
    )
    assert [fk.other_table for fk in db["incident_updates"].foreign_keys] == ["incidents"]


def test_upserts_keep_every_update_and_track_changes(tmp_path):
    db = open_archive(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    writer.save_source("s", "statuspage", "S", "https://s.test")
    first = UpdateItem("u1", "investigating", "Looking", "2024-12-26T19:00:00Z")
    assert writer.save_incident(incident([first]), "2024-12-26T19:05:00Z") == ("new", 1)
    assert writer.save_incident(incident([first]), "2024-12-26T19:10:00Z") == ("unchanged", 0)
    # Fresh again but unchanged: only last_seen_at moves; from a 304, nothing moves.
    assert db["incidents"].get("s:i1")["last_seen_at"] == "2024-12-26T19:10:00Z"
    stale = incident([first])
    stale.fresh = False
    assert writer.save_incident(stale, "2024-12-26T19:20:00Z") == ("unchanged", 0)
    assert db["incidents"].get("s:i1")["last_seen_at"] == "2024-12-26T19:10:00Z"

    resolved = UpdateItem("u2", "resolved", "Fixed", "2024-12-27T04:38:00Z")
    # The page now shows only the newest update: the first one stays archived.
    outcome = writer.save_incident(
        incident([resolved], status="resolved", resolved_at="2024-12-27T04:38:00Z"), "2024-12-27T05:00:00Z"
    )
    assert outcome == ("updated", 1)
    row = db["incidents"].get("s:i1")
    assert (row["status"], row["duration_s"], row["first_seen_at"]) == ("resolved", 34680, "2024-12-26T19:05:00Z")
    assert [u["native_id"] for u in db["incident_updates"].rows_where(order_by="posted_at")] == ["u1", "u2"]
    assert db["incident_components"].count == 1
    assert writer.archived_native_ids("s") == ({"i1"}, set())
    assert [r["title"] for r in db["incidents"].search("outage")] == ["Outage"]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_an_archive_of_the_first_schema_upgrades_in_place(tmp_path):
    """An archive made when migrations were counted in ``user_version`` (the first schema
    only): the bridge records that one as applied, the others run, nothing is lost."""
    from incident_archive.archive.schema import _initial

    db = sqlite_utils.Database(tmp_path / "old.db")
    with db.atomic():
        _initial(db)
        db.execute("PRAGMA user_version = 1")
    db["sources"].insert({"id": "s", "kind": "statuspage", "name": "S", "url": "https://s.test"})
    db["incidents"].insert({"id": "s:i1", "source": "s", "native_id": "i1", "title": "Old", "impact": "minor"})
    db.close()

    upgraded = open_archive(tmp_path / "old.db")
    rows = list(upgraded["_sqlite_migrations"].rows)
    assert rows[0]["name"] == "initial" and rows[0]["applied_at"] == "before named migrations"
    assert applied(upgraded) == [m.name for m in MIGRATIONS.applied(upgraded)] and not MIGRATIONS.pending(upgraded)
    assert upgraded["incidents"].get("s:i1")["title"] == "Old"
    assert {"component_impacts", "incident_regions", "incident_versions"} <= set(upgraded.table_names())
    assert upgraded["incident_versions"].get(1)["title"] == "Old"


def test_overlap_counts_of_every_pair_upgrade_to_the_declared_relations(tmp_path):
    """An archive that counted overlaps between every two sources keeps, once upgraded,
    only the pairs the sources table relates (OpenAI on Azure), counted from its incidents."""
    db = sqlite_utils.Database(tmp_path / "old.db")
    MIGRATIONS.apply(db, stop_before="overlaps_along_relations")
    for source in ("openai", "azure", "github"):
        db["sources"].insert({"id": source, "kind": "statuspage", "name": source, "url": f"https://{source}.test",
                              "depends_on": '["azure"]' if source == "openai" else None})
    for source, native_id, start, end in [("openai", "o1", "2024-12-26T19:00:00Z", "2024-12-27T01:00:00Z"),
                                          ("azure", "a1", "2024-12-26T18:00:00Z", "2024-12-26T22:00:00Z"),
                                          ("github", "g1", "2024-12-26T20:00:00Z", "2024-12-26T21:00:00Z")]:
        db["incidents"].insert({"id": f"{source}:{native_id}", "source": source, "native_id": native_id,
                                "title": "Down", "impact": "major", "started_at": start, "resolved_at": end})
    db["source_overlaps"].insert_all([{"source": a, "other_source": b, "incidents": 1}
                                      for a in ("openai", "azure", "github") for b in ("openai", "azure", "github")
                                      if a != b])
    db.close()

    upgraded = open_archive(tmp_path / "old.db")
    assert upgraded.execute("select source, other_source, relation, overlapping from provider_cooccurrence "
                            "order by 1, 2").fetchall() == [
        ("azure", "azure", "itself", 0), ("azure", "openai", "upstream of", 1),
        ("github", "github", "itself", 0), ("openai", "azure", "depends on", 1), ("openai", "openai", "itself", 0)]
    assert upgraded.execute("select source, other_source from source_overlaps order by 1, 2").fetchall() == [
        ("azure", "openai"), ("openai", "azure")]


def test_views_are_rebuilt_from_one_module_when_an_archive_opens(tmp_path):
    from incident_archive.archive.views import VIEWS, create_views

    db = open_archive(tmp_path / "a.db")
    assert set(VIEWS) <= set(db.view_names())
    assert create_views(db) == 0  # unchanged: nothing written
    db.execute("DROP VIEW incident_overview")
    db.execute("DROP VIEW time_to_resolve")
    db.execute("CREATE VIEW time_to_resolve AS SELECT 1 AS stale")
    db.close()
    reopened = open_archive(tmp_path / "a.db")
    assert "incident_overview" in reopened.view_names()
    assert "stale" not in reopened["time_to_resolve"].columns_dict


def test_runs_a_stopped_crawl_never_finished_are_marked_interrupted(tmp_path):
    """A crawler that a signal caught as it started never closes its spider: when the crawl
    ends, its run says it was interrupted instead of staying 'running'."""
    writer = ArchiveWriter(open_archive(tmp_path / "a.db"))
    writer.save_source("s", "statuspage", "S", "https://s.test")
    writer.save_source("t", "statuspage", "T", "https://t.test")
    started = writer.start_run("crawl1", "s", "statuspage")
    writer.finish_run(writer.start_run("crawl1", "t", "statuspage"), "ok", None, {})
    other = writer.start_run("crawl2", "s", "statuspage")  # another crawl's live run is left alone
    assert writer.close_unfinished_runs("crawl1") == 1
    runs = {row["id"]: row for row in writer.db["crawl_runs"].rows}
    assert runs[started]["outcome"] == "interrupted" and "stopped by a signal" in runs[started]["error"]
    assert runs[started]["finished_at"] is not None
    assert runs[other]["outcome"] == "running"


def test_facet_counts_follow_every_insert_update_and_delete(tmp_path):
    """The counts the incidents page's facets read equal a GROUP BY over the rows, after
    the writer adds, changes and re-dates incidents, and after a row is deleted; an
    archive made before them gets them counted when it upgrades."""
    from incident_archive.archive.schema import COUNTED_FACETS

    def kept(db, table):
        return {(column, value): count for column, value, count in db.execute(
            "select column_name, value, count from facet_counts where table_name = ? and count != 0", [table])}

    def grouped(db, table):
        counts = {}
        for column, (_, sql) in COUNTED_FACETS[table].items():
            value = sql.format(row=f"[{table}]")
            for found, count in db.execute(f"select {value}, count(*) from [{table}] where {value} is not null "
                                           f"group by 1"):
                counts[(column, found)] = count
        return counts

    db = open_archive(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    writer.save_source("s", "statuspage", "S", "https://s.test")
    writer.save_source("t", "statuspage", "T", "https://t.test")
    first = UpdateItem("u1", "investigating", "Looking", "2023-12-31T23:00:00Z")
    for n in range(6):
        writer.save_incident(incident([first], native_id=f"i{n}", source="st"[n % 2],
                                      impact=["minor", "major", "critical"][n % 3]), "2024-01-01T00:00:00Z")
    resolved = UpdateItem("u2", "resolved", "Fixed", "2024-01-01T02:00:00Z")
    writer.save_incident(incident([resolved], native_id="i0", status="resolved", impact="critical",
                                  started_at="2023-12-31T22:00:00Z", resolved_at="2024-01-01T02:00:00Z"),
                         "2024-01-01T03:00:00Z")
    db.execute("PRAGMA foreign_keys = OFF")  # the rows that name it are not what is tested
    with db.atomic():
        db.execute("DELETE FROM incident_updates WHERE incident_id = 't:i3'")
        db.execute("DELETE FROM incidents WHERE id = 't:i3'")
    for table in COUNTED_FACETS:
        assert kept(db, table) == grouped(db, table)
    assert kept(db, "incidents")[("year", "2023")] == 1 and kept(db, "incidents")[("impact", "critical")] == 3
    assert kept(db, "incident_updates") == {("status", "investigating"): 5, ("status", "resolved"): 1}

    # An archive from before the counts: the migration counts what it holds.
    with db.atomic():
        db.execute("DROP TABLE facet_counts")
        for table in COUNTED_FACETS:
            for change in ("insert", "update", "delete"):
                db.execute(f"DROP TRIGGER [{table}_facet_counts_{change}]")
        db.execute("DELETE FROM _sqlite_migrations WHERE name = 'facet_counts'")
    db.close()
    upgraded = open_archive(tmp_path / "a.db")
    for table in COUNTED_FACETS:
        assert kept(upgraded, table) == grouped(upgraded, table)
