"""Which providers were down together: for each source and each source it is declared
related to, how many of the source's incidents overlapped an incident of the other. Kept
by the writer, so the ``provider_cooccurrence`` view reads a few counts per source.

Related means what the sources file declares: one depends on the other (``depends_on``)
or they are peers (``peers``), either way round. Counting every pair of sources does not
scale: 600 sources already made 300,000 pairs with an overlap, 6,000 would make tens of
millions, and every new incident had to be compared with every other source's outages.

- An incident's window runs from its start to its resolution. An unresolved incident is
  still going on: its window ends at ``OPEN_END``. A resolution before the start counts as
  the start. Two windows overlap when each starts before the other ends: windows that
  only touch do not.
- ``source_islands``: per source, the stretches its incidents cover, each the union of
  windows chained by overlaps, with how many incidents it holds. An incident overlaps
  some incident of another source exactly when it overlaps one of that source's islands
  (one index seek: the last island that starts before the incident ends). It overlaps
  another incident of its own source exactly when its island holds more than one.
- ``source_relations``: the related pairs, both ways round, from the sources table.
- ``source_overlaps``: the counts, by source and related source (and by source and
  itself).
- Triggers on ``incidents`` queue each window that changes in ``window_changes``, with
  the window it had; ``refresh_overlaps`` applies the queue in the writer's transaction.
- ``rebuild_overlaps`` computes everything afresh; the newest migration that changes
  these tables calls it, so it must work on that migration's schema.

A change touches only a region of its source's time line: the islands its old and new
windows meet. The islands there are computed again; the counts change by the incidents
of related sources whose overlap with those islands changed (found through the pieces of
time whose cover changed, usually none when a new incident falls inside an outage the
source already had) and by the moved incidents' own overlaps.
"""

from __future__ import annotations

OPEN_END = "9999-12-31T23:59:59Z"


def window_end(row: str) -> str:
    """The end of ``row``'s window (an incidents row or alias), as SQL."""
    return (f"CASE WHEN {row}.resolved_at IS NULL THEN '{OPEN_END}' WHEN {row}.resolved_at < {row}.started_at "
            f"THEN {row}.started_at ELSE {row}.resolved_at END")


def island_flag(other: str, start: str, end: str) -> str:
    """SQL: 1 when the window (start, end) overlaps an island of source ``other``."""
    return (f"coalesce((SELECT j.ended_at > {start} FROM source_islands j WHERE j.source = {other} "
            f"AND j.started_at < {end} ORDER BY j.started_at DESC, j.ended_at DESC LIMIT 1), 0)")


def reaching_from(other: str, at: str) -> str:
    """SQL: the earliest start of source ``other``'s incidents that began before the time
    ``at`` and last until it: the start of its island that does (islands do not overlap,
    so it is the last one to begin before ``at``), else ``at``. One index seek."""
    return (f"coalesce((SELECT CASE WHEN j.ended_at >= {at} THEN j.started_at END FROM source_islands j "
            f"WHERE j.source = {other} AND j.started_at < {at} "
            f"ORDER BY j.started_at DESC, j.ended_at DESC LIMIT 1), {at})")


# Islands from windows in order, per group: a window that starts before every window so
# far has ended joins their island; one that starts later (or just as one ended) begins
# a new one. Ends in ascending order among equal starts: an instant at the very start of
# a window does not overlap it.
ISLANDS_OF = """
    SELECT source, min(started_at) AS started_at, max(ended_at) AS ended_at, count(*) AS incidents FROM (
        SELECT *, sum(begins) OVER (PARTITION BY grp ORDER BY started_at, ended_at ROWS UNBOUNDED PRECEDING) AS island
        FROM (
            SELECT *, CASE WHEN started_at < max(ended_at) OVER (
                               PARTITION BY grp ORDER BY started_at, ended_at
                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS begins
            FROM ({windows})))
    GROUP BY grp, island"""


