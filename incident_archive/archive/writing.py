"""What every part of the archive writer shares: the connection, the run it writes for,
and reading one row."""

from __future__ import annotations

import sqlite_utils


class Writer:
    def __init__(self, db: sqlite_utils.Database, run_id: int | None = None):
        self.db = db
        # The crawl run whose observations this writer records (versions name it).
        self.run_id = run_id
        self._migrations: dict[str, tuple[str, str] | None] = {}

    def _first(self, sql: str, params: list) -> dict | None:
        cursor = self.db.execute(sql, params)
        row = cursor.fetchone()
        return dict(zip([d[0] for d in cursor.description], row)) if row else None

    def _row(self, table: str, key: str) -> dict | None:
        return self._first(f"SELECT * FROM [{table}] WHERE id = ?", [key])
