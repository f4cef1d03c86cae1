"""Who said it first, kept per incident: the ``acknowledgement_lag`` view and the
dashboard's two charts of it read what is kept here, not every incident's updates,
attributions and articles (the charts timed out at 3 s at a million incidents).

- ``acknowledgement_lags``: one row per incident with a start that is not removed: its
  stated start, its own first post, its likely upstream's first post, the first article
  about it, the lags in minutes and who spoke first.
- Its parts come from several writers (updates, stated starts, attributions, articles),
  so triggers on each queue the incidents whose row may change in ``lag_changes``,
  whatever writes them; ``refresh_lags`` recomputes the queued rows. The archive applies
  the queue as each write transaction commits (archive/store.py).
- ``source_month_speakers``: per source and month of the stated start, how many spoke
  first, kept by triggers on ``acknowledgement_lags``; months add up, so any bounds read
  whole months from it and the rows of the months a bound cuts.
- ``source_year_lags``: per source and year, how many own lags are known (not negative)
  and their median, computed again for the years a refresh touched.
- ``source_month_lags`` and ``source_quarter_lags``: histograms of own lags per source
  and month, and per quarter, kept by triggers. A median does not add up: in a year a
  bound cuts, the histograms of the quarters and months within the bounds say which
  bucket holds the median (a quarter is one read, not three), and that bucket's rows
  give its value.
- ``rebuild_lags`` computes everything afresh; the newest migration that changes these
  tables calls it, so it must work on that migration's schema.
"""

from __future__ import annotations

from incident_archive.archive.summaries import QUARTER_OF

# Own lags are bucketed by their logarithm, 8 buckets per factor e (13% wide), bucket 0
# for under a minute, none for a negative lag: the order of buckets is the order of lags.
# A median the bounds cut is found in a histogram of buckets, then read in one bucket's
# rows (views.ACKNOWLEDGEMENT_MEDIANS).
LAG_BUCKET = ("case when {minutes} < 0 then null when {minutes} < 1 then 0 "
              "else cast(ln({minutes}) * 8 as integer) + 1 end")
# The periods the lag histograms are kept by: the stated start's month, and its quarter
# (named by its first month, 2024-04 for April to June), as SQL over ``{at}``.
LAG_PERIODS = {"month": "substr({at}, 1, 7)", "quarter": QUARTER_OF}
OWN_LAG = "round((julianday(first_own_post) - julianday(stated_start)) * 1440, 1)"

# One incident's row, for the incidents in temp.lag_ids. A post time is an update's: a
# review that gives only its filing day (Azure's) has none. The provider's own lag needs a
# start known apart from its first post (else it is 0 by construction, not a measurement).
LAG_ROWS = f"""
    with firsts as materialized (
        select i.id, i.source, i.title, coalesce(s.stated_start, i.started_at) as stated_start,
               -- a start known apart from the first post (a window, the page's own start)
               s.stated_start is not null or coalesce(i.started_at_basis, 'page') != 'posted' as start_known,
               case when s.stated_start is not null then 'an update says: ' || s.quote
                    else coalesce(i.started_at_basis, 'page') end as stated_start_basis,
               (select min(u.posted_at) from incident_updates u where u.incident_id = i.id) as first_own_post,
               (select a.candidate_id from attribution_scores a where a.incident_id = i.id
                and a.verdict = 'likely' order by a.score desc limit 1) as upstream_incident_id,
               (select min(ar.published_at) from article_incidents ai join articles ar on ar.id = ai.article_id
                where ai.incident_id = i.id) as first_news_at
        from {{incidents}} left join stated_starts s on s.incident_id = i.id
        where i.started_at is not null and i.removed_at is null
    ), timed as materialized (  -- each part read once per incident, not once per use
        select f.*, (select min(u.posted_at) from incident_updates u
                     where u.incident_id = f.upstream_incident_id) as first_upstream_post
        from firsts f
    )
    select id as incident_id, source, strftime('%Y', stated_start) as year, title, stated_start,
           stated_start_basis, first_own_post, upstream_incident_id, first_upstream_post, first_news_at,
           case when start_known then {OWN_LAG} end as own_lag_minutes,
           round((julianday(first_upstream_post) - julianday(stated_start)) * 1440, 1) as upstream_lag_minutes,
           round((julianday(first_news_at) - julianday(stated_start)) * 1440, 1) as news_lag_minutes,
           case
               when first_news_at is not null and first_news_at < first_own_post
                    and (first_upstream_post is null or first_news_at < first_upstream_post) then 'news'
               when first_upstream_post is not null and first_upstream_post < first_own_post then 'upstream'
               else 'provider'
           end as first_to_speak,
           case when start_known then {LAG_BUCKET.format(minutes=OWN_LAG)} end as lag_bucket
    from timed
"""

