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
from incident_archive.crawl.httpcache import SET_ASIDE
from incident_archive.crawl.multiplex import source_closed, source_opened
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
    """Writes every source's items, and opens and closes each source's run as the
    crawler's sources spider says (``source_opened``, ``source_closed``; it closes every
    run still open as the crawl ends)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.db_path = crawler.settings.get("ARCHIVE_DB")
        self.batch_size = crawler.settings.getint("ARCHIVE_BATCH_SIZE")
        self.runs: dict[str, SourceRun] = {}
        self.db = None

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.source_opened, signal=source_opened)
        crawler.signals.connect(pipeline.source_closed, signal=source_closed)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self, spider=None):
        self.db = ARCHIVES.acquire(self.db_path)

    def source_opened(self, source_spider):
        self.runs[source_spider.source.id] = SourceRun(ArchiveWriter(self.db), source_spider, self.batch_size)

    def process_item(self, item, spider=None):
        self.runs[item.source].take(item)
        return item

    def source_closed(self, source_spider, reason):
        self.runs.pop(source_spider.source.id).finish(reason)

    def spider_closed(self, spider, reason):
        if self.db is not None:
            self.db = None
            ARCHIVES.release(self.db_path)


class SourceRun:
    """One source's run in this crawl: its items written in batches, its counts, and its
    crawl_runs row, opened when the source starts and closed with its outcome."""

    def __init__(self, writer: ArchiveWriter, spider, batch_size: int):
        self.writer = writer
        self.spider = spider
        self.report = spider.report
        self.batch_size = batch_size
        self.seen_at = utc_now()
        self.counts = dict.fromkeys(COUNTS, 0)
        # Incidents are written in batches: one transaction each, not one per incident.
        self.pending: list[IncidentItem] = []
        source = spider.source  # saved as configured by the runner, before the crawl
        self.run_id = writer.run_id = writer.start_run(spider.crawl_id, source.id, source.kind)
        # Once an incident could not be written (a full disk, say), the walk's state no
        # longer moves on: the next crawl must fetch it again.
        self.lost_writes = False
        self.bodies_seen: list[BodySeen] = []

    def take(self, item) -> None:
        if isinstance(item, IncidentItem):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.flush()
            return
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
            self.spider.stats.inc_value(f"archive/incidents_{outcome}")

    def save_walk_state(self, state: WalkState) -> None:
        if not self.lost_writes:
            self.writer.save_walk_state(state)

    def finish(self, reason: str) -> None:
        """Write what was fetched and where the history walk stands, then the run's row
        with its outcome and the reason it ended."""
        spider = self.spider
        try:
            self.flush()
            if spider.walk is not None:
                self.save_walk_state(spider.walk.current())
        except Exception as error:  # the run is recorded whatever failed
            self.lost_writes = True
            self.report.failed(f"not archived: {type(error).__name__}: {error}")
        stats = spider.stats.get_stats()
        counts = dict(self.counts)
        report = self.report
        counts["items_skipped"] = report.skipped_count
        # Requests that went out: a response the cache still held fresh (robots.txt, trusted
        # for a day) never left the machine.
        counts["requests"] = stats.get("network/requests", 0)
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
        counts["notes"] = "; ".join(report.notes + SET_ASIDE) or None
        counts["problems"] = join_capped(report.problems) or None
        if outcome == "ok" and not self.lost_writes:
            for seen in self.bodies_seen:
                self.writer.save_body_seen(seen, self.seen_at)
        self.writer.finish_run(self.run_id, outcome, join_capped(errors) or None, counts)


INTERRUPTED = {"shutdown": "stopped by a signal before this source finished; the next crawl goes on from here"}


def join_capped(texts: list[str], limit: int = 20) -> str:
    return "; ".join(texts[:limit]) + (f"; and {len(texts) - limit} more" if len(texts) > limit else "")
