"""The archive's schema, in one place, as named migrations (sqlite-utils' ``Migrations``).

Each migration is a function registered in order; its name is its identity, recorded in
``_sqlite_migrations`` in the transaction that applies it, so opening an archive written
by an older version of this project upgrades it in place. A released migration is never
edited: a new need is a new function. Views are not migrated: ``archive.views`` rebuilds
them whenever an archive is opened, so the SQL of each lives in one place.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

from incident_archive.archive.lags import LAG_PERIODS, rebuild_lags
from incident_archive.archive.overlaps import rebuild_overlaps, window_end
from incident_archive.archive.summaries import fill_wider_histograms, rebuild_service_times, resolve_band, resolve_hours

MIGRATIONS = Migrations("incident_archive")


@MIGRATIONS(name="initial")
def _initial(db: sqlite_utils.Database) -> None:
    db["sources"].create(
        {
            "id": str,
            "kind": str,
            "name": str,
            "url": str,
            "status_indicator": str,
            "status_description": str,
            "backfilled_at": str,
        },
        pk="id",
    )
    db["components"].create(
        {
            "id": str,
            "source": str,
            "native_id": str,
            "name": str,
            "group_name": str,
            "description": str,
            "status": str,
            "position": int,
        },
        pk="id",
        foreign_keys=[("source", "sources", "id")],
    )
    db["incidents"].create(
        {
            "id": str,
            "source": str,
            "native_id": str,
            "title": str,
            "impact": str,
            "impact_raw": str,
            "status": str,
            "started_at": str,
            "started_at_basis": str,
            "resolved_at": str,
            "duration_s": int,
            "created_at": str,
            "updated_at": str,
            "url": str,
            "first_seen_at": str,
            "last_seen_at": str,
            "content_hash": str,
        },
        pk="id",
        foreign_keys=[("source", "sources", "id")],
    )
    db["incident_updates"].create(
        {
            "id": str,
            "incident_id": str,
            "native_id": str,
            "status": str,
            "body": str,
            "posted_at": str,
            "first_seen_at": str,
        },
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db["incident_components"].create(
        {"incident_id": str, "component_id": str},
        pk=("incident_id", "component_id"),
        foreign_keys=[("incident_id", "incidents", "id"), ("component_id", "components", "id")],
    )
    db["crawl_runs"].create(
        {
            "id": int,
            "crawl_id": str,
            "source": str,
            "kind": str,
            "started_at": str,
            "finished_at": str,
            "outcome": str,
            "error": str,
            "incidents_new": int,
            "incidents_updated": int,
            "incidents_unchanged": int,
            "updates_new": int,
            "items_skipped": int,
            "requests": int,
            "responses_not_modified": int,
        },
        pk="id",
    )
    db["incidents"].create_index(["source", "started_at"])
    db["incidents"].create_index(["started_at"])
    db["incident_updates"].create_index(["incident_id", "posted_at"])
    db["incident_components"].create_index(["component_id"])
    db["components"].create_index(["source"])
    db["crawl_runs"].create_index(["source", "started_at"])
    db["incidents"].enable_fts(["title"], create_triggers=True)
    db["incident_updates"].enable_fts(["body"], create_triggers=True)


@MIGRATIONS(name="impacts_regions_aliases")
def _impacts_regions_aliases(db: sqlite_utils.Database) -> None:
    """Per-component impact windows (incident.io), affected regions (clouds), the other
    ids an incident is known by (a page that moved platform), and crawl notes."""
    db["component_impacts"].create(
        {
            "id": str,
            "incident_id": str,
            "component_id": str,
            "status": str,
            "start_at": str,
            "end_at": str,
            "duration_s": int,
        },
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id"), ("component_id", "components", "id")],
    )
    db["component_impacts"].create_index(["component_id", "start_at"])
    db["component_impacts"].create_index(["incident_id"])
    db["incident_regions"].create(
        {"incident_id": str, "region": str, "region_name": str},
        pk=("incident_id", "region"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db["incident_regions"].create_index(["region"])
    db["incident_aliases"].create(
        {"alias_id": str, "incident_id": str, "reason": str, "linked_at": str, "content_hash": str},
        pk="alias_id",
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db["incident_aliases"].create_index(["incident_id"])
    db["crawl_runs"].add_column("notes", str)


@MIGRATIONS(name="news")
def _news(db: sqlite_utils.Database) -> None:
    """News articles about outages, the feeds that carried them, their links to incidents;
    and which provider depends on which (from the sources file)."""
    db["articles"].create(
        {
            "id": str,
            "canonical_url": str,
            "url": str,
            "title": str,
            "normalized_title": str,
            "published_at": str,
            "author": str,
            "outlet": str,
            "summary": str,
            "body": str,
            "extraction": str,
            "extraction_note": str,
            "first_seen_at": str,
            "content_hash": str,
        },
        pk="id",
    )
    db["articles"].create_index(["canonical_url"], unique=True)
    db["articles"].create_index(["normalized_title"])
    db["articles"].create_index(["published_at"])
    db["article_feeds"].create(
        {"article_id": str, "source": str, "entry_url": str, "first_seen_at": str},
        pk=("article_id", "source"),
        foreign_keys=[("article_id", "articles", "id"), ("source", "sources", "id")],
    )
    db["article_incidents"].create(
        {"article_id": str, "incident_id": str, "score": float, "reason": str, "linked_at": str},
        pk=("article_id", "incident_id"),
        foreign_keys=[("article_id", "articles", "id"), ("incident_id", "incidents", "id")],
    )
    db["article_incidents"].create_index(["incident_id"])
    db["articles"].enable_fts(["title", "summary", "body"], create_triggers=True)
    db["sources"].add_column("depends_on", str)
    db["sources"].add_column("aliases", str)
    for column in ("articles_new", "articles_updated", "articles_unchanged"):
        db["crawl_runs"].add_column(column, int)




@MIGRATIONS(name="analytics")
def _analytics(db: sqlite_utils.Database) -> None:
    """Daily outage minutes per service (uptime bars), and the analytics views."""
    db["daily_outages"].create(
        {
            "id": str,
            "source": str,
            "service": str,
            "day": str,
            "partial_outage_minutes": int,
            "major_outage_minutes": int,
            "incident_links": str,
        },
        pk="id",
        foreign_keys=[("source", "sources", "id")],
    )
    db["daily_outages"].create_index(["source", "service", "day"])


@MIGRATIONS(name="overview")
def _overview(db: sqlite_utils.Database) -> None:
    """A browsing view of incidents with their year and components, for facets."""
    # It made views, which are now built whenever an archive is opened (archive/views.py).


@MIGRATIONS(name="service_outage_views")
def _service_outage_views(db: sqlite_utils.Database) -> None:
    """Outage days per service, and how often two services were down on the same day."""
    # It made views, which are now built whenever an archive is opened (archive/views.py).


@MIGRATIONS(name="time_to_resolve_from_first_response")
def _time_to_resolve_from_first_response(db: sqlite_utils.Database) -> None:
    """Time to resolve counts from the first investigating/identified/monitoring post.

    Counting from the first post of any kind gave incidents first posted already
    resolved a time to resolve of zero, which pulled every mean down.
    """
    # It made views, which are now built whenever an archive is opened (archive/views.py).


@MIGRATIONS(name="title_index")
def _title_index(db: sqlite_utils.Database) -> None:
    """Finding another platform's copy of an incident looks up its title in its source."""
    db.execute("CREATE INDEX IF NOT EXISTS incidents_source_title ON incidents(source, lower(trim(title)))")


