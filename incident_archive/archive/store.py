"""The archive writer: the one code that writes the archive, from its parts (incidents,
articles, the crawl's records), and opening an archive ready for concurrent readers."""

from __future__ import annotations

import math
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from incident_archive.archive.articles import ArticleWriter
from incident_archive.archive.incidents import IncidentWriter
from incident_archive.archive.lags import refresh_lags
from incident_archive.archive.records import CrawlRecords
from incident_archive.archive.schema import migrate
from incident_archive.archive.views import create_views

# How long a writer waits for another writer's transaction before giving up.
BUSY_TIMEOUT_MS = 30_000


class ArchiveDatabase(sqlite_utils.Database):
    """sqlite-utils' Database whose transactions take the write lock when they begin.

    A transaction begun deferred that reads, then writes, cannot take the lock if another
    process committed meanwhile (WAL answers SQLITE_BUSY at once, without waiting): with
    the watch service's polls writing side by side, runs were left unfinished. BEGIN
    IMMEDIATE waits its turn (busy_timeout) instead.

    Each write transaction applies, as it commits, the queue of incidents whose kept
    acknowledgement rows its writes changed (archive/lags.py), once the schema has them."""

    keeps_lags = False  # set once the archive is migrated

    @contextmanager
    def atomic(self):
        if self.conn.in_transaction:
            with super().atomic():  # a savepoint inside the transaction
                yield self
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            if self.keeps_lags:
                refresh_lags(self)
            self.conn.execute("COMMIT")


def open_archive(path: str | Path) -> sqlite_utils.Database:
    """Open (creating or upgrading) the archive at ``path``, ready for concurrent readers."""
    db = ArchiveDatabase(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.enable_wal()
    # With WAL, NORMAL syncs at checkpoints rather than on every commit: a killed process
    # loses nothing committed, a power cut at worst the last transactions, and neither
    # corrupts the file.
    db.execute("PRAGMA synchronous = NORMAL")
    # The kept figures are updated through small temp tables per batch: in memory, not in
    # temp files (10% more incidents a second at 100,000 dense incidents).
    db.execute("PRAGMA temp_store = MEMORY")
    # SQLite's default page cache (2 MB): a 64 MiB one made the writer slower on the
    # batches crawls write and cost up to 74 MB a process (bench/analysis.md, tenth round).
    db.execute("PRAGMA foreign_keys = ON")
    try:  # the writer buckets times to resolve with ln(); SQLite has it only when built with math functions
        db.execute("SELECT ln(1)")
    except sqlite3.OperationalError:
        db.conn.create_function("ln", 1, math.log, deterministic=True)
    migrate(db)
    db.keeps_lags = True
    create_views(db)
    return db


class ArchiveWriter(IncidentWriter, ArticleWriter, CrawlRecords):
    """Everything a crawl or an import writes, through one connection."""