# The lag at a place (from 0) in its year's bucket, in order.
AT_PLACE = """
    select own_lag_minutes from acknowledgement_lags indexed by acknowledgement_lags_by_bucket
    where source = ? and year = ? and lag_bucket = ? order by own_lag_minutes limit 1 offset ?"""


def refresh_lags(db) -> None:
    """Recompute the rows of the queued incidents, and the medians of the years they were
    and are in. An incident whose first post moved is some incidents' likely upstream:
    theirs are computed again too."""
    if not db.execute("SELECT 1 FROM lag_changes LIMIT 1").fetchone():
        return
    db.execute("INSERT OR IGNORE INTO lag_changes SELECT a.incident_id FROM lag_changes c "
               "CROSS JOIN attribution_scores a ON a.candidate_id = c.incident_id WHERE a.verdict = 'likely'")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS lag_ids (incident_id TEXT PRIMARY KEY)")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS lag_years (source TEXT, year TEXT, PRIMARY KEY (source, year))")
    db.execute("DELETE FROM temp.lag_ids")
    db.execute("DELETE FROM temp.lag_years")
    db.execute("INSERT INTO temp.lag_ids SELECT incident_id FROM lag_changes")
    db.execute("DELETE FROM lag_changes")
    touched_years = ("INSERT OR IGNORE INTO temp.lag_years SELECT l.source, l.year FROM temp.lag_ids c "
                     "CROSS JOIN acknowledgement_lags l ON l.incident_id = c.incident_id WHERE l.year IS NOT NULL")
    db.execute(touched_years)
    db.execute("DELETE FROM acknowledgement_lags WHERE incident_id IN (SELECT incident_id FROM temp.lag_ids)")
    db.execute("INSERT INTO acknowledgement_lags "
               + LAG_ROWS.format(incidents="temp.lag_ids c CROSS JOIN incidents i ON i.id = c.incident_id"))
    db.execute(touched_years)
    _year_medians(db, "SELECT source, year FROM temp.lag_years")


def _year_medians(db, years: str) -> None:
    """``source_year_lags`` for the (source, year) pairs ``years`` selects. The year's
    quarter histograms give the count and the bucket of each middle rank; the rank's
    value is read at its place in that bucket's rows (not half of the year's rows)."""
    for source, year in db.execute(years).fetchall():
        counts = db.execute("SELECT bucket, sum(lags) FROM source_quarter_lags WHERE source = ? AND quarter >= ? "
                            "AND quarter <= ? GROUP BY bucket HAVING sum(lags) > 0 ORDER BY bucket",
                            [source, f"{year}-01", f"{year}-12"]).fetchall()
        n = sum(lags for _, lags in counts)
        if not n:
            db.execute("DELETE FROM source_year_lags WHERE source = ? AND year = ?", [source, year])
            continue
        middle = []
        before = 0
        for bucket, lags in counts:
            for rank in sorted({(n + 1) // 2, (n + 2) // 2}):
                if before < rank <= before + lags:
                    middle += [row[0] for row in db.execute(AT_PLACE, [source, year, bucket, rank - before - 1])]
            before += lags
        median = sum(middle) / len(middle) if len(middle) == 2 else middle[0]
        db.execute("INSERT INTO source_year_lags (source, year, lagged, median_minutes) VALUES (?, ?, ?, ?) "
                   "ON CONFLICT DO UPDATE SET lagged = excluded.lagged, median_minutes = excluded.median_minutes",
                   [source, year, n, median])


def rebuild_lags(db) -> None:
    """Every row, count and median afresh (an archive made before them)."""
    db.execute("DELETE FROM lag_changes")
    db.execute("DELETE FROM acknowledgement_lags")
    db.execute("DELETE FROM source_month_speakers")
    for period in LAG_PERIODS:
        db.execute(f"DELETE FROM source_{period}_lags")
    db.execute("DELETE FROM source_year_lags")
    db.execute("INSERT INTO acknowledgement_lags " + LAG_ROWS.format(incidents="incidents i"))
    _year_medians(db, "SELECT DISTINCT source, year FROM acknowledgement_lags WHERE year IS NOT NULL")