def refresh_overlaps(db) -> None:
    """Apply the queued window changes to the islands and the counts."""
    if not db.execute("SELECT 1 FROM window_changes LIMIT 1").fetchone():
        return
    temp = {
        "window_moves": "incident_id TEXT, source TEXT, old_start TEXT, old_end TEXT, new_start TEXT, new_end TEXT",
        "regions": "source TEXT, lo TEXT, hi TEXT",
        "old_islands": "source TEXT, started_at TEXT, ended_at TEXT, incidents INTEGER",
        "new_islands": "source TEXT, started_at TEXT, ended_at TEXT, incidents INTEGER",
        "changed_pieces": "source TEXT, lo TEXT, hi TEXT, gap_lo TEXT, gap_hi TEXT",
        "pairs": "incident_id TEXT, source TEXT, other_source TEXT, started_at TEXT, ended_at TEXT",
        "overlap_deltas": "source TEXT, other_source TEXT, delta INTEGER",
    }
    for name, columns in temp.items():
        db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")
        db.execute(f"DELETE FROM temp.{name}")
    for name in ("old_islands", "new_islands"):
        db.execute(f"CREATE INDEX IF NOT EXISTS temp.{name}_by_source ON {name} (source, started_at, ended_at)")
    db.execute(f"""
        INSERT INTO temp.window_moves
        SELECT c.incident_id, c.source, c.old_start, c.old_end, i.started_at,
               CASE WHEN i.started_at IS NOT NULL THEN {window_end("i")} END
        FROM window_changes c LEFT JOIN incidents i ON i.id = c.incident_id""")
    db.execute("DELETE FROM window_changes")
    db.execute("DELETE FROM temp.window_moves WHERE old_start IS new_start AND old_end IS new_end")
    _regions(db)
    db.execute("INSERT INTO temp.old_islands SELECT j.source, j.started_at, j.ended_at, j.incidents "
               "FROM temp.regions r JOIN source_islands j ON j.source = r.source "
               "AND j.started_at >= r.lo AND j.started_at <= r.hi")
    windows = (f"SELECT r.rowid AS grp, i.source, i.started_at, {window_end('i')} AS ended_at FROM temp.regions r "
               "CROSS JOIN incidents i ON i.source = r.source AND i.started_at >= r.lo AND i.started_at <= r.hi")
    db.execute("INSERT INTO temp.new_islands " + ISLANDS_OF.format(windows=windows))
    # Incidents of a source that overlap another of its own: the members of its islands of two or more.
    db.execute("""
        INSERT INTO temp.overlap_deltas
        SELECT source, source, sum(sign * incidents) FROM (
            SELECT 1 AS sign, * FROM temp.new_islands UNION ALL SELECT -1, * FROM temp.old_islands)
        WHERE incidents > 1 GROUP BY source""")
    _pairs_in_changed_pieces(db)
    # What the moved incidents overlapped, and what unmoved ones overlapped of the changed islands.
    own = ("SELECT m.source, r.other_source, {sign} * sum("
           + island_flag("r.other_source", "m.{at}_start", "m.{at}_end") + ") FROM temp.window_moves m "
           "JOIN source_relations r ON r.source = m.source WHERE m.{at}_start IS NOT NULL GROUP BY 1, 2")
    theirs = "SELECT p.source, p.other_source, {sign} * " + island_flag("p.other_source", "p.started_at", "p.ended_at") + \
             " FROM temp.pairs p"
    for sign, at in ((-1, "old"), (1, "new")):
        if sign == 1:
            db.execute("DELETE FROM source_islands WHERE rowid IN (SELECT j.rowid FROM temp.regions r "
                       "JOIN source_islands j ON j.source = r.source AND j.started_at >= r.lo AND j.started_at <= r.hi)")
            db.execute("INSERT INTO source_islands (source, started_at, ended_at, incidents) "
                       "SELECT source, started_at, ended_at, incidents FROM temp.new_islands")
        db.execute("INSERT INTO temp.overlap_deltas " + own.format(sign=sign, at=at))
        db.execute("INSERT INTO temp.overlap_deltas " + theirs.format(sign=sign))
    db.execute("""
        INSERT INTO source_overlaps (source, other_source, incidents)
        SELECT source, other_source, sum(delta) FROM temp.overlap_deltas WHERE true GROUP BY source, other_source
        ON CONFLICT DO UPDATE SET incidents = incidents + excluded.incidents""")
    db.execute("DELETE FROM source_overlaps WHERE incidents = 0 AND (source, other_source) IN "
               "(SELECT source, other_source FROM temp.overlap_deltas)")


