"""The archive writer: the one code that writes the archive, from its parts (incidents,
articles, the crawl's records), and opening an archive ready for concurrent readers."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from incident_archive.archive.articles import ArticleWriter
from incident_archive.archive.incidents import IncidentWriter
from incident_archive.archive.records import CrawlRecords
from incident_archive.archive.schema import migrate
from incident_archive.archive.views import create_views

# How long a writer waits for another writer's transaction before giving up.
BUSY_TIMEOUT_MS = 30_000


def open_archive(path: str | Path) -> sqlite_utils.Database:
    """Open (creating or upgrading) the archive at ``path``, ready for concurrent readers."""
    db = sqlite_utils.Database(path)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.enable_wal()
    # With WAL, NORMAL syncs at checkpoints rather than on every commit: a killed process
    # loses nothing committed, a power cut at worst the last transactions, and neither
    # corrupts the file.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    migrate(db)
    create_views(db)
    return db


class ArchiveWriter(IncidentWriter, ArticleWriter, CrawlRecords):
    """Everything a crawl or an import writes, through one connection."""