@MIGRATIONS(name="text_indexed_by_the_writer")
def _text_indexed_by_the_writer(db: sqlite_utils.Database) -> None:
    """The archive writer adds new incidents and updates to the full-text indexes once
    per batch (IncidentWriter.index_new_text); per-row insert triggers cost half of a
    first crawl's write time. The update triggers stay."""
    for table in ("incidents", "incident_updates"):
        db.execute(f"DROP TRIGGER IF EXISTS [{table}_ai]")


# The stage times as the stage-times migration computed them (frozen here: the writer's
# own query lives in archive/views.py and may change).
STAGE_TIMES_OF_MIGRATION = """
    select u.incident_id, i.source,
           min(u.posted_at) as first_posted_at,
           min(case when u.status in ('investigating', 'identified', 'monitoring') then u.posted_at end)
               as first_response_at,
           min(case when u.status = 'investigating' then u.posted_at end) as investigating_at,
           min(case when u.status = 'identified' then u.posted_at end) as identified_at,
           min(case when u.status = 'monitoring' then u.posted_at end) as monitoring_at,
           max(case when u.status = 'resolved' then u.posted_at end) as resolved_post_at,
           min(case when u.status = 'postmortem' then u.posted_at end) as postmortem_at,
           i.impact
    from incident_updates u join incidents i on i.id = u.incident_id
"""


