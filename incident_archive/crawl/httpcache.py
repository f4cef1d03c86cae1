"""The HTTP cache's storage: one SQLite file, one row per cached response.

Scrapy's HTTP cache middleware and its RFC 2616 policy decide what is cached and when
a request is revalidated (If-None-Match, If-Modified-Since); this module only keeps the
entries. Scrapy's filesystem storage writes each entry as seven files: slow (see
docs/BENCHMARKS.md), it leaves millions of small files behind for thousands of sources, and a crawl killed between two of the files left an entry whose
metadata was whole but whose body was a stub (the next crawl, told "304", parsed the
stub). Here an entry is one row written in one transaction, so it is whole or absent,
and an entry that cannot be read counts as absent.
"""

from __future__ import annotations

import logging
import sqlite3
import zlib
from pathlib import Path
from time import time

from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.project import data_path
from scrapy.utils.response import response_from_dict
from w3lib.http import headers_dict_to_raw, headers_raw_to_dict

from incident_archive.crawl.multiplex import CountingFor, source_of
from incident_archive.crawl.shared import SharedHandles

logger = logging.getLogger(__name__)

SCHEMA = """
create table if not exists responses (
    fingerprint text primary key,
    url text not null,
    status integer not null,
    headers blob not null,
    body blob not null,
    compressed integer not null,
    stored_at real not null
)
"""


def connect(path: str) -> sqlite3.Connection:
    """The cache, opened; a damaged cache file is set aside and a new one made (the cache
    only saves requests: the next crawl fetches its pages whole, nothing archived is lost)."""
    try:
        return _open(path)
    except sqlite3.DatabaseError as error:
        aside = f"{path}.damaged-{int(time())}"
        for suffix in ("", "-wal", "-shm"):
            if Path(path + suffix).exists():
                Path(path + suffix).rename(aside + suffix)
        logger.warning("HTTP cache %s was damaged (%s): set aside as %s, rebuilt", path, error, aside)
        SET_ASIDE.append(f"the HTTP cache was damaged ({error}): set aside as {aside} and rebuilt")
        return _open(path)


def _open(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    db.execute("pragma journal_mode = wal")
    db.execute("pragma synchronous = normal")  # WAL: a power cut may lose the newest entries, never corrupt
    db.execute(SCHEMA)
    db.execute("select count(*) from (select 1 from responses limit 1)")
    return db


# Caches set aside in this process, said in the notes of every source's run.
SET_ASIDE: list[str] = []


# Every crawler of the process reads and writes the cache through one connection.
CACHES = SharedHandles(connect)


class SqliteCacheStorage:
    """A Scrapy ``HTTPCACHE_STORAGE``: ``HTTPCACHE_DIR/responses.sqlite``.

    Honours ``HTTPCACHE_EXPIRATION_SECS`` and ``HTTPCACHE_GZIP`` (bodies compressed
    with zlib) as Scrapy's own storages do.
    """

    def __init__(self, settings):
        self.path = Path(data_path(settings["HTTPCACHE_DIR"], createdir=True)) / "responses.sqlite"
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")
        self.compress = settings.getbool("HTTPCACHE_GZIP")
        self.db: sqlite3.Connection | None = None

    def open_spider(self, spider) -> None:
        self._fingerprinter = spider.crawler.request_fingerprinter
        self.db = CACHES.acquire(str(self.path))

    def close_spider(self, spider) -> None:
        if self.db is not None:
            CACHES.release(str(self.path))
            self.db = None

    def retrieve_response(self, spider, request):
        key = self._fingerprinter.fingerprint(request).hex()
        try:
            row = self.db.execute(
                "select url, status, headers, body, compressed, stored_at from responses where fingerprint = ?", [key]
            ).fetchone()
            if row is None:
                return None
            url, status, headers, body, compressed, stored_at = row
            if 0 < self.expiration_secs < time() - stored_at:
                return None
            if compressed:
                body = zlib.decompress(body)
            response = response_from_dict(
                {"url": url, "status": status, "headers": headers_raw_to_dict(headers), "body": body}
            )
        except Exception as error:  # a damaged entry (or file): refetch rather than fail the source
            logger.warning("damaged HTTP cache entry for %s ignored: %r", request.url, error)
            spider.crawler.stats.inc_value("httpcache/damaged")
            return None
        request.meta["cache_timestamp"] = stored_at
        return response

    def store_response(self, spider, request, response) -> None:
        key = self._fingerprinter.fingerprint(request).hex()
        if "cached" in response.flags:
            # Scrapy stores the cached copy again after a 304, with the 304's headers
            # merged in: the body is the one already stored, so only headers and time
            # change, and the body is not recompressed and rewritten.
            updated = self.db.execute(
                "update responses set headers = ?, stored_at = ? where fingerprint = ?",
                [headers_dict_to_raw(response.headers), time(), key],
            )
            if updated.rowcount:
                return
        body = zlib.compress(response.body, 6) if self.compress else response.body
        self.db.execute(
            "insert or replace into responses values (?, ?, ?, ?, ?, ?, ?)",
            [key, response.url, response.status, headers_dict_to_raw(response.headers), body, int(self.compress),
             time()],
        )


class PollingCachePolicy(RFC2616Policy):
    """RFC 2616 for every page, and robots.txt trusted for a day after it was last fetched
    or revalidated, as RFC 9309 (section 2.4) allows: a source polled every minute asked
    for its robots.txt again on every poll, a third of an unchanged poll's requests.
    ``ARCHIVE_ROBOTSTXT_MAX_AGE`` sets the day (0: revalidate every time)."""

    def __init__(self, settings):
        super().__init__(settings)
        self.robots_max_age = settings.getfloat("ARCHIVE_ROBOTSTXT_MAX_AGE")

    def should_cache_response(self, response, request) -> bool:
        # A robots.txt is kept whatever its validators (most are sent with none), and so is
        # its absence (4xx: RFC 9309 reads it as "no rules"); a server error is not.
        if urlparse_cached(request).path == "/robots.txt" and self.robots_max_age and response.status != 304:
            return response.status < 500
        return super().should_cache_response(response, request)

    def is_cached_response_fresh(self, cachedresponse, request) -> bool:
        stored_at = request.meta.get("cache_timestamp")
        if (urlparse_cached(request).path == "/robots.txt" and stored_at is not None
                and time() - stored_at < self.robots_max_age):
            return True
        return super().is_cached_response_fresh(cachedresponse, request)


class SourceHttpCache(HttpCacheMiddleware):
    """Scrapy's HTTP cache middleware, its counts (hits, revalidations, error recoveries)
    also kept per source: one crawler serves every source, and each source's run says how
    many of its requests went out and how many were answered "not modified"."""

    @classmethod
    def from_crawler(cls, crawler):
        middleware = super().from_crawler(crawler)
        middleware.stats = CountingFor(crawler.stats)
        return middleware

    def process_request(self, request, spider=None):
        with self.stats.counting_for(source_of(request)):
            return super().process_request(request)

    def process_response(self, request, response, spider=None):
        with self.stats.counting_for(source_of(request)):
            return super().process_response(request, response)

    def process_exception(self, request, exception, spider=None):
        with self.stats.counting_for(source_of(request)):
            return super().process_exception(request, exception)
