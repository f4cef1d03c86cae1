"""Figures per service and month that the writer keeps, so the analytics read a few
hundred rows rather than every incident.

A year's time to resolve per service read 166,000 stage-time rows through the components
join and sorted them per service for the median: 1.3 s at a million incidents. Now:

- ``service_stage_times`` is a table (it was a view): one row per incident and service
  (a component's name, or "(no component)"), with its time to resolve, that time's
  bucket (``HOURS_BUCKET``) and the first post of the service's previous incident.
- ``service_months``: per source, service and month of first post, the incidents, their
  first and last first posts, the previous incident before the month's first, the
  shortest and longest gap inside the month, and the count and sum of times to resolve.
- ``service_month_hours``: per month, how many times to resolve fall in each bucket.

A query between two dates reads the kept months inside its bounds and the rows of the
two months its bounds cut. Counts, means and gaps add up exactly; for a median it finds
the bucket that holds the wanted rank in the histogram, then the rank's exact value in
that bucket's rows through an index (see ``views.TIME_TO_RESOLVE``).
"""

from __future__ import annotations

# Times to resolve are bucketed by their logarithm: 20 buckets per factor e (5% wide),
# bucket 0 for under a minute. Fine buckets make the rank search read few rows; coarse
# ones make the histogram short.
HOURS_BUCKET = ("case when {hours} is null then null when {hours} * 60 < 1 then 0 "
                "else cast(round(ln({hours} * 60) * 20) as integer) + 1 end")

SERVICE_ROW_COLUMNS = ("incident_id, source, service, impact, first_posted_at, first_response_at, investigating_at, "
                       "identified_at, monitoring_at, resolved_post_at, postmortem_at, resolve_hours, resolve_bucket")

# An incident's rows per service, from the writer's stage times and the incident's components.
SERVICE_ROWS_SELECT = f"""
    select incident_id, source, service, impact, first_posted_at, first_response_at, investigating_at,
           identified_at, monitoring_at, resolved_post_at, postmortem_at, hours,
           {HOURS_BUCKET.format(hours="hours")}
    from (
        select st.incident_id, st.source, coalesce(c.name, '(no component)') as service, st.impact,
               st.first_posted_at, st.first_response_at, st.investigating_at, st.identified_at,
               st.monitoring_at, st.resolved_post_at, st.postmortem_at,
               (julianday(st.resolved_post_at) - julianday(st.first_response_at)) * 24 as hours
        from incident_stage_times st
        left join incident_components ic on ic.incident_id = st.incident_id
        left join components c on c.id = ic.component_id
        {{where}}
    )
"""

# Hours spent in each stage (the stage_durations view): a count and a sum per month.
STAGES = {
    "investigating": "(julianday(s.identified_at) - julianday(s.investigating_at)) * 24",
    "to_monitoring": "(julianday(s.monitoring_at) - julianday(s.identified_at)) * 24",
    "to_resolved": "(julianday(s.resolved_post_at) - julianday(coalesce(s.monitoring_at, s.identified_at, "
                   "s.investigating_at))) * 24",
    "to_postmortem": "(julianday(s.postmortem_at) - julianday(s.resolved_post_at)) * 24",
}
STAGE_COLUMNS = ", ".join(f"{stage}_n, {stage}_hours_sum" for stage in STAGES)
STAGE_FIGURES = ", ".join(f"count({hours}), sum({hours})" for hours in STAGES.values())

# The months of a service whose kept figures a change touched (temp.touched_months).
IN_TOUCHED = "(source, service, month) IN (SELECT source, service, month FROM temp.touched_months)"
ROWS_OF_TOUCHED = """
    temp.touched_months t JOIN service_stage_times s ON s.source = t.source AND s.service = t.service
         AND s.first_posted_at >= t.month AND s.first_posted_at < t.month || '~'
"""


def refresh_service_times(db, incident_ids: list[str]) -> None:
    """Rewrite these incidents' rows of ``service_stage_times`` from their stage times and
    components, then the kept months they left or joined."""
    if not incident_ids:
        return
    places = "SELECT source, service, first_posted_at, incident_id FROM service_stage_times " \
             "WHERE incident_id IN ({marks}) AND first_posted_at IS NOT NULL"
    points = set()  # where these incidents were and are in their services' order
    for start in range(0, len(incident_ids), 500):
        chunk = incident_ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        points.update(db.execute(places.format(marks=marks), chunk).fetchall())
        db.execute(f"DELETE FROM service_stage_times WHERE incident_id IN ({marks})", chunk)
        db.execute(f"INSERT OR IGNORE INTO service_stage_times ({SERVICE_ROW_COLUMNS}) "
                   + SERVICE_ROWS_SELECT.format(where=f"where st.incident_id in ({marks})"), chunk)
        points.update(db.execute(places.format(marks=marks), chunk).fetchall())
    refresh_months(db, {(source, service, at[:7]) for source, service, at, _ in points}, points)