@MIGRATIONS(name="stage_times_table")
def _stage_times_table(db: sqlite_utils.Database) -> None:
    """Each incident's stage times as a table the writer keeps (was computed by a view
    from every update on every query), and indexes for the pages people open most:
    facets by impact and status, updates newest first."""
    db["incident_stage_times"].create(
        {"incident_id": str, "source": str, "first_posted_at": str, "first_response_at": str,
         "investigating_at": str, "identified_at": str, "monitoring_at": str, "resolved_post_at": str,
         "postmortem_at": str},
        pk="incident_id",
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    columns = ", ".join(db["incident_stage_times"].columns_dict)  # as this migration made them
    db.execute(f"INSERT INTO incident_stage_times SELECT {columns} FROM ({STAGE_TIMES_OF_MIGRATION} GROUP BY u.incident_id)")
    db["incident_stage_times"].create_index(["first_posted_at"])
    db["incident_stage_times"].create_index(["source", "first_posted_at"])
    db["incidents"].create_index(["impact"], if_not_exists=True)
    db["incidents"].create_index(["status"], if_not_exists=True)
    db["incident_updates"].create_index(["status"], if_not_exists=True)
    db["incident_updates"].create_index(["posted_at"], if_not_exists=True)


@MIGRATIONS(name="interval_indexes")
def _interval_indexes(db: sqlite_utils.Database) -> None:
    """"What was down at a moment" reads incidents by end and by the longest duration."""
    db["incidents"].create_index(["resolved_at"], if_not_exists=True)
    db["incidents"].create_index(["duration_s"], if_not_exists=True)


@MIGRATIONS(name="title_and_start_index")
def _title_and_start_index(db: sqlite_utils.Database) -> None:
    """A copy under another id is looked for among same-titled incidents that started
    within hours: titles recur thousands of times, so the start is in the index too."""
    db.execute("DROP INDEX IF EXISTS incidents_source_title")
    db.execute("CREATE INDEX incidents_source_title_started ON incidents(source, lower(trim(title)), started_at)")


@MIGRATIONS(name="impact_in_stage_times")
def _impact_in_stage_times(db: sqlite_utils.Database) -> None:
    """Counting a year's incidents by impact read each incident's row for its impact: the
    stage times carry it, in a covering index that replaces the (source, first_posted_at) one."""
    if "impact" not in db["incident_stage_times"].columns_dict:
        db["incident_stage_times"].add_column("impact", str)
    db.execute("UPDATE incident_stage_times SET impact = (SELECT impact FROM incidents WHERE id = incident_id)")
    db.execute("DROP INDEX IF EXISTS idx_incident_stage_times_source_first_posted_at")
    db["incident_stage_times"].create_index(["source", "first_posted_at", "impact"])


@MIGRATIONS(name="service_stage_times")
def _service_stage_times(db: sqlite_utils.Database) -> None:
    """Stage times per service as a view on the writer's table alone; the per-service
    analytics read it instead of joining every incident twice."""
    # It made views, which are now built whenever an archive is opened (archive/views.py).


VERSIONED_INCIDENT_FIELDS = ("title", "impact", "impact_raw", "status", "started_at", "started_at_basis",
                             "resolved_at", "created_at", "updated_at", "url", "components", "removed")
VERSIONED_UPDATE_FIELDS = ("status", "body", "posted_at")


@MIGRATIONS(name="walks_versions_removals")
def _walks_versions_removals(db: sqlite_utils.Database) -> None:
    """Completeness: where each source's history walk stands (so an unfinished walk
    resumes), every version of an incident and an update the archive observed (the
    current tables hold the latest), incidents a page stopped listing, the problems a
    crawl found in what a page said, declared platform migrations, and the digests of
    bodies already taken in from pages that send no validators.

    ``backfilled_at`` set before this migration may be wrong (a quiet quarter was taken
    for the end of history): it is cleared, so the next crawl walks each history again
    and fetches what the old walk missed.
    """
    db["source_walks"].create(
        {"source": str, "walk": str, "covered_until": str, "open_top": str, "resume_at": str, "reached_end": int,
         "stopped": str, "pages": int, "run_id": int, "updated_at": str},
        pk="source",
        foreign_keys=[("source", "sources", "id")],
    )
    db.execute("UPDATE sources SET backfilled_at = NULL")
    db["response_digests"].create(
        {"source": str, "url": str, "digest": str, "seen_at": str},
        pk=("source", "url"),
        foreign_keys=[("source", "sources", "id")],
    )
    db["sources"].add_column("migrated_from", str)
    db["sources"].add_column("migrated_on", str)
    db["incidents"].add_column("removed_at", str)
    db["crawl_runs"].add_column("problems", str)
    db["crawl_runs"].add_column("incidents_removed", int)
    db["incident_versions"].create(
        {"id": int, "incident_id": str, "version": int, "run_id": int, "observed_at": str,
         **{field: (int if field == "removed" else str) for field in VERSIONED_INCIDENT_FIELDS}, "changed": str},
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db["incident_versions"].create_index(["incident_id", "version"], unique=True)
    db["incident_versions"].create_index(["observed_at"])
    db["update_versions"].create(
        {"id": int, "update_id": str, "incident_id": str, "version": int, "run_id": int, "observed_at": str,
         **{field: str for field in VERSIONED_UPDATE_FIELDS}, "changed": str},
        pk="id",
        foreign_keys=[("update_id", "incident_updates", "id")],
    )
    db["update_versions"].create_index(["update_id", "version"], unique=True)
    db["update_versions"].create_index(["incident_id"])
    # What the archive holds now is the first version it can vouch for.
    db.execute(
        "INSERT INTO incident_versions (incident_id, version, observed_at, title, impact, impact_raw, status, "
        "started_at, started_at_basis, resolved_at, created_at, updated_at, url, components, removed) "
        "SELECT i.id, 1, i.first_seen_at, title, impact, impact_raw, status, started_at, started_at_basis, "
        "resolved_at, created_at, updated_at, url, (SELECT json_group_array(c.native_id) FROM "
        "(SELECT c.native_id FROM incident_components ic JOIN components c ON c.id = ic.component_id "
        "WHERE ic.incident_id = i.id ORDER BY c.native_id) c), 0 FROM incidents i")
    db.execute(
        "INSERT INTO update_versions (update_id, incident_id, version, observed_at, status, body, posted_at) "
        "SELECT id, incident_id, 1, first_seen_at, status, body, posted_at FROM incident_updates")


@MIGRATIONS(name="source_intervals")
def _source_intervals(db: sqlite_utils.Database) -> None:
    """How often the watch service polls each source (the sources file's ``every``)."""
    db["sources"].add_column("every_s", int)


@MIGRATIONS(name="alerts_sent")
def _alerts_sent(db: sqlite_utils.Database) -> None:
    """What the watch service sent to whom, so a restart never sends it twice."""
    db["alerts_sent"].create(
        {"target": str, "incident_id": str, "status": str, "sent_at": str},
        pk=("target", "incident_id", "status"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )


@MIGRATIONS(name="attribution")
def _attribution(db: sqlite_utils.Database) -> None:
    """Where each source runs on its upstreams (``runs_in``), the scored upstream candidates
    of each dependent incident, and starts stated later in prose."""
    db["sources"].add_column("runs_in", str)
    db["attribution_scores"].create(
        {"incident_id": str, "candidate_id": str, "score": float, "verdict": str, "time_score": float,
         "words_score": float, "shared_score": float, "place_score": float, "news_score": float, "chance": float,
         "evidence": str, "scored_at": str},
        pk=("incident_id", "candidate_id"),
        foreign_keys=[("incident_id", "incidents", "id"), ("candidate_id", "incidents", "id")],
    )
    db["attribution_scores"].create_index(["candidate_id"])
    db["update_versions"].create_index(["observed_at"])  # what a crawl wrote, to score again
    db["stated_starts"].create(
        {"incident_id": str, "stated_start": str, "quote": str, "found_at": str},
        pk="incident_id", foreign_keys=[("incident_id", "incidents", "id")],
    )


# The facets whose counts the archive keeps, per table: each facet's name, the column it
# reads, and its value's SQL over ``{row}`` (new, old, or the table). What the pages'
# default facets show, read without a GROUP BY over every row (archive/facets.py).
COUNTED_FACETS = {
    "incidents": {"source": ("source", "{row}.source"), "impact": ("impact", "{row}.impact"),
                  "status": ("status", "{row}.status"), "year": ("started_at", "substr({row}.started_at, 1, 4)")},
    "incident_updates": {"status": ("status", "{row}.status")},
}


def facet_count_triggers(table: str) -> list[str]:
    """Triggers that keep ``facet_counts`` for ``table`` whatever writes to it."""
    columns = COUNTED_FACETS[table]

    def values(row: str) -> str:
        return " UNION ALL ".join(f"SELECT '{name}' AS column_name, {sql.format(row=row)} AS value"
                                  for name, (_, sql) in columns.items())

    def change(row: str, step: str) -> str:
        return (f"INSERT INTO facet_counts (table_name, column_name, value, count) "
                f"SELECT '{table}', column_name, value, {step} FROM ({values(row)}) WHERE value IS NOT NULL "
                f"ON CONFLICT DO UPDATE SET count = count + excluded.count;")

    watched = ", ".join(sorted({column for column, _ in columns.values()}))
    changed = " OR ".join(f"{sql.format(row='old')} IS NOT {sql.format(row='new')}" for _, sql in columns.values())
    return [
        f"CREATE TRIGGER [{table}_facet_counts_insert] AFTER INSERT ON [{table}] BEGIN {change('new', '1')} END",
        f"CREATE TRIGGER [{table}_facet_counts_delete] AFTER DELETE ON [{table}] BEGIN {change('old', '-1')} END",
        f"CREATE TRIGGER [{table}_facet_counts_update] AFTER UPDATE OF {watched} ON [{table}] WHEN {changed} "
        f"BEGIN {change('old', '-1')} {change('new', '1')} END",
    ]


@MIGRATIONS(name="facet_counts")
def _facet_counts(db: sqlite_utils.Database) -> None:
    """Counts per value of the columns the pages facet by, kept by triggers: a facet of a
    million incidents was a GROUP BY over all of them on every page view."""
    db.execute("CREATE TABLE facet_counts (table_name TEXT NOT NULL, column_name TEXT NOT NULL, value TEXT NOT NULL, "
               "count INTEGER NOT NULL, PRIMARY KEY (table_name, column_name, value)) WITHOUT ROWID")
    for table, columns in COUNTED_FACETS.items():
        for name, (_, sql) in columns.items():
            value = sql.format(row=f"[{table}]")
            db.execute(f"INSERT INTO facet_counts SELECT '{table}', '{name}', {value}, count(*) FROM [{table}] "
                       f"WHERE {value} IS NOT NULL GROUP BY {value}")
        for trigger in facet_count_triggers(table):
            db.execute(trigger)


def counting_triggers(counts: str, table: str, columns: list[str], change) -> list[str]:
    """Triggers keeping ``counts`` for ``table``: ``change(row, step)`` is the statement
    adding a row's part (step 1) or taking it away (-1); an update of ``columns`` does both."""
    changed = " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
    return [
        f"CREATE TRIGGER {counts}_insert AFTER INSERT ON {table} BEGIN {change('new', '1')} END",
        f"CREATE TRIGGER {counts}_delete AFTER DELETE ON {table} BEGIN {change('old', '-1')} END",
        f"CREATE TRIGGER {counts}_update AFTER UPDATE OF {', '.join(columns)} ON {table} "
        f"WHEN {changed} BEGIN {change('old', '-1')} {change('new', '1')} END",
    ]


def add_to_counts(counts: str, keys: dict[str, str], added: dict[str, str], where: str) -> str:
    """The statement adding ``added`` (column: SQL) to the row of ``counts`` at ``keys``
    (column: SQL), made when missing, when ``where`` holds."""
    columns = [*keys, *added]
    return (f"INSERT INTO {counts} ({', '.join(columns)}) SELECT {', '.join([*keys.values(), *added.values()])} "
            f"WHERE {where} ON CONFLICT DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in added) + ";")


def month_count_triggers(counts: str, table: str, time_column: str) -> list[str]:
    """Triggers that keep ``counts`` (source, month, impact, incidents) for ``table``'s
    rows by the month of ``time_column``, whatever writes them."""
    def change(row: str, step: str) -> str:
        return add_to_counts(counts, {"source": f"{row}.source", "month": f"substr({row}.{time_column}, 1, 7)",
                                      "impact": f"coalesce({row}.impact, '')"}, {"incidents": step},
                             f"{row}.{time_column} IS NOT NULL")

    return counting_triggers(counts, table, ["source", time_column, "impact"], change)


def create_month_counts(db: sqlite_utils.Database, counts: str, table: str, time_column: str) -> None:
    """A table of incidents per source, month and impact ('' for none), filled and kept."""
    db.execute(f"CREATE TABLE {counts} (source TEXT NOT NULL, month TEXT NOT NULL, impact TEXT NOT NULL, "
               f"incidents INTEGER NOT NULL, PRIMARY KEY (source, month, impact)) WITHOUT ROWID")
    db.execute(f"INSERT INTO {counts} SELECT source, substr({time_column}, 1, 7), coalesce(impact, ''), count(*) "
               f"FROM {table} WHERE {time_column} IS NOT NULL GROUP BY 1, 2, 3")
    for trigger in month_count_triggers(counts, table, time_column):
        db.execute(trigger)


def create_histogram(db: sqlite_utils.Database, period: str) -> None:
    """``service_{period}_hours``: times to resolve per service, period and bucket, with an
    index covering what a dated query reads of a period."""
    db.execute(f"""CREATE TABLE service_{period}_hours (
        source TEXT NOT NULL, service TEXT NOT NULL, {period} TEXT NOT NULL, bucket INTEGER NOT NULL,
        incidents INTEGER NOT NULL,
        PRIMARY KEY (source, service, {period}, bucket)) WITHOUT ROWID""")
    db.execute(f"CREATE INDEX service_{period}_hours_by_{period} ON service_{period}_hours ({period}, source, service, "
               "bucket, incidents)")


@MIGRATIONS(name="service_summaries")
def _service_summaries(db: sqlite_utils.Database) -> None:
    """Figures per service and month, kept by the writer (archive/summaries.py), and
    incidents per source, month and impact, by first post and by start, kept by
    triggers: a year's analytics at a million incidents read 166,000 rows and sorted
    them, 1 to 1.3 s a page; incidents per month grouped a million rows (over 3 s).
    The per-service tables are filled by the next migration, on their final columns."""
    db.execute("DROP VIEW IF EXISTS service_stage_times")
    db.execute("""CREATE TABLE service_stage_times (
        incident_id TEXT NOT NULL REFERENCES incidents(id), source TEXT NOT NULL, service TEXT NOT NULL,
        impact TEXT, first_posted_at TEXT, first_response_at TEXT, investigating_at TEXT, identified_at TEXT,
        monitoring_at TEXT, resolved_post_at TEXT, postmortem_at TEXT,
        resolve_hours REAL, resolve_bucket INTEGER, previous_at TEXT,
        PRIMARY KEY (incident_id, service))""")
    db.execute("CREATE INDEX service_stage_times_by_time ON service_stage_times (source, service, first_posted_at, "
               "incident_id)")
    db.execute("CREATE INDEX service_stage_times_by_bucket ON service_stage_times (source, service, resolve_bucket, "
               "first_posted_at, resolve_hours)")
    db.execute("CREATE INDEX service_stage_times_first_posted ON service_stage_times (first_posted_at)")
    db.execute("""CREATE TABLE service_months (
        source TEXT NOT NULL, service TEXT NOT NULL, month TEXT NOT NULL, incidents INTEGER NOT NULL,
        first_at TEXT, last_at TEXT, previous_at TEXT, gap_min_days REAL, gap_max_days REAL,
        resolved INTEGER NOT NULL, resolve_hours_sum REAL,
        investigating_n INTEGER, investigating_hours_sum REAL, to_monitoring_n INTEGER, to_monitoring_hours_sum REAL,
        to_resolved_n INTEGER, to_resolved_hours_sum REAL, to_postmortem_n INTEGER, to_postmortem_hours_sum REAL,
        PRIMARY KEY (source, service, month)) WITHOUT ROWID""")
    # Covering what a dated query reads of a month, so a year's rows need no look-ups.
    db.execute("CREATE INDEX service_months_by_month ON service_months (month, source, service, resolved, "
               "resolve_hours_sum)")
    create_histogram(db, "month")
    create_month_counts(db, "source_month_impacts", "incident_stage_times", "first_posted_at")
    create_month_counts(db, "source_month_starts", "incidents", "started_at")


@MIGRATIONS(name="service_months_by_deltas")
def _service_months_by_deltas(db: sqlite_utils.Database) -> None:
    """Each service row's month and its gap inside the month, so the writer can add what
    a row changes to its month rather than read the month again: the months of a batch
    of a million-incident archive were about 40,000 rows read per 500 incidents, and
    ingest fell from 76% to 33% of a bare insert. And a histogram per year (a year's
    time to resolve added up 12 months of buckets), and each month's longest time to
    resolve (the dashboard's). The kept figures are filled here."""
    db.execute("ALTER TABLE service_stage_times ADD COLUMN month TEXT")
    db.execute("ALTER TABLE service_stage_times ADD COLUMN inner_gap_days REAL")
    db.execute("CREATE INDEX service_stage_times_inner_gaps ON service_stage_times (source, service, month, "
               "inner_gap_days)")
    create_histogram(db, "year")
    db.execute("ALTER TABLE service_months ADD COLUMN resolve_hours_max REAL")
    db.execute("DROP INDEX service_months_by_month")
    db.execute("CREATE INDEX service_months_by_month ON service_months (month, source, service, resolved, "
               "resolve_hours_sum, resolve_hours_max)")
    rebuild_service_times(db)


def window_change_triggers() -> list[str]:
    """Triggers that queue each incident whose window (start, resolution) changes, with
    the window it had, whatever writes it (archive/overlaps.py applies the queue)."""
    def queue(row: str) -> str:
        return (f"INSERT OR IGNORE INTO window_changes (incident_id, source, old_start, old_end) "
                f"SELECT {row}.id, {row}.source, {row}.started_at, "
                f"CASE WHEN {row}.started_at IS NOT NULL THEN {window_end(row)} END;")
    return [
        "CREATE TRIGGER window_changes_insert AFTER INSERT ON incidents WHEN new.started_at IS NOT NULL BEGIN "
        "INSERT OR IGNORE INTO window_changes (incident_id, source) VALUES (new.id, new.source); END",
        "CREATE TRIGGER window_changes_update AFTER UPDATE OF started_at, resolved_at ON incidents "
        f"WHEN old.started_at IS NOT new.started_at OR old.resolved_at IS NOT new.resolved_at BEGIN {queue('old')} END",
        f"CREATE TRIGGER window_changes_delete AFTER DELETE ON incidents BEGIN {queue('old')} END",
    ]


@MIGRATIONS(name="source_overlaps")
def _source_overlaps(db: sqlite_utils.Database) -> None:
    """Per source and other source, the incidents that overlapped one of the other's,
    kept by the writer: provider_cooccurrence probed every incident against every other
    source, over 3 s at a million incidents (archive/overlaps.py)."""
    db.execute("CREATE TABLE window_changes (incident_id TEXT PRIMARY KEY, source TEXT NOT NULL, old_start TEXT, "
               "old_end TEXT)")
    db.execute("CREATE TABLE source_islands (source TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT NOT NULL, "
               "incidents INTEGER NOT NULL, length_class INTEGER NOT NULL)")
    db.execute("CREATE INDEX source_islands_by_source ON source_islands (source, started_at, ended_at)")
    db.execute("CREATE INDEX source_islands_by_length ON source_islands (length_class, started_at, ended_at, source)")
    db.execute("CREATE TABLE source_overlaps (source TEXT NOT NULL, other_source TEXT NOT NULL, "
               "incidents INTEGER NOT NULL, PRIMARY KEY (source, other_source)) WITHOUT ROWID")
    for trigger in window_change_triggers():
        db.execute(trigger)
    # Filled by overlaps_along_relations, the newest migration of these tables.


def resolve_band_triggers() -> list[str]:
    """Triggers that keep ``source_month_resolves`` (source, month of first post, band of
    time to resolve: incidents and their hours) for the stage times, whatever writes them."""
    def change(row: str, step: str) -> str:
        hours = resolve_hours(row)
        return add_to_counts("source_month_resolves", {
            "source": f"{row}.source", "month": f"substr({row}.first_posted_at, 1, 7)", "band": resolve_band(hours)},
            {"incidents": step, "hours_sum": f"{step} * {hours}"},
            f"{row}.first_posted_at IS NOT NULL AND {hours} IS NOT NULL")

    return counting_triggers("source_month_resolves", "incident_stage_times",
                             ["source", "first_posted_at", "first_response_at", "resolved_post_at"], change)


@MIGRATIONS(name="source_month_resolves")
def _source_month_resolves(db: sqlite_utils.Database) -> None:
    """Times to resolve per source, month and the dashboard's band, kept by triggers: its
    charts of time to resolve read every incident's stage times (1 to 2.7 s at a million)."""
    db.execute("CREATE TABLE source_month_resolves (source TEXT NOT NULL, month TEXT NOT NULL, band INTEGER NOT NULL, "
               "incidents INTEGER NOT NULL, hours_sum REAL NOT NULL, PRIMARY KEY (source, month, band)) WITHOUT ROWID")
    hours = resolve_hours("t")
    db.execute(f"INSERT INTO source_month_resolves SELECT source, substr(first_posted_at, 1, 7), {resolve_band(hours)}, "
               f"count(*), sum({hours}) FROM incident_stage_times t "
               f"WHERE first_posted_at IS NOT NULL AND {hours} IS NOT NULL GROUP BY 1, 2, 3")
    for trigger in resolve_band_triggers():
        db.execute(trigger)


# What an incident's acknowledgement row reads, per table: (the incident ids a row of it
# names, as SQL over ``{row}``; the columns whose change moves the row).
LAG_PARTS = {
    "incidents": ("SELECT {row}.id", ["id", "source", "title", "started_at", "started_at_basis", "removed_at"]),
    "incident_updates": ("SELECT {row}.incident_id", ["incident_id", "posted_at"]),
    "stated_starts": ("SELECT {row}.incident_id", ["incident_id", "stated_start", "quote"]),
    "attribution_scores": ("SELECT {row}.incident_id", ["incident_id", "candidate_id", "score", "verdict"]),
    "article_incidents": ("SELECT {row}.incident_id", ["incident_id", "article_id"]),
    "articles": ("SELECT incident_id FROM article_incidents WHERE article_id = {row}.id", ["id", "published_at"]),
}


def lag_change_triggers() -> list[str]:
    """Triggers that queue in ``lag_changes`` each incident whose acknowledgement row may
    change, whatever writes its parts (archive/lags.py applies the queue)."""
    def change(table: str):
        ids, _ = LAG_PARTS[table]
        # ON CONFLICT, not OR IGNORE: an outer statement's conflict clause (an upsert's) overrides a trigger's OR.
        return lambda row, step: (f"INSERT INTO lag_changes (incident_id) {ids.format(row=row)} "
                                  f"{'AND' if ' WHERE ' in ids else 'WHERE'} true ON CONFLICT DO NOTHING;")

    return [trigger for table, (_, columns) in LAG_PARTS.items()
            for trigger in counting_triggers(f"lag_changes_{table}", table, columns, change(table))]


def speaker_triggers() -> list[str]:
    """Triggers that keep ``source_month_speakers`` (per source and month of the stated
    start: incidents, who spoke first, how many have a likely upstream)."""
    def change(row: str, step: str) -> str:
        said = {f"{who}_first": f"{step} * ({row}.first_to_speak = '{who}')" for who in ("provider", "upstream", "news")}
        return add_to_counts("source_month_speakers", {
            "source": f"{row}.source", "month": f"substr({row}.stated_start, 1, 7)"},
            {"incidents": step, **said, "with_upstream": f"{step} * ({row}.upstream_incident_id IS NOT NULL)"},
            f"{row}.stated_start IS NOT NULL")

    return counting_triggers("source_month_speakers", "acknowledgement_lags",
                             ["source", "stated_start", "first_to_speak", "upstream_incident_id"], change)


def lag_histogram_triggers(period: str) -> list[str]:
    """Triggers that keep ``source_{period}_lags`` (per source, month or quarter of the
    stated start and bucket of own lag: how many lags)."""
    def change(row: str, step: str) -> str:
        return add_to_counts(f"source_{period}_lags", {
            "source": f"{row}.source", period: LAG_PERIODS[period].format(at=f"{row}.stated_start"),
            "bucket": f"{row}.lag_bucket"},
            {"lags": step}, f"{row}.stated_start IS NOT NULL AND {row}.lag_bucket IS NOT NULL")

    return counting_triggers(f"source_{period}_lags", "acknowledgement_lags", ["source", "stated_start", "lag_bucket"],
                             change)


@MIGRATIONS(name="acknowledgement_lags")
def _acknowledgement_lags(db: sqlite_utils.Database) -> None:
    """Each incident's acknowledgement lags, kept (archive/lags.py): the view computed
    them from every incident's updates, attributions and articles, and the dashboard's
    two charts of it timed out (over 3 s) at a million incidents."""
    db.execute("CREATE TABLE lag_changes (incident_id TEXT PRIMARY KEY) WITHOUT ROWID")
    db.execute("""CREATE TABLE acknowledgement_lags (
        incident_id TEXT PRIMARY KEY REFERENCES incidents(id), source TEXT NOT NULL, year TEXT, title TEXT,
        stated_start TEXT, stated_start_basis TEXT, first_own_post TEXT, upstream_incident_id TEXT,
        first_upstream_post TEXT, first_news_at TEXT, own_lag_minutes REAL, upstream_lag_minutes REAL,
        news_lag_minutes REAL, first_to_speak TEXT NOT NULL, lag_bucket INTEGER)""")
    # Lags in order per source and year (buckets are in the order of lags), and what the
    # rows of a cut month are read for.
    db.execute("CREATE INDEX acknowledgement_lags_by_bucket ON acknowledgement_lags (source, year, lag_bucket, "
               "own_lag_minutes, stated_start)")
    db.execute("CREATE INDEX acknowledgement_lags_by_start ON acknowledgement_lags (stated_start, source, year, "
               "lag_bucket, first_to_speak, upstream_incident_id)")
    db.execute("CREATE TABLE source_month_speakers (source TEXT NOT NULL, month TEXT NOT NULL, "
               "incidents INTEGER NOT NULL, provider_first INTEGER NOT NULL, upstream_first INTEGER NOT NULL, "
               "news_first INTEGER NOT NULL, with_upstream INTEGER NOT NULL, PRIMARY KEY (source, month)) WITHOUT ROWID")
    db.execute("CREATE TABLE source_year_lags (source TEXT NOT NULL, year TEXT NOT NULL, lagged INTEGER NOT NULL, "
               "median_minutes REAL, PRIMARY KEY (source, year)) WITHOUT ROWID")
    for period in LAG_PERIODS:
        db.execute(f"CREATE TABLE source_{period}_lags (source TEXT NOT NULL, {period} TEXT NOT NULL, "
                   f"bucket INTEGER NOT NULL, lags INTEGER NOT NULL, PRIMARY KEY (source, {period}, bucket)) WITHOUT ROWID")
        db.execute(f"CREATE INDEX source_{period}_lags_by_{period} ON source_{period}_lags ({period}, source, bucket, lags)")
    triggers = lag_change_triggers() + speaker_triggers()
    for trigger in triggers + [t for period in LAG_PERIODS for t in lag_histogram_triggers(period)]:
        db.execute(trigger)
    rebuild_lags(db)



@MIGRATIONS(name="resolve_hours_in_order")
def _resolve_hours_in_order(db: sqlite_utils.Database) -> None:
    """A service's times to resolve in order within each bucket: the time to resolve read
    a wanted rank by sorting and numbering the bucket's rows (70,000 rows, 215 ms for
    the view at a million incidents); in index order it names the rank's row directly."""
    db.execute("DROP INDEX service_stage_times_by_bucket")
    db.execute("CREATE INDEX service_stage_times_by_hours ON service_stage_times (source, service, resolve_bucket, "
               "resolve_hours, first_posted_at)")


@MIGRATIONS(name="resolve_hours_by_quarter_and_all_time")
def _resolve_hours_by_quarter_and_all_time(db: sqlite_utils.Database) -> None:
    """Times to resolve per quarter and for all time, beside the months and years: the
    all-time view added up six years of histograms (25,000 rows, 24 ms of its 70 ms at a
    million incidents), and dates that cut two years added up every month between."""
    create_histogram(db, "quarter")
    db.execute("""CREATE TABLE service_hours (
        source TEXT NOT NULL, service TEXT NOT NULL, bucket INTEGER NOT NULL, incidents INTEGER NOT NULL,
        PRIMARY KEY (source, service, bucket)) WITHOUT ROWID""")
    db.execute("DELETE FROM service_year_hours")
    fill_wider_histograms(db)


@MIGRATIONS(name="cut_month_rows_covered")
def _cut_month_rows_covered(db: sqlite_utils.Database) -> None:
    """What a dated query reads of the rows of a month its bounds cut, in the index of
    first posts: each row was looked up in the table (7,771 rows of 2024-03-15 to
    2024-03-31 at a million incidents, 20 ms; 2.6 ms from the index)."""
    db.execute("DROP INDEX service_stage_times_first_posted")
    db.execute("CREATE INDEX service_stage_times_first_posted ON service_stage_times (first_posted_at, source, service, "
               "previous_at, resolve_hours, resolve_bucket)")


@MIGRATIONS(name="overlaps_along_relations")
def _overlaps_along_relations(db: sqlite_utils.Database) -> None:
    """Overlap counts only between sources the sources file relates (``depends_on`` or
    ``peers``): every pair made 300,000 counts at 600 sources, and every new incident was
    compared with every other source's outages. The islands no longer need length
    classes: a related source's islands around a time are found by source and start."""
    db.execute("ALTER TABLE sources ADD COLUMN peers TEXT")
    db.execute("CREATE TABLE source_relations (source TEXT NOT NULL, other_source TEXT NOT NULL, "
               "relation TEXT NOT NULL, PRIMARY KEY (source, other_source)) WITHOUT ROWID")
    db.execute("DROP INDEX source_islands_by_length")
    db.execute("ALTER TABLE source_islands DROP COLUMN length_class")
    rebuild_overlaps(db)


# The migrations an archive had when ``PRAGMA user_version`` counted them, in order.
NUMBERED_BEFORE_NAMED = [
    "initial", "impacts_regions_aliases", "news", "analytics", "overview", "service_outage_views",
    "time_to_resolve_from_first_response", "title_index", "text_indexed_by_the_writer", "stage_times_table",
    "interval_indexes", "title_and_start_index", "impact_in_stage_times", "service_stage_times",
]


def bridge_numbered_migrations(db: sqlite_utils.Database) -> None:
    """An archive made before named migrations counted them in ``user_version``: record
    those as applied, once, so only the newer ones run."""
    numbered = db.execute("PRAGMA user_version").fetchone()[0]
    if not numbered or MIGRATIONS.applied(db):
        return
    with db.atomic():
        MIGRATIONS.ensure_migrations_table(db)
        for name in NUMBERED_BEFORE_NAMED[:numbered]:
            db[MIGRATIONS.migrations_table].insert(
                {"migration_set": MIGRATIONS.name, "name": name, "applied_at": "before named migrations"})


def migrate(db: sqlite_utils.Database) -> int:
    """Bring ``db`` up to the newest schema; returns how many migrations ran."""
    bridge_numbered_migrations(db)
    pending = MIGRATIONS.pending(db)
    MIGRATIONS.apply(db)
    return len(pending)
