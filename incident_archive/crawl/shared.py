"""One open SQLite connection per file for everything a crawl runs.

The runner, the pipeline and the HTTP cache of one crawl each need the archive or the
cache; one connection per file means one page cache, and one open, its pragmas and a
migration check per crawl. Sharing is safe because all of them run in the reactor's
thread, so a transaction is never interleaved with another.
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

Handle = TypeVar("Handle")


class SharedHandles(Generic[Handle]):
    """Handles opened on first use, counted, and closed when their last user lets go."""

    def __init__(self, opener: Callable[[str], Handle]):
        self.opener = opener
        self.handles: dict[str, tuple[Handle, int]] = {}

    def acquire(self, key: str) -> Handle:
        handle, users = self.handles.get(key, (None, 0))
        if handle is None:
            handle = self.opener(key)
        self.handles[key] = (handle, users + 1)
        return handle

    def release(self, key: str) -> None:
        handle, users = self.handles.pop(key)
        if users > 1:
            self.handles[key] = (handle, users - 1)
        else:
            handle.close()
