"""One writer at a time: a crawl holds an exclusive lock on ``<archive>.lock``.

SQLite would serialise two crawls' transactions anyway, but two crawls interleaving
their walks of the same pages double the requests and race on what is "new". The lock
is an OS file lock, so a killed crawl never leaves it held.
"""

from __future__ import annotations

import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path


class ArchiveBusy(RuntimeError):
    """Another crawl is writing to the archive."""


@contextmanager
def exclusive(db_path: str | Path, wait: float = 0.0):
    """Hold the archive's crawl lock; wait up to ``wait`` seconds for it, then refuse."""
    lock_path = Path(f"{db_path}.lock")
    handle = open(lock_path, "a+")
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                handle.close()
                raise ArchiveBusy(
                    f"another crawl is writing to {db_path} ({holder}); try again when it ends, or pass --wait"
                ) from None
            time.sleep(0.2)
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()