def _regions(db) -> None:
    """The stretches of each source's time line that its moved windows reach: each old and
    new window with the islands it meets, merged where they meet, and grown until no
    island crosses an end."""
    spans = []
    for at in ("old", "new"):
        start, end = f"m.{at}_start", f"m.{at}_end"
        last = ("(SELECT {column} FROM source_islands j WHERE j.source = m.source AND j.started_at <= " + start +
                " ORDER BY j.started_at DESC, j.ended_at DESC LIMIT 1)")
        spans.append(f"""
            SELECT m.source,
                   CASE WHEN {last.format(column="j.ended_at")} >= {start}
                        THEN min({start}, {last.format(column="j.started_at")}) ELSE {start} END,
                   max({end}, coalesce({last.format(column="j.ended_at")}, ''),
                       coalesce((SELECT max(j.ended_at) FROM source_islands j WHERE j.source = m.source
                                 AND j.started_at >= {start} AND j.started_at <= {end}), ''))
            FROM temp.window_moves m WHERE {start} IS NOT NULL""")
    db.execute("INSERT INTO temp.regions " + " UNION ALL ".join(spans))
    while True:
        # Merge regions that meet; then grow each over the islands that start inside it.
        regions = db.execute("SELECT source, lo, hi FROM temp.regions ORDER BY source, lo, hi").fetchall()
        merged = merge_meeting(regions)
        if len(merged) < len(regions):
            db.execute("DELETE FROM temp.regions")
            db.conn.executemany("INSERT INTO temp.regions VALUES (?, ?, ?)", merged)
        changes_before = db.conn.total_changes  # a statement that begins WITH has no rowcount
        db.execute("""
            WITH reach AS MATERIALIZED (
                SELECT r.rowid AS id, (SELECT max(j.ended_at) FROM source_islands j WHERE j.source = r.source
                                       AND j.started_at >= r.lo AND j.started_at <= r.hi) AS hi
                FROM temp.regions r)
            UPDATE temp.regions AS r SET hi = reach.hi FROM reach
            WHERE r.rowid = reach.id AND reach.hi > r.hi""")
        if db.conn.total_changes == changes_before:  # none grew
            return


def merge_meeting(regions: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Regions (source, lo, hi) in order of source, lo and hi, with those of a source that
    meet (one begins by the time the ones before it end) merged into one. Done here, not
    by a window query: a batch's few hundred regions rarely meet."""
    merged: list[list[str]] = []
    for source, lo, hi in regions:
        if merged and merged[-1][0] == source and lo <= merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], hi)
        else:
            merged.append([source, lo, hi])
    return [tuple(region) for region in merged]


def _pairs_in_changed_pieces(db) -> None:
    """Unmoved incidents of related sources that meet a piece of time whose cover by the
    changed source's islands differs before and after: theirs are the overlaps that may
    have changed. A piece is an island's start or end (an instant) or the stretch between
    two such."""
    def covered(islands: str) -> str:
        """A stretch is covered when the last island starting by it lasts past its end; an
        instant, when it is inside an island or an island of no length is there."""
        def last_end(before: str) -> str:
            return (f"(SELECT j.ended_at FROM temp.{islands} j WHERE j.source = p.source AND j.started_at {before} p.lo "
                    f"ORDER BY j.started_at DESC, j.ended_at DESC LIMIT 1)")
        return (f"CASE WHEN p.lo < p.hi THEN coalesce({last_end('<=')} >= p.hi, 0) "
                f"ELSE coalesce({last_end('<')} > p.lo, 0) OR exists(SELECT 1 FROM temp.{islands} j "
                f"WHERE j.source = p.source AND j.started_at = p.lo AND j.ended_at = p.lo) END")

    # Where a covered piece sits among the source's islands before the change: the end of
    # the last one starting by it and the start of the next one.
    gap_lo = ("coalesce((SELECT j.ended_at FROM source_islands j WHERE j.source = p.source AND j.started_at <= p.lo "
              "ORDER BY j.started_at DESC, j.ended_at DESC LIMIT 1), '')")
    gap_hi = ("coalesce((SELECT j.started_at FROM source_islands j WHERE j.source = p.source AND j.started_at >= p.hi "
              f"ORDER BY j.started_at LIMIT 1), '{OPEN_END}')")
    # A source whose regions held no island before (new incidents in a stretch it had no
    # outage in, as a first crawl writes them): nothing was covered, so the changed pieces
    # are its new islands themselves, each a stretch, or an instant when it has no length
    # (islands neither overlap nor hold each other's ends).
    db.execute(f"""
        INSERT INTO temp.changed_pieces
        SELECT p.source, p.lo, p.hi, {gap_lo}, {gap_hi}
        FROM (SELECT source, started_at AS lo, ended_at AS hi FROM temp.new_islands
              WHERE source NOT IN (SELECT source FROM temp.old_islands)) p""")
    db.execute(f"""
        INSERT INTO temp.changed_pieces
        WITH ends AS (
            SELECT DISTINCT source, at FROM (
                SELECT source, started_at AS at FROM temp.old_islands UNION ALL SELECT source, ended_at FROM temp.old_islands
                UNION ALL SELECT source, started_at FROM temp.new_islands UNION ALL SELECT source, ended_at FROM temp.new_islands)
            WHERE source IN (SELECT source FROM temp.old_islands)
        ), pieces AS (
            SELECT source, at AS lo, at AS hi FROM ends
            UNION ALL
            SELECT source, lo, hi FROM (SELECT source, at AS lo, lead(at) OVER (PARTITION BY source ORDER BY at) AS hi
                                        FROM ends) WHERE hi IS NOT NULL
        ), covered AS MATERIALIZED (  -- each cover read once, not again for each use below
            SELECT p.source, p.lo, p.hi, {covered("old_islands")} AS before, {covered("new_islands")} AS after
            FROM pieces p
        )
        SELECT p.source, p.lo, p.hi, CASE WHEN p.after THEN {gap_lo} ELSE '' END,
               CASE WHEN p.after THEN {gap_hi} ELSE '{OPEN_END}' END
        FROM covered p WHERE before != after""")
    # The incidents of a related source that meet a piece lie in its islands that meet it:
    # the last one starting before the piece, when it reaches the piece, and those starting
    # in it. So they are one stretch of that source's incidents by start, from that
    # island's start. An overlap a piece newly covered makes was with an incident inside
    # the gap that held it (gap_lo to gap_hi, the source's islands before): one that
    # reached past it overlapped an island already, so the stretch starts at the gap's
    # start at the earliest.
    db.execute(f"""
        INSERT INTO temp.pairs
        SELECT DISTINCT i.id, i.source, p.source, i.started_at, {window_end("i")}
        FROM temp.changed_pieces p
        JOIN source_relations r ON r.source = p.source
        CROSS JOIN incidents i ON i.source = r.other_source
                               AND i.started_at >= max(p.gap_lo, {reaching_from("r.other_source", "p.lo")})
                               AND i.started_at <= p.hi
        WHERE {window_end("i")} >= p.lo AND {window_end("i")} <= p.gap_hi
          AND i.id NOT IN (SELECT incident_id FROM temp.window_moves)""")


