"""The kept monthly figures answer the dated analytics exactly as reading every incident does.

The reference below is the SQL the analytics ran before the figures were kept (every
stage-time row through the components join, sorted per service): the kept figures must
give the same numbers for any bounds, after incidents arrive in any order, move to
another month, gain a component or a resolution.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta, timezone

import pytest

from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.archive.summaries import rebuild_service_times, resolve_band, resolve_band_label
from incident_archive.archive.views import QUERIES
from incident_archive.core.items import ComponentItem, IncidentItem, UpdateItem

ROWS = """
    select st.incident_id, st.source, coalesce(c.name, '(no component)') as service, st.impact, st.first_posted_at,
           (julianday(st.resolved_post_at) - julianday(st.first_response_at)) * 24 as hours
    from incident_stage_times st
    left join incident_components ic on ic.incident_id = st.incident_id
    left join components c on c.id = ic.component_id
    where st.first_posted_at >= coalesce(nullif(:since, ''), '0000')
      and st.first_posted_at <= coalesce(nullif(:until, ''), '9999') || '~'
"""
REFERENCE = {
    "time_to_resolve_between": f"""
        with d as (select * from ({ROWS}) where hours is not null), r as (
            select *, row_number() over (partition by source, service order by hours) as n,
                   count(*) over (partition by source, service) as total from d)
        select source, service, total as incidents, round(avg(hours), 2) as mean_hours,
               round(avg(case when n in ((total + 1) / 2, (total + 2) / 2) then hours end), 2) as median_hours,
               round(max(case when n = (9 * total + 9) / 10 then hours end), 2) as p90_hours
        from r group by source, service order by source, service""",
    "time_between_failures_between": f"""
        with g as (select source, service, julianday(first_posted_at) - julianday(lag(first_posted_at) over (
                       partition by source, service order by first_posted_at, incident_id)) as days
                   from ({ROWS}))
        select source, service, count(days) as gaps, round(avg(days), 2) as mean_days,
               round(min(days), 2) as min_days, round(max(days), 2) as max_days
        from g where days is not null group by source, service order by source, service""",
    "incidents_by_impact_between": f"""
        select source, count(*) as incidents, sum(impact = 'critical') as critical, sum(impact = 'major') as major,
               sum(impact = 'minor') as minor, sum(impact = 'none') as "none",
               sum(impact = 'maintenance') as maintenance
        from (select distinct incident_id, source, impact from ({ROWS})) group by source order by source""",
    "incidents_started_between": f"""
        select source, count(*) as incidents, sum(impact = 'critical') as critical, sum(impact = 'major') as major,
               sum(impact = 'minor') as minor, sum(impact = 'none') as "none",
               sum(impact = 'maintenance') as maintenance
        from incidents where started_at >= coalesce(nullif(:since, ''), '0000')
          and started_at <= coalesce(nullif(:until, ''), '9999') || '~' group by source""",
    "resolve_hours_by_service_between": f"""
        select source, service, count(*) as incidents, round(avg(hours), 2) as mean_hours,
               round(max(hours), 2) as longest_hours
        from ({ROWS}) where hours is not null group by source, service""",
    "resolve_bands_between": f"""
        select source, band, {resolve_band_label("band")} as duration, count(*) as incidents,
               round(sum(hours), 4) as hours
        from (select source, hours, {resolve_band("hours")} as band
              from (select distinct incident_id, source, hours from ({ROWS})) where hours is not null)
        group by source, band""",
}
BOUNDS = [("", ""), ("2024-01-01", "2024-12-31"), ("2023-03-15", "2024-02-10T12:00:00Z"), ("2024-05", "2024-05"),
          ("2024-05-20", "2024-05-21"), ("2023-07-01T06:00:00Z", ""), ("", "2023-11"), ("2025-06-01", "2025-01-01"),
          ("2024", "2024"), ("2023-06", "2024-06-30"), ("2024-02-01T00:00:00Z", "2024-03-31T12:00:00Z"),
          ("2024-03-10", "2024-03"), ("2024-03", "2024-03-10"),
          # whole years, alone and with months before and after
          ("2023-01-01", "2024-12-31"), ("2023-02", "2025-01-15"), ("2023", "2023-12"), ("2022-12-31T12:00:00Z", ""),
          ("2023-01-01", "2024-12-15"), ("2024-01-01T00:00:01Z", "2025-12-31")]
START = datetime(2023, 1, 1, tzinfo=timezone.utc)


def at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def incident(rng: random.Random, source: str, n: int, begin: float, components: list[str]) -> IncidentItem:
    """First posted at ``begin`` (minutes after 2023), answered, often resolved."""
    statuses = rng.choice([["investigating", "resolved"], ["resolved"], ["identified", "monitoring", "resolved"],
                           ["investigating"], ["monitoring", "resolved", "postmortem"]])
    step = rng.choice([0, 0.5, 7, 45, 300, 2000])
    updates = [UpdateItem(f"u{k}", status, f"{status} {n}", at(begin + k * step)) for k, status in enumerate(statuses)]
    return IncidentItem(
        source=source, native_id=f"i{n}", title=f"Incident {n} of {source}", impact=rng.choice(
            ["minor", "major", "critical", "none", "maintenance"]), impact_raw="x", status="resolved",
        started_at=at(begin), resolved_at=None, updates=updates,
        components=[ComponentItem(source, name, name.upper()) for name in components])


def answers(db, name: str, since: str, until: str, reference: bool) -> list[dict]:
    cursor = db.conn.execute(REFERENCE[name] if reference else QUERIES[name], {"since": since, "until": until})
    columns = [d[0] for d in cursor.description]
    return sorted((dict(zip(columns, row)) for row in cursor.fetchall()), key=lambda r: [str(v) for v in r.values()])


STAGE_DURATIONS = """
    select source, service, count(*) as incidents,
           round(avg((julianday(identified_at) - julianday(investigating_at)) * 24), 2) as investigating_hours,
           round(avg((julianday(monitoring_at) - julianday(identified_at)) * 24), 2) as identified_to_monitoring_hours,
           round(avg((julianday(resolved_post_at) - julianday(coalesce(monitoring_at, identified_at, investigating_at)))
                     * 24), 2) as to_resolved_hours,
           round(avg((julianday(postmortem_at) - julianday(resolved_post_at)) * 24), 2) as resolved_to_postmortem_hours
    from service_stage_times group by source, service order by source, service"""


INCIDENTS_PER_MONTH = """
    select source, substr(started_at, 1, 7) as month, count(*) as incidents,
           sum(impact = 'critical') as critical, sum(impact = 'major') as major, sum(impact = 'minor') as minor,
           sum(impact = 'none') as "none", sum(impact = 'maintenance') as maintenance
    from incidents where started_at is not null group by source, month order by source, month"""


def kept_rows(db) -> dict:
    """Every kept row, floats to 9 places (sums kept by adding and taking away may differ
    from sums made afresh in the last bits)."""
    order = {"service_stage_times": "incident_id, service", "service_months": "source, service, month",
             "service_month_hours": "source, service, month, bucket",
             "service_quarter_hours": "source, service, quarter, bucket",
             "service_year_hours": "source, service, year, bucket", "service_hours": "source, service, bucket"}
    return {table: [tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                    for row in db.execute(f"select * from {table} order by {columns}").fetchall()]
            for table, columns in order.items()}


def compare(db) -> None:
    for since, until in BOUNDS:
        for name in REFERENCE:
            assert answers(db, name, since, until, False) == answers(db, name, since, until, True), (name, since, until)
    kept = db.conn.execute("select * from stage_durations order by source, service").fetchall()
    assert kept == db.conn.execute(STAGE_DURATIONS).fetchall()
    kept = db.conn.execute("select * from incidents_per_month order by source, month").fetchall()
    assert kept == db.conn.execute(INCIDENTS_PER_MONTH).fetchall()
    by_deltas = kept_rows(db)
    rebuild_service_times(db)  # the same figures computed afresh from every row
    assert kept_rows(db) == by_deltas


@pytest.mark.parametrize("seed", [1, 2])
def test_kept_figures_equal_reading_every_incident(tmp_path, seed):
    rng = random.Random(seed)
    writer = ArchiveWriter(open_archive(tmp_path / "archive.db"))
    for source in ("s1", "s2"):
        writer.save_source(source, "statuspage", source, f"https://{source}.example")
    items = []
    for n in range(400):
        source = rng.choice(["s1", "s2"])
        begin = rng.choice([rng.uniform(0, 3 * 365 * 1440), 500 * 1440.0])  # some at the very same minute
        items.append(incident(rng, source, n, begin, rng.sample(["api", "web", "db"], rng.choice([0, 1, 1, 2]))))
    rng.shuffle(items)  # a backfill walks back, a crawl forward: any order
    writer.save_incidents(items[:250], "2026-01-01T00:00:00Z")
    for item in items[250:]:
        writer.save_incident(item, "2026-01-01T00:00:00Z")
    compare(writer.db)

    # Pages change: first posts move to other months, components and resolutions arrive.
    for item in rng.sample(items, 60):
        earlier = UpdateItem("u-early", "investigating", "seen earlier",
                             at(rng.uniform(0, 3 * 365 * 1440)))
        later = UpdateItem("u-late", "resolved", "fixed", at(3 * 365 * 1440 + rng.uniform(0, 1440)))
        extra = ComponentItem(item.source, "queue", "QUEUE")
        changed = dataclasses.replace(item, updates=[*item.updates, earlier, later], started_at=earlier.posted_at,
                                      impact=rng.choice(["minor", "major"]), components=[*item.components, extra])
        writer.save_incident(changed, "2026-01-02T00:00:00Z")
    compare(writer.db)
    assert writer.db.execute("select count(*) from service_months").fetchone()[0] > 100
    moved = writer.db.execute("select count(*) from incidents i join incident_updates u on u.incident_id = i.id "
                              "where u.native_id = 'u-early' and i.started_at = u.posted_at").fetchone()[0]
    assert moved > 0  # starts moved too, so the counts by month of start were kept through updates
