"""Figures per service and month that the writer keeps, so the analytics read a few
hundred rows rather than every incident.

A year's time to resolve per service read 166,000 stage-time rows through the components
join and sorted them per service for the median: 1.3 s at a million incidents. Now:

- ``service_stage_times`` is a table (it was a view): one row per incident and service
  (a component's name, or "(no component)"), with its time to resolve, that time's
  bucket (``HOURS_BUCKET``), the month of its first post, the first post of the service's
  previous incident and, when that is in the same month, the gap between them.
- ``service_months``: per source, service and month of first post, the incidents, their
  first and last first posts, the previous incident before the month's first, the
  shortest and longest gap inside the month, and the count, sum and longest of times to
  resolve.
- ``service_month_hours``: per month, how many times to resolve fall in each bucket;
  ``service_quarter_hours``, ``service_year_hours`` and ``service_hours``, the same per
  quarter, per year and for all time (a query reads the widest spans inside its bounds:
  the all-time view reads 4,200 rows, not 25,000 of six years).

The writer keeps the months by deltas (``apply_row_changes``): what a row adds is added
when it joins and taken away when it leaves; only what does not add up (a month's
first and last posts, its previous incident, its gaps' extremes) is read again, through
indexes. ``rebuild_service_times`` computes everything afresh: the newest migration that
changes these figures calls it, so it must work on that migration's schema.

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

# The quarter of a time or month ``{at}``, as SQL: named by its first month (2024-04 for
# April to June).
QUARTER_OF = "printf('%s-%02d', substr({at}, 1, 4), (substr({at}, 6, 2) - 1) / 3 * 3 + 1)"

# The histograms wider than a month, each kept by the same deltas, with the column that
# names its span and that span as SQL on a month's name ``{at}`` (none for all time): a
# query reads the widest spans its bounds hold whole.
WIDER_HISTOGRAMS = {
    "service_quarter_hours": ("quarter", QUARTER_OF),
    "service_year_hours": ("year", "substr({at}, 1, 4)"),
    "service_hours": None,
}

def resolve_hours(row: str) -> str:
    """SQL: the time to resolve of a stage-times ``row`` (alias), in hours: from its first
    investigating, identified or monitoring post to its last resolved post."""
    return f"(julianday({row}.resolved_post_at) - julianday({row}.first_response_at)) * 24"


# The dashboard's bands of time to resolve, per incident: (upper bound in hours, label);
# kept per source and month of first post in ``source_month_resolves`` by triggers.
RESOLVE_BANDS = [(0.5, "under 30 min"), (1, "30-60 min"), (2, "1-2 h"), (4, "2-4 h"), (8, "4-8 h"),
                 (24, "8-24 h"), (None, "over a day")]


def resolve_band(hours: str) -> str:
    """SQL: the band number (1 to 7) of ``hours``."""
    return ("case " + " ".join(f"when {hours} < {upper} then {n}" for n, (upper, _) in enumerate(RESOLVE_BANDS, 1)
                               if upper is not None) + f" else {len(RESOLVE_BANDS)} end")


def resolve_band_label(band: str) -> str:
    """SQL: the label of band number ``band``."""
    return f"case {band} " + " ".join(f"when {n} then '{label}'" for n, (_, label) in enumerate(RESOLVE_BANDS, 1)) \
        + " end"


SERVICE_ROW_COLUMNS = ("incident_id, source, service, impact, first_posted_at, month, first_response_at, "
                       "investigating_at, identified_at, monitoring_at, resolved_post_at, postmortem_at, resolve_hours, "
                       "resolve_bucket")

# An incident's rows per service, from the writer's stage times and the incident's components.
SERVICE_ROWS_SELECT = f"""
    select incident_id, source, service, impact, first_posted_at, substr(first_posted_at, 1, 7), first_response_at,
           investigating_at, identified_at, monitoring_at, resolved_post_at, postmortem_at, hours,
           {HOURS_BUCKET.format(hours="hours")}
    from (
        select st.incident_id, st.source, coalesce(c.name, '(no component)') as service, st.impact,
               st.first_posted_at, st.first_response_at, st.investigating_at, st.identified_at,
               st.monitoring_at, st.resolved_post_at, st.postmortem_at,
               {resolve_hours("st")} as hours
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

# What a row adds to its month's kept figures, signed: +1 for a row that joins, -1 for one that leaves.
ROW_FIGURES = ("s.source, s.service, s.month, s.first_posted_at, s.incident_id, s.resolve_hours, s.resolve_bucket, "
               + ", ".join(f"{hours} AS {stage}_hours" for stage, hours in STAGES.items()))
# Sums of signed values: a month's sum is NULL while it has no values to add, as sum() gives.
SIGNED_SUMS = ", ".join(f"sum(sign * ({stage}_hours IS NOT NULL)), sum(sign * {stage}_hours)" for stage in STAGES)
ADDED_SUMS = ", ".join(
    f"{stage}_n = {stage}_n + excluded.{stage}_n, {stage}_hours_sum = CASE WHEN {stage}_n + excluded.{stage}_n > 0 "
    f"THEN coalesce({stage}_hours_sum, 0) + coalesce(excluded.{stage}_hours_sum, 0) END" for stage in STAGES)
# A row's previous incident (``p.previous_at``, set by the statement) and, when that is in
# the row's month, the gap to it.
SET_PREVIOUS = """SET previous_at = p.previous_at,
            inner_gap_days = CASE WHEN p.previous_at >= r.month
                                  THEN julianday(r.first_posted_at) - julianday(p.previous_at) END"""
CHANGED_MONTHS = "(source, service, month) IN (SELECT source, service, month FROM temp.row_changes)"


def refresh_service_times(db, incident_ids: list[str], new: bool = False) -> None:
    """Rewrite these incidents' rows of ``service_stage_times`` from their stage times and
    components, then bring the kept months up to date by what left and what joined.
    ``new``: the incidents were added to the archive in this transaction, so they have no
    rows to leave (a batch of new incidents skips looking for them)."""
    if not incident_ids:
        return
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS row_changes AS SELECT 0 AS sign, {ROW_FIGURES} "
               "FROM service_stage_times s WHERE 0")
    db.execute("DELETE FROM temp.row_changes")
    changes = ("INSERT INTO temp.row_changes SELECT {sign}, " + ROW_FIGURES + " FROM service_stage_times s "
               "WHERE s.incident_id IN ({marks}) AND s.first_posted_at IS NOT NULL")
    for start in range(0, len(incident_ids), 500):
        chunk = incident_ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        if not new:
            db.execute(changes.format(sign=-1, marks=marks), chunk)
            db.execute(f"DELETE FROM service_stage_times WHERE incident_id IN ({marks})", chunk)
        db.execute(f"INSERT OR IGNORE INTO service_stage_times ({SERVICE_ROW_COLUMNS}) "
                   + SERVICE_ROWS_SELECT.format(where=f"where st.incident_id in ({marks})"), chunk)
        db.execute(changes.format(sign=1, marks=marks), chunk)
    apply_row_changes(db)


