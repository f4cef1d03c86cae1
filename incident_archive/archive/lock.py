"""One writer at a time: a crawl holds an exclusive lock on ``<archive>.lock`` (filelock).

SQLite would serialise two crawls' transactions anyway, but two crawls interleaving
their walks of the same pages double the requests and race on what is "new". The lock
is an OS file lock, so a killed crawl never leaves it held.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout


class ArchiveBusy(RuntimeError):
    """Another crawl is writing to the archive."""


@contextmanager
def exclusive(db_path: str | Path, wait: float = 0.0):
    """Hold the archive's crawl lock; wait up to ``wait`` seconds for it, then refuse."""
    holder = Path(f"{db_path}.lock.holder")
    lock = FileLock(f"{db_path}.lock", timeout=wait)
    try:
        lock.acquire(poll_interval=0.2)
    except Timeout:
        who = holder.read_text().strip() if holder.exists() else "unknown"
        raise ArchiveBusy(
            f"another crawl is writing to {db_path} ({who}); try again when it ends, or pass --wait"
        ) from None
    try:
        holder.write_text(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
        yield
    finally:
        lock.release()
