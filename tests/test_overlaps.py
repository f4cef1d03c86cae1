"""The kept overlap counts answer provider_cooccurrence exactly as probing every incident does.

The reference is the view's SQL before the counts were kept (every incident against
the related source's incidents), with an unresolved incident going on for ever and a
resolution before the start read as the start. Related pairs are written out here, not
read from the archive: s1 depends on s2 and s3, s4 is a peer of s1 and s2; s2 and s3,
s3 and s4 are not related. Windows here are crowded on purpose:
instants, open incidents, copies of one window, windows that only touch, resolutions
before the start; they arrive in any order, in batches and one by one, and then move.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta, timezone

import pytest

from incident_archive.archive.overlaps import OPEN_END, rebuild_overlaps, refresh_overlaps
from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.core.items import IncidentItem, UpdateItem

END = f"coalesce(case when {{t}}.resolved_at < {{t}}.started_at then {{t}}.started_at else {{t}}.resolved_at end, " \
      f"'{OPEN_END}')"
REFERENCE = f"""
    with related (source, other_source) as (values {{pairs}})
    select a.source, r.other_source, count(*) as incidents,
           sum(exists(select 1 from incidents b where b.source = r.other_source and b.id != a.id
                      and b.started_at is not null
                      and b.started_at < {END.format(t="a")} and {END.format(t="b")} > a.started_at)) as overlapping
    from incidents a join related r on r.source = a.source
    where a.started_at is not null
    group by a.source, r.other_source order by a.source, r.other_source"""
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
SOURCES = ["s1", "s2", "s3", "s4"]
DEPENDS_ON = {"s1": ["s2", "s3"]}
PEERS = {"s4": ["s1", "s2"]}
RELATED = {("s1", "s2"), ("s1", "s3"), ("s1", "s4"), ("s2", "s4")}


def at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def window(rng: random.Random, spread: int = 3000, still_open: bool = True) -> tuple[str, str | None]:
    begin = rng.choice([rng.randint(0, spread), rng.choice([100, 500, 500, 1200])])  # some share a start
    # None: still going on; negative: bad data.
    length = rng.choice([0, 0, 5, 30, 60, 240, 900, -30] + ([None] if still_open else [2000]))
    return at(begin), (None if length is None else at(begin + length))


def incident(rng: random.Random, n: int, spread: int = 3000, still_open: bool = True) -> IncidentItem:
    started, resolved = window(rng, spread, still_open)
    return IncidentItem(source=rng.choice(SOURCES), native_id=f"i{n}", title=f"Incident {n}", impact="minor",
                        impact_raw="minor", status="resolved" if resolved else "investigating", started_at=started,
                        resolved_at=resolved, updates=[UpdateItem(f"u{n}", "investigating", f"Looking {n}", started)])


def kept_and_reference(db, related: set = RELATED) -> tuple[list, list]:
    kept = db.conn.execute("select source, other_source, incidents, overlapping from provider_cooccurrence "
                           "order by source, other_source").fetchall()
    pairs = sorted(related | {(b, a) for a, b in related} | {(s, s) for s in SOURCES})
    return kept, db.conn.execute(REFERENCE.format(pairs=", ".join(f"('{a}', '{b}')" for a, b in pairs))).fetchall()


def save_sources(writer) -> None:
    for source in SOURCES:
        writer.save_source(source, "statuspage", source, f"https://{source}.example", DEPENDS_ON.get(source),
                           peers=PEERS.get(source))


def islands_and_counts(db) -> list:
    return [db.conn.execute(f"select * from {table} order by 1, 2, 3").fetchall()
            for table in ("source_islands", "source_overlaps")]


# Crowded: every source down much of two days. Sparse: spread over six weeks, gaps of
# hours to days between a source's outages. With some incidents still open, most of a
# source's time line soon is one open island; with none, every island is closed and the
# other sources' incidents are read by start, from a gap's start or an island's.
@pytest.mark.parametrize("seed, spread, still_open, overlapping", [
    (1, 3000, True, 100), (2, 3000, True, 100), (3, 3000, True, 100), (4, 60000, True, 20),
    (5, 3000, False, 100), (6, 60000, False, 20)])
def test_kept_overlaps_equal_probing_every_incident(tmp_path, seed, spread, still_open, overlapping):
    rng = random.Random(seed)
    writer = ArchiveWriter(open_archive(tmp_path / "archive.db"))
    save_sources(writer)
    writer.save_source("news", "news", "News", "https://news.example", peers=["s1"])
    items = [incident(rng, n, spread, still_open) for n in range(300)]
    writer.save_incidents(items[:200], "2026-01-01T00:00:00Z")
    kept, reference = kept_and_reference(writer.db)
    assert kept == reference
    assert sum(row[3] for row in reference) > overlapping  # many overlaps, across and within sources
    for item in items[200:]:
        writer.save_incident(item, "2026-01-01T00:00:00Z")
    kept, reference = kept_and_reference(writer.db)
    assert kept == reference

    # Pages change: incidents move, resolve, stay open.
    for item in rng.sample(items, 80):
        started, resolved = window(rng, spread, still_open)
        writer.save_incident(dataclasses.replace(item, started_at=started, resolved_at=resolved),
                             "2026-01-02T00:00:00Z")
    kept, reference = kept_and_reference(writer.db)
    assert kept == reference
    by_writer = islands_and_counts(writer.db)
    rebuild_overlaps(writer.db)
    assert islands_and_counts(writer.db) == by_writer

    # Whoever changes a window, the triggers queue it.
    with writer.db.conn:
        for incident_id, in writer.db.execute("select id from incidents order by random() limit 40").fetchall():
            started, resolved = window(rng, spread, still_open)
            writer.db.execute("update incidents set started_at = ?, resolved_at = ? where id = ?",
                              [started, resolved, incident_id])
        writer.db.execute("update incidents set started_at = null where id in "
                          "(select id from incidents order by random() limit 5)")
        refresh_overlaps(writer.db)
    kept, reference = kept_and_reference(writer.db)
    assert kept == reference

    # The sources file changes: s3 and s4 become peers, s1 no longer depends on s3.
    writer.save_source("s3", "statuspage", "s3", "https://s3.example", peers=["s4"])
    writer.save_source("s1", "statuspage", "s1", "https://s1.example", ["s2"])
    kept, reference = kept_and_reference(writer.db, RELATED - {("s1", "s3")} | {("s3", "s4")})
    assert kept == reference
    assert ("s1", "s3") not in {row[:2] for row in kept} and ("s4", "s3") in {row[:2] for row in kept}


def test_a_change_beside_an_outage_that_only_touches_it(tmp_path):
    """s1 is down 100-160 and, just after, 160-500 (two incidents, one island): a new
    incident at 90-110 must recount the first island without cutting the second."""
    writer = ArchiveWriter(open_archive(tmp_path / "archive.db"))
    save_sources(writer)

    def item(source: str, n: int, begin: int, end: int) -> IncidentItem:
        return IncidentItem(source=source, native_id=f"i{n}", title=f"Incident {n}", impact="minor",
                            impact_raw="minor", status="resolved", started_at=at(begin), resolved_at=at(end),
                            updates=[UpdateItem(f"u{n}", "resolved", "Fixed", at(end))])

    writer.save_incidents([item("s1", 1, 100, 160), item("s1", 2, 160, 400), item("s1", 3, 300, 500),
                           item("s2", 4, 450, 460)], "2026-01-01T00:00:00Z")
    writer.save_incident(item("s1", 5, 90, 110), "2026-01-01T00:00:00Z")
    kept, reference = kept_and_reference(writer.db)
    assert kept == reference
    assert writer.db.execute("select started_at, ended_at, incidents from source_islands where source = 's1' "
                             "order by started_at").fetchall() == [(at(90), at(160), 2), (at(160), at(500), 2)]


# upstream_overlaps before it read the islands: every upstream incident that started
# before the dependent one ended, from the beginning of the upstream's history.
UPSTREAM_PROBED = f"""
    select d.id, u.id from sources s cross join json_each(s.depends_on) up
    cross join incidents d on d.source = s.id
    join incidents u on u.source = up.value and u.started_at < coalesce(d.resolved_at, {{now}})
                     and coalesce(u.resolved_at, {{now}}) > d.started_at
    order by 1, 2"""


@pytest.mark.parametrize("seed, spread, still_open", [(7, 3000, True), (8, 60000, False), (9, 60000, True)])
def test_upstream_overlaps_read_from_the_islands_equal_probing_every_pair(tmp_path, seed, spread, still_open):
    """The view reads an upstream's incidents from the start of its stretch of outage that
    the dependent incident's start falls in: the same pairs as reading its whole history,
    with incidents still open, resolved before they started, moved, and instants."""
    from incident_archive.archive.views import NOW

    rng = random.Random(seed)
    writer = ArchiveWriter(open_archive(tmp_path / "archive.db"))
    save_sources(writer)
    items = [incident(rng, n, spread, still_open) for n in range(300)]
    writer.save_incidents(items, "2026-01-01T00:00:00Z")
    for item in rng.sample(items, 60):
        started, resolved = window(rng, spread, still_open)
        writer.save_incident(dataclasses.replace(item, started_at=started, resolved_at=resolved),
                             "2026-01-02T00:00:00Z")
    listed = writer.db.execute("select incident_id, upstream_incident_id from upstream_overlaps "
                               "order by 1, 2").fetchall()
    assert listed == writer.db.execute(UPSTREAM_PROBED.format(now=NOW)).fetchall()
    assert len(listed) > 20 and {row[0].split(":")[0] for row in listed} == {"s1"}