def apply_row_changes(db) -> None:
    """Bring the kept months up to date with the rows in ``temp.row_changes``.

    Counts, sums and the histogram add the signed rows: a batch of new incidents costs a
    few upserts per month, however many incidents the month already has. What does not
    add up (first and last posts, the previous incident, the gaps' extremes) is read
    again through indexes, for the changed months and each one's next month."""
    # The previous incident of the service, by first post (ties in incident id order), for
    # the changed rows and for the row after each place a row left or took.
    # Materialized: a subquery in FROM is flattened into the UPDATE, which then probed the
    # index again for each of the three times SET_PREVIOUS names p.previous_at.
    db.execute(f"""
        WITH p AS MATERIALIZED (
              SELECT s.rowid AS id, (SELECT p.first_posted_at FROM service_stage_times p
                                     WHERE p.source = s.source AND p.service = s.service
                                       AND (p.first_posted_at, p.incident_id) < (s.first_posted_at, s.incident_id)
                                     ORDER BY p.first_posted_at DESC, p.incident_id DESC LIMIT 1) AS previous_at
              FROM service_stage_times s
              WHERE s.rowid IN (
                  SELECT s.rowid FROM temp.row_changes t JOIN service_stage_times s
                      ON s.source = t.source AND s.service = t.service AND s.incident_id = t.incident_id
                  WHERE t.sign = 1
                  UNION
                  SELECT (SELECT s.rowid FROM service_stage_times s
                          WHERE s.source = t.source AND s.service = t.service
                            AND (s.first_posted_at, s.incident_id) > (t.first_posted_at, t.incident_id)
                          ORDER BY s.first_posted_at, s.incident_id LIMIT 1)
                  FROM temp.row_changes t))
        UPDATE service_stage_times AS r {SET_PREVIOUS} FROM p
        WHERE r.rowid = p.id""")
    db.execute(f"""
        INSERT INTO service_months (source, service, month, incidents, resolved, resolve_hours_sum, resolve_hours_max,
                                    {STAGE_COLUMNS})
        SELECT source, service, month, sum(sign), sum(sign * (resolve_hours IS NOT NULL)), sum(sign * resolve_hours),
               max(CASE WHEN sign = 1 THEN resolve_hours END), {SIGNED_SUMS}
        FROM temp.row_changes WHERE true GROUP BY source, service, month
        ON CONFLICT DO UPDATE SET incidents = incidents + excluded.incidents, resolved = resolved + excluded.resolved,
            resolve_hours_sum = CASE WHEN resolved + excluded.resolved > 0
                                     THEN coalesce(resolve_hours_sum, 0) + coalesce(excluded.resolve_hours_sum, 0) END,
            resolve_hours_max = max(coalesce(resolve_hours_max, excluded.resolve_hours_max),
                                    coalesce(excluded.resolve_hours_max, resolve_hours_max)),
            {ADDED_SUMS}""")
    # Counts fall and maxima go only when a row leaves: with none leaving (a batch of new
    # incidents), the statements that clean up after one have nothing to do.
    leaving = db.execute("SELECT 1 FROM temp.row_changes WHERE sign = -1 LIMIT 1").fetchone() is not None
    if leaving:
        db.execute(f"DELETE FROM service_months WHERE incidents = 0 AND {CHANGED_MONTHS}")
        # A month whose longest time to resolve left is read again.
        db.execute("""
            UPDATE service_months AS m SET resolve_hours_max = (
                SELECT max(s.resolve_hours) FROM service_stage_times s WHERE s.source = m.source
                AND s.service = m.service AND s.first_posted_at >= m.month AND s.first_posted_at < m.month || '~')
            WHERE (source, service, month) IN (SELECT source, service, month FROM temp.row_changes
                                               WHERE sign = -1 AND resolve_hours IS NOT NULL)
              AND EXISTS (SELECT 1 FROM temp.row_changes t WHERE t.sign = -1 AND t.source = m.source
                          AND t.service = m.service AND t.month = m.month AND t.resolve_hours >= m.resolve_hours_max)""")
    db.execute("""
        INSERT INTO service_month_hours (source, service, month, bucket, incidents)
        SELECT source, service, month, resolve_bucket, sum(sign) FROM temp.row_changes
        WHERE resolve_bucket IS NOT NULL GROUP BY source, service, month, resolve_bucket
        ON CONFLICT DO UPDATE SET incidents = incidents + excluded.incidents""")
    if leaving:
        db.execute(f"DELETE FROM service_month_hours WHERE incidents = 0 AND {CHANGED_MONTHS}")
    for table, span in WIDER_HISTOGRAMS.items():
        column, key = (f"{span[0]}, ", f"{span[1].format(at='month')}, ") if span else ("", "")
        db.execute(f"""
            INSERT INTO {table} SELECT source, service, {key}resolve_bucket, sum(sign) FROM temp.row_changes
            WHERE resolve_bucket IS NOT NULL GROUP BY source, service, {key}resolve_bucket
            ON CONFLICT DO UPDATE SET incidents = incidents + excluded.incidents""")
        if leaving:
            db.execute(f"DELETE FROM {table} WHERE incidents = 0 AND (source, service, {column}bucket) IN "
                       f"(SELECT source, service, {key}resolve_bucket FROM temp.row_changes)")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS touched_months "
               "(source TEXT, service TEXT, month TEXT, PRIMARY KEY (source, service, month)) WITHOUT ROWID")
    db.execute("DELETE FROM temp.touched_months")
    db.execute("INSERT OR IGNORE INTO temp.touched_months SELECT source, service, month FROM temp.row_changes")
    db.execute("""
        WITH following AS MATERIALIZED (  -- each next month read once, not again for the WHERE
            SELECT t.source, t.service, (SELECT substr(min(s.first_posted_at), 1, 7) FROM service_stage_times s
                                         WHERE s.source = t.source AND s.service = t.service
                                           AND s.first_posted_at > t.month || '~') AS next
            FROM temp.touched_months t)
        INSERT OR IGNORE INTO temp.touched_months
        SELECT source, service, next FROM following WHERE next IS NOT NULL""")
    # A month's own rows: first_posted_at in [month, month || '~'); inner gaps by month.
    db.execute("""
        UPDATE service_months AS m SET
            first_at = (SELECT min(s.first_posted_at) FROM service_stage_times s WHERE s.source = m.source
                        AND s.service = m.service AND s.first_posted_at >= m.month AND s.first_posted_at < m.month || '~'),
            last_at = (SELECT max(s.first_posted_at) FROM service_stage_times s WHERE s.source = m.source
                       AND s.service = m.service AND s.first_posted_at >= m.month AND s.first_posted_at < m.month || '~'),
            previous_at = (SELECT max(s.first_posted_at) FROM service_stage_times s WHERE s.source = m.source
                           AND s.service = m.service AND s.first_posted_at < m.month),
            gap_min_days = (SELECT min(s.inner_gap_days) FROM service_stage_times s
                            WHERE s.source = m.source AND s.service = m.service AND s.month = m.month),
            gap_max_days = (SELECT max(s.inner_gap_days) FROM service_stage_times s
                            WHERE s.source = m.source AND s.service = m.service AND s.month = m.month)
        WHERE (source, service, month) IN (SELECT source, service, month FROM temp.touched_months)""")


