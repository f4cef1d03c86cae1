"""The one pipeline: every item of every spider goes into the archive through it.

It also keeps the crawl's provenance: a ``crawl_runs`` row per source, opened when the
spider starts and closed with its outcome, the reasons for any failure, and counts.
"""

from __future__ import annotations

from scrapy import signals

from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.core.times import utc_now
from incident_archive.core.items import (ArticleItem, BodySeen, ComponentItem, IncidentItem, ListingItem, SourceStatusItem,
                           WalkState)
from incident_archive.crawl.report import SourceReport
from incident_archive.crawl.shared import SharedHandles

COUNTS = (
    "incidents_new",
    "incidents_updated",
    "incidents_unchanged",
    "updates_new",
    "articles_new",
    "articles_updated",
    "articles_unchanged",
    "incidents_removed",
)

# Every crawler of the process writes through one connection to the archive.
ARCHIVES = SharedHandles(open_archive)


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.db_path = crawler.settings.get("ARCHIVE_DB")
        self.stats = crawler.stats
        self.report = SourceReport(crawler.stats)

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_error, signal=signals.spider_error)
        crawler.signals.connect(pipeline.request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def request_dropped(self, request, spider):
        """The scheduler refused a request: it repeats one already made."""
        self.report.failed(f"{request.url}: dropped: it repeats a request already made (a redirect loop?)")

    def open_spider(self, spider=None):
        spider = spider or self.crawler.spider
        self.db = ARCHIVES.acquire(self.db_path)
        self.writer = ArchiveWriter(self.db)
        self.seen_at = utc_now()
        self.counts = dict.fromkeys(COUNTS, 0)
        # Incidents are written in batches: one transaction each, not one per incident.
        self.pending: list[IncidentItem] = []
        self.batch_size = self.crawler.settings.getint("ARCHIVE_BATCH_SIZE")
        source = spider.source
        self.writer.save_configured_source(source)
        self.run_id = self.writer.start_run(spider.crawl_id, source.id, source.kind)
        self.writer.run_id = self.run_id
        self.closed = False
        # Once an incident could not be written (a full disk, say), the walk's state no
        # longer moves on: the next crawl must fetch it again.
        self.lost_writes = False
        self.bodies_seen: list[BodySeen] = []

    def spider_error(self, failure, response, spider):
        """An unexpected exception in a callback: the source failed, the crawl goes on."""
        self.report.failed(f"{response.url}: {failure.type.__name__}: {failure.getErrorMessage()}")

    def process_item(self, item, spider=None):
        if isinstance(item, IncidentItem):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.flush()
            return item
        self.flush()  # keep the order in which the page gave its items
        if isinstance(item, ArticleItem):
            self.counts[f"articles_{self.writer.save_article(item, self.seen_at)}"] += 1
        elif isinstance(item, ComponentItem):
            self.writer.save_components([item])
        elif isinstance(item, SourceStatusItem):
            self.writer.save_source_status(item)
        elif isinstance(item, WalkState):
            self.save_walk_state(item)
        elif isinstance(item, BodySeen):
            # Kept until the run ends: a later request of the same poll may still fail, and
            # a body recorded as taken in is not read again.
            self.bodies_seen.append(item)
        elif isinstance(item, ListingItem):
            self.counts["incidents_removed"] += self.writer.save_listing(item, self.seen_at)
        return item

    def flush(self) -> None:
        """Write the incidents gathered so far, in one transaction (a reader sees all of
        an incident's updates or none of it)."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            results = self.writer.save_incidents(batch, self.seen_at)
        except Exception:  # one bad record must not cost the others: write them one at a time
            results = []
            for item in batch:
                try:
                    results.append(self.writer.save_incident(item, self.seen_at))
                except Exception as error:
                    self.lost_writes = True
                    self.report.failed(f"incident {item.native_id} not archived: {type(error).__name__}: {error}")
        for outcome, updates_new in results:
            self.counts[f"incidents_{outcome}"] += 1
            self.counts["updates_new"] += updates_new
            self.stats.inc_value(f"archive/incidents_{outcome}")

    def close_spider(self, spider=None):
        """Write what was fetched and where the history walk stands; the run itself is
        recorded when the spider has closed, with the reason it closed."""
        spider = spider or self.crawler.spider
        self.flush()
        if spider.walk is not None:
            self.save_walk_state(spider.walk.current())

    def save_walk_state(self, state: WalkState) -> None:
        if not self.lost_writes:
            self.writer.save_walk_state(state)

    def spider_closed(self, spider, reason):
        if self.closed:
            return
        self.closed = True
        try:
            self.finish_run(spider, reason)
        finally:
            ARCHIVES.release(self.db_path)

    def finish_run(self, spider, reason: str) -> None:
        stats = self.stats.get_stats()
        counts = dict(self.counts)
        report = self.report
        counts["items_skipped"] = report.skipped_count
        # Requests that went out: a response the cache still held fresh (robots.txt, trusted
        # for a day) never left the machine.
        counts["requests"] = stats.get("downloader/request_count", 0) - stats.get("httpcache/hit", 0)
        counts["responses_not_modified"] = stats.get("httpcache/revalidate", 0)
        errors = report.errors
        if stats.get("httpcache/errorrecovery", 0):
            # Scrapy's cache answers a failed revalidation with the last good copy: the
            # archive is intact, but the page was not read afresh, and the user must know.
            reasons = "; ".join(report.download_failures) or "a download failed"
            errors.append(f"{reasons} (the HTTP cache's last good copy was used instead)")
        if stats.get("offsite/filtered", 0):
            errors.append(
                f"{stats['offsite/filtered']} request(s) refused to leave the configured hosts "
                "(a redirect to another host?)"
            )
        interrupted = reason != "finished"
        if interrupted:
            errors.insert(0, INTERRUPTED.get(reason, f"the crawl stopped before this source finished ({reason})"))
        if spider.walk is not None and spider.walk.active and not spider.walk.complete and not errors:
            errors.append("the history walk did not finish")
        outcome = "interrupted" if interrupted else "ok" if not errors else "failed"
        counts["notes"] = "; ".join(report.notes) or None
        counts["problems"] = join_capped(report.problems) or None
        if outcome == "ok" and not self.lost_writes:
            for seen in self.bodies_seen:
                self.writer.save_body_seen(seen, self.seen_at)
        self.writer.finish_run(self.run_id, outcome, join_capped(errors) or None, counts)


INTERRUPTED = {"shutdown": "stopped by a signal before this source finished; the next crawl goes on from here"}


def join_capped(texts: list[str], limit: int = 20) -> str:
    return "; ".join(texts[:limit]) + (f"; and {len(texts) - limit} more" if len(texts) > limit else "")