def refresh_months(db, months, points=None) -> None:
    """Recompute the kept figures of these (source, service, month)s, and of each one's
    next month with incidents of the same service (its first incident's previous one may
    have changed).

    ``points``: the (source, service, first post, incident) places a change left or took;
    the rows there and the row after each get their ``previous_at`` again. None: every
    row's ``previous_at`` is already right."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS touched_months "
               "(source TEXT, service TEXT, month TEXT, PRIMARY KEY (source, service, month)) WITHOUT ROWID")
    db.execute("DELETE FROM temp.touched_months")
    db.conn.executemany("INSERT OR IGNORE INTO temp.touched_months VALUES (?, ?, ?)", list(months))
    db.execute("""
        INSERT OR IGNORE INTO temp.touched_months
        SELECT source, service, next FROM (
            SELECT t.source, t.service, (SELECT substr(min(s.first_posted_at), 1, 7) FROM service_stage_times s
                                         WHERE s.source = t.source AND s.service = t.service
                                           AND s.first_posted_at > t.month || '~') AS next
            FROM temp.touched_months t
        ) WHERE next IS NOT NULL""")
    if points is not None:
        db.execute("CREATE TEMP TABLE IF NOT EXISTS touched_points (source TEXT, service TEXT, at TEXT, incident_id TEXT)")
        db.execute("DELETE FROM temp.touched_points")
        db.conn.executemany("INSERT INTO temp.touched_points VALUES (?, ?, ?, ?)", list(points))
        # The previous incident of the service, by first post (ties in incident id order).
        db.execute("""
            UPDATE service_stage_times AS r SET previous_at = (
                SELECT p.first_posted_at FROM service_stage_times p
                WHERE p.source = r.source AND p.service = r.service
                  AND (p.first_posted_at, p.incident_id) < (r.first_posted_at, r.incident_id)
                ORDER BY p.first_posted_at DESC, p.incident_id DESC LIMIT 1)
            WHERE r.rowid IN (
                SELECT s.rowid FROM temp.touched_points t JOIN service_stage_times s
                    ON s.source = t.source AND s.service = t.service AND s.incident_id = t.incident_id
                UNION
                SELECT (SELECT s.rowid FROM service_stage_times s
                        WHERE s.source = t.source AND s.service = t.service
                          AND (s.first_posted_at, s.incident_id) > (t.at, t.incident_id)
                        ORDER BY s.first_posted_at, s.incident_id LIMIT 1)
                FROM temp.touched_points t)""")
    db.execute(f"DELETE FROM service_months WHERE {IN_TOUCHED}")
    db.execute(f"DELETE FROM service_month_hours WHERE {IN_TOUCHED}")
    # Inside a month, a row whose previous incident is in the same month has an inner gap;
    # the month's first row's previous is before the month (or none).
    db.execute(f"""
        INSERT INTO service_months (source, service, month, incidents, first_at, last_at, previous_at,
                                    gap_min_days, gap_max_days, resolved, resolve_hours_sum, {STAGE_COLUMNS})
        SELECT t.source, t.service, t.month, count(*), min(s.first_posted_at), max(s.first_posted_at),
               max(CASE WHEN s.previous_at < t.month THEN s.previous_at END),
               min(CASE WHEN s.previous_at >= t.month THEN julianday(s.first_posted_at) - julianday(s.previous_at) END),
               max(CASE WHEN s.previous_at >= t.month THEN julianday(s.first_posted_at) - julianday(s.previous_at) END),
               count(s.resolve_hours), sum(s.resolve_hours), {STAGE_FIGURES}
        FROM {ROWS_OF_TOUCHED}
        GROUP BY t.source, t.service, t.month""")
    db.execute(f"""
        INSERT INTO service_month_hours (source, service, month, bucket, incidents)
        SELECT t.source, t.service, t.month, s.resolve_bucket, count(*)
        FROM {ROWS_OF_TOUCHED}
        WHERE s.resolve_bucket IS NOT NULL
        GROUP BY t.source, t.service, t.month, s.resolve_bucket""")


def rebuild_service_times(db) -> None:
    """Every row of ``service_stage_times`` and every kept month, from the stage times."""
    db.execute("DELETE FROM service_stage_times")
    db.execute(f"INSERT OR IGNORE INTO service_stage_times ({SERVICE_ROW_COLUMNS}) "
               + SERVICE_ROWS_SELECT.format(where=""))
    db.execute("""
        UPDATE service_stage_times AS r SET previous_at = p.previous_at
        FROM (SELECT rowid AS id, lag(first_posted_at) OVER (PARTITION BY source, service
                                                            ORDER BY first_posted_at, incident_id) AS previous_at
              FROM service_stage_times WHERE first_posted_at IS NOT NULL) AS p
        WHERE r.rowid = p.id""")
    refresh_months(db, db.execute("SELECT DISTINCT source, service, substr(first_posted_at, 1, 7) "
                                  "FROM service_stage_times WHERE first_posted_at IS NOT NULL").fetchall())