def rebuild_overlaps(db) -> None:
    """Every island and count afresh, from every incident (an archive made before them)."""
    db.execute("DELETE FROM window_changes")
    db.execute("DELETE FROM source_islands")
    db.execute("DELETE FROM source_overlaps")
    windows = f"SELECT source AS grp, source, started_at, {window_end('i')} AS ended_at FROM incidents i " \
              "WHERE started_at IS NOT NULL"
    db.execute("INSERT INTO source_islands (source, started_at, ended_at, incidents) "
               "SELECT * FROM (" + ISLANDS_OF.format(windows=windows) + ")")
    db.execute("INSERT INTO source_overlaps (source, other_source, incidents) "
               "SELECT source, source, sum(incidents) FROM source_islands WHERE incidents > 1 GROUP BY source")
    refresh_relations(db, recount_all=True)


# Related pairs, both ways round: what the sources table declares.
RELATIONS = """
    SELECT source, other_source, min(relation) FROM (
        SELECT s.id AS source, d.value AS other_source, 'depends on' AS relation
        FROM sources s, json_each(s.depends_on) d
        UNION ALL SELECT d.value, s.id, 'upstream of' FROM sources s, json_each(s.depends_on) d
        UNION ALL SELECT s.id, d.value, 'peer' FROM sources s, json_each(s.peers) d
        UNION ALL SELECT d.value, s.id, 'peer' FROM sources s, json_each(s.peers) d)
    WHERE source != other_source GROUP BY source, other_source"""


def refresh_relations(db, recount_all: bool = False) -> None:
    """Make ``source_relations`` what the sources table declares, and count the overlaps of
    the pairs that became related (dropping those of pairs no longer related)."""
    before = set(db.execute("SELECT source, other_source, relation FROM source_relations").fetchall())
    after = set(db.execute(RELATIONS).fetchall())
    if before == after and not recount_all:
        return
    db.execute("DELETE FROM source_relations")
    db.conn.executemany("INSERT INTO source_relations (source, other_source, relation) VALUES (?, ?, ?)",
                        sorted(after))
    pairs = {(a, b) for a, b, _ in after}
    gone = {(a, b) for a, b, _ in before} - pairs
    recount = pairs if recount_all else pairs - {(a, b) for a, b, _ in before}
    db.conn.executemany("DELETE FROM source_overlaps WHERE source = ? AND other_source = ?", sorted(gone | recount))
    for source, other in sorted(recount):
        db.execute(f"""
            INSERT INTO source_overlaps (source, other_source, incidents)
            SELECT * FROM (
                SELECT :source, :other, sum({island_flag(":other", "i.started_at", window_end("i"))}) AS overlapping
                FROM incidents i WHERE i.source = :source AND i.started_at IS NOT NULL)
            WHERE overlapping > 0""", {"source": source, "other": other})
