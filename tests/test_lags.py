"""The kept acknowledgement lags answer as computing them from every incident does.

The reference is the SQL the ``acknowledgement_lag`` view ran over every incident before
its rows were kept, and the dashboard's charts over it (a median by row numbers, counts
by GROUP BY). The kept rows, counts and medians must give the same answers for any
bounds, whichever writer changed a part: updates, stated starts, attributions, articles,
an upstream's first post, a removal, a SQL statement outside the writer.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta, timezone

import pytest

from incident_archive.archive.lags import LAG_ROWS, rebuild_lags
from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.archive.views import QUERIES
from incident_archive.core.items import IncidentItem, ListingItem, UpdateItem

EVERY_ROW = LAG_ROWS.format(incidents="incidents i")
IN_BOUNDS = """select * from ({rows}) where stated_start >= coalesce(nullif(:since, ''), '0000')
               and stated_start <= coalesce(nullif(:until, ''), '9999') || '~'"""
REFERENCE = {
    "acknowledgement_medians_between": f"""
        with lags as (select source, year, own_lag_minutes as minutes from ({IN_BOUNDS.format(rows=EVERY_ROW)})
                      where own_lag_minutes >= 0),
        ranked as (select source, year, minutes, row_number() over (partition by source, year order by minutes) as k,
                          count(*) over (partition by source, year) as n from lags)
        select source, year, avg(minutes) as median_minutes, max(n) as incidents
        from ranked where k in ((n + 1) / 2, (n + 2) / 2) group by source, year""",
    "first_to_speak_between": f"""
        select source, year, count(*) as incidents, sum(first_to_speak = 'provider') as provider_first,
               sum(first_to_speak = 'upstream') as upstream_first, sum(first_to_speak = 'news') as news_first,
               sum(upstream_incident_id is not null) as with_likely_upstream
        from ({IN_BOUNDS.format(rows=EVERY_ROW)}) group by source, year""",
}
BOUNDS = [("", ""), ("2024-01-01", "2024-12-31"), ("2023-03-15", "2024-02-10T12:00:00Z"), ("2024-05", "2024-05"),
          ("2023-07-01T06:00:00Z", ""), ("", "2023-11"), ("2025-06-01", "2025-01-01"), ("2024", "2024"),
          ("2023-01-01", "2024-12-31"), ("2023-02", "2025-01-15"), ("2022-12-31T12:00:00Z", ""),
          ("2024-01-01T00:00:01Z", "2025-12-31"),
          # quarters whole and cut, alone and beside whole years
          ("2023-04-01", "2023-09-30"), ("2023-02-15", "2024-08-20"), ("2023-03-31T23:00:00Z", "2023-07"),
          ("2023-05", "2025-11-10"), ("2024-10", "2024-12"), ("2023-04", "2023-06-15")]
START = datetime(2023, 1, 1, tzinfo=timezone.utc)
SEEN = "2026-01-01T00:00:00Z"
SOURCES = {"cloud": None, "app": ["cloud"], "api": ["cloud"]}


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def incident(rng: random.Random, source: str, n: int) -> IncidentItem:
    """Started within three years of 2023; first posted before or after its start, or never."""
    begin = rng.uniform(0, 3 * 365 * 1440)
    lag = rng.choice([-30, 0, 4, rng.uniform(0, 5), rng.uniform(1, 60), rng.uniform(1, 60), rng.uniform(60, 3000)])
    posts = [at(begin + lag + k * 20) for k in range(rng.choice([0, 1, 2, 3]))]
    return IncidentItem(
        source=source, native_id=f"i{n}", title=f"Incident {n}", impact="minor", impact_raw="x", status="resolved",
        started_at=at(begin), resolved_at=at(begin + 120), created_at=at(begin), started_at_basis=rng.choice(["page", "posted", None]),
        updates=[UpdateItem(f"u{k}", "investigating", f"post {k}", posted) for k, posted in enumerate(posts)])


def rows(db, sql: str, params: dict | None = None) -> list[tuple]:
    return sorted(tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                  for row in db.conn.execute(sql, params or {}).fetchall())


def kept(db) -> dict:
    """Every kept row (a month whose incidents all left keeps a row of zeros)."""
    return {"acknowledgement_lags": rows(db, "select * from acknowledgement_lags"),
            "source_month_speakers": rows(db, "select * from source_month_speakers where incidents != 0"),
            "source_month_lags": rows(db, "select * from source_month_lags where lags != 0"),
            "source_quarter_lags": rows(db, "select * from source_quarter_lags where lags != 0"),
            "source_year_lags": rows(db, "select * from source_year_lags")}


def compare(db) -> None:
    assert not db.execute("select count(*) from lag_changes").fetchone()[0]
    assert rows(db, "select * from acknowledgement_lags") == rows(db, EVERY_ROW)
    for since, until in BOUNDS:
        for name, reference in REFERENCE.items():
            bounds = {"since": since, "until": until}
            assert rows(db, QUERIES[name], bounds) == rows(db, reference, bounds), (name, since, until)
    by_writer = kept(db)
    with db.atomic():
        rebuild_lags(db)
    assert kept(db) == by_writer


def ids(db, sql: str, params: list | None = None) -> list[str]:
    return [row[0] for row in db.execute(sql, params or []).fetchall()]


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_lags_equal_computing_them_from_every_incident(tmp_path, seed):
    rng = random.Random(seed)
    db = open_archive(tmp_path / "archive.db")
    writer = ArchiveWriter(db)
    for source, depends_on in SOURCES.items():
        writer.save_source(source, "statuspage", source, f"https://{source}.example", depends_on=depends_on)
    items = [incident(rng, rng.choice(list(SOURCES)), n) for n in range(300)]
    writer.save_incidents(items[:200], SEEN)
    for item in items[200:]:
        writer.save_incident(item, SEEN)
    dependents = ids(db, "select id from incidents where source != 'cloud'")
    upstreams = ids(db, "select id from incidents where source = 'cloud'")
    with db.atomic():
        for incident_id in rng.sample(dependents, 60):
            db["stated_starts"].insert({"incident_id": incident_id, "stated_start": at(rng.uniform(0, 3 * 365 * 1440)),
                                        "quote": "Starting at", "found_at": SEEN})
        for incident_id in rng.sample(dependents, 120):
            for candidate in rng.sample(upstreams, 2):
                db["attribution_scores"].insert({"incident_id": incident_id, "candidate_id": candidate,
                                                 "score": rng.random(), "verdict": rng.choice(["likely", "possible"])})
        for n in range(40):
            db["articles"].insert({"id": f"a{n}", "title": f"Outage {n}", "published_at": at(rng.uniform(0, 3 * 365 * 1440)),
                                   "first_seen_at": SEEN})
            for incident_id in rng.sample(dependents, 3):
                db["article_incidents"].insert({"article_id": f"a{n}", "incident_id": incident_id, "score": 0.5,
                                                "reason": "test", "linked_at": SEEN})
    compare(db)
    assert {"provider", "upstream", "news"} <= set(ids(db, "select distinct first_to_speak from acknowledgement_lags"))

    # An upstream posts earlier: the incidents it is the likely upstream of speak differently.
    likely = ids(db, "select candidate_id from attribution_scores where verdict = 'likely'")
    for incident_id in rng.sample(likely, 10):
        item = next(i for i in items if f"{i.source}:{i.native_id}" == incident_id)
        early = UpdateItem("u-early", "investigating", "seen early", at(rng.uniform(0, 3 * 365 * 1440)))
        writer.save_incident(dataclasses.replace(item, updates=[*item.updates, early]), SEEN)
    compare(db)

    # News is re-dated, links and scores change, stated starts go, the page moves starts.
    with db.atomic():
        db.execute("update articles set published_at = ? where id in ('a1', 'a2', 'a3')", [at(10)])
        db.execute("delete from article_incidents where article_id = 'a4'")
        db.execute("update attribution_scores set verdict = 'likely' where verdict = 'possible' and score > 0.5")
        db.execute("delete from attribution_scores where rowid % 7 = 0")
        db.execute("delete from stated_starts where rowid % 3 = 0")
    for item in rng.sample(items, 30):
        writer.save_incident(dataclasses.replace(item, started_at=at(rng.uniform(0, 3 * 365 * 1440)),
                                                 started_at_basis=rng.choice(["page", "posted"])), SEEN)
    compare(db)

    # A statement outside any write transaction is queued, and the next write applies it.
    db.conn.execute("update stated_starts set stated_start = ? where rowid % 2 = 0", [at(500)])
    db.conn.commit()
    assert db.execute("select count(*) from lag_changes").fetchone()[0] > 0
    with db.atomic():
        pass
    compare(db)

    # A listing without them removes incidents (and gives them back).
    app = sorted(i.native_id for i in items if i.source == "app")
    writer.save_listing(ListingItem("app", app[: len(app) // 2], since="0000"), SEEN)
    compare(db)
    assert db.execute("select count(*) from acknowledgement_lags where source = 'app'").fetchone()[0] > 0
    writer.save_listing(ListingItem("app", app, since="0000"), SEEN)
    compare(db)