def rebuild_service_times(db) -> None:
    """Every row of ``service_stage_times`` and every kept month, from the stage times."""
    db.execute("DELETE FROM service_stage_times")
    db.execute(f"INSERT OR IGNORE INTO service_stage_times ({SERVICE_ROW_COLUMNS}) "
               + SERVICE_ROWS_SELECT.format(where=""))
    db.execute(f"""
        UPDATE service_stage_times AS r {SET_PREVIOUS}
        FROM (SELECT rowid AS id, lag(first_posted_at) OVER (PARTITION BY source, service
                                                            ORDER BY first_posted_at, incident_id) AS previous_at
              FROM service_stage_times WHERE first_posted_at IS NOT NULL) AS p
        WHERE r.rowid = p.id""")
    db.execute("DELETE FROM service_months")
    db.execute("DELETE FROM service_month_hours")
    for table in existing_wider_histograms(db):
        db.execute(f"DELETE FROM {table}")
    # A month's previous incident is the previous of its first row, the one row whose
    # previous is before the month.
    db.execute(f"""
        INSERT INTO service_months (source, service, month, incidents, first_at, last_at, previous_at,
                                    gap_min_days, gap_max_days, resolved, resolve_hours_sum, resolve_hours_max,
                                    {STAGE_COLUMNS})
        SELECT s.source, s.service, s.month, count(*), min(s.first_posted_at), max(s.first_posted_at),
               max(CASE WHEN s.previous_at < s.month THEN s.previous_at END),
               min(s.inner_gap_days), max(s.inner_gap_days), count(s.resolve_hours), sum(s.resolve_hours),
               max(s.resolve_hours), {STAGE_FIGURES}
        FROM service_stage_times s WHERE s.first_posted_at IS NOT NULL
        GROUP BY s.source, s.service, s.month""")
    db.execute("""
        INSERT INTO service_month_hours (source, service, month, bucket, incidents)
        SELECT source, service, month, resolve_bucket, count(*) FROM service_stage_times
        WHERE resolve_bucket IS NOT NULL AND first_posted_at IS NOT NULL
        GROUP BY source, service, month, resolve_bucket""")
    fill_wider_histograms(db)


def existing_wider_histograms(db) -> list[str]:
    """The wider histograms an archive has: an older migration rebuilds the figures before
    the newer tables exist (the migration that adds one fills it)."""
    return [table for table in WIDER_HISTOGRAMS if db[table].exists()]


def fill_wider_histograms(db) -> None:
    """The quarters', years' and all time's histograms, added up from the months'."""
    for table in existing_wider_histograms(db):
        span = WIDER_HISTOGRAMS[table]
        key = f"{span[1].format(at='month')}, " if span else ""
        db.execute(f"INSERT INTO {table} SELECT source, service, {key}bucket, sum(incidents) FROM service_month_hours "
                   f"GROUP BY source, service, {key}bucket")
