"""One open SQLite connection per file for every crawler of a crawl.

A crawl runs up to ``ARCHIVE_CONCURRENT_SOURCES`` crawlers at once in one thread. Each opening
its own connections to the archive and to the HTTP cache meant a page cache per
crawler and per file, and an open, pragmas and a migration check per source. Sharing is safe because every crawler runs
in the reactor's thread, so a transaction is never interleaved with another.
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
