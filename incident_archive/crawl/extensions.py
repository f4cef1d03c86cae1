"""Progress lines on long crawls, so a user watching a backfill knows it is moving."""

from __future__ import annotations

import sys

from scrapy import signals
from twisted.internet import task



class CrawlProgress:
    """Every ``ARCHIVE_PROGRESS_INTERVAL`` seconds, one line per running source on stderr."""

    def __init__(self, crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.loop = None

    @classmethod
    def from_crawler(cls, crawler):
        extension = cls(crawler, crawler.settings.getfloat("ARCHIVE_PROGRESS_INTERVAL", 10.0))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider):
        if self.interval > 0:
            self.loop = task.LoopingCall(self.report, spider)
            self.loop.start(self.interval, now=False)

    def report(self, spider):
        for source in list(getattr(spider, "open_sources", {}).values()):
            stats = source.stats
            archived = sum(stats.get_value(f"archive/incidents_{k}", 0) for k in ("new", "updated", "unchanged"))
            print(
                f"  … {source.name}: {stats.get_value('network/requests', 0)} requests, "
                f"{archived} incidents processed, {len(source.report.errors)} problems",
                file=sys.stderr,
                flush=True,
            )

    def spider_closed(self, spider):
        if self.loop and self.loop.running:
            self.loop.stop()
