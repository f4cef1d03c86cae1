"""One Scrapy crawler for every source of a crawl.

A Scrapy crawler per source cost as much CPU as the source's own requests: settings
copied, middlewares and an engine built and closed for two requests (see
bench/analysis.md). Here one crawler, with one engine, downloader and set of
middlewares, serves every source. Each source keeps a spider object of its own (its
URLs, pagination, walk and report: ``SourceSpider``), and politeness stays where Scrapy
keeps it, per host: robots.txt, AutoThrottle's delay and ``CONCURRENT_REQUESTS_PER_DOMAIN``
belong to the downloader slot of a host, whichever source asks.

Every request carries its source (``request.meta["source_spider"]``). A source's run
opens when its first request is made and closes when none of its requests is left; at
most ``ARCHIVE_CONCURRENT_SOURCES`` are open at once, so the archive state read for each
(its known ids) stays small however many sources the crawl has.
"""

from __future__ import annotations

import contextlib
from typing import Callable

import scrapy
from scrapy import signals
from scrapy.dupefilters import BaseDupeFilter
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.spider import iterate_spider_output
from twisted.internet.defer import Deferred

from incident_archive.core.sources import Source
from incident_archive.crawl.origins import origin
from incident_archive.crawl.spiders.base import SourceSpider

SOURCE_META = "source_spider"

# Sent when a source's run begins (``source_spider``) and when it ends (``source_spider``,
# ``reason``): the pipeline opens and closes the source's crawl_runs row.
source_opened = object()
source_closed = object()


def source_of(request) -> SourceSpider | None:
    """The source a request was made for (None for Scrapy's own, such as robots.txt)."""
    return request.meta.get(SOURCE_META) if request is not None else None


class SourcesSpider(scrapy.Spider):
    """Crawls many sources, each through its own ``SourceSpider``.

    ``make_source_spider(source)`` builds a source's spider when its turn comes (the
    runner reads what the archive holds for it then); ``finished(source)`` is told as
    each source's run is recorded.
    """

    name = "sources"

    def __init__(self, sources: list[Source], make_source_spider: Callable[[Source], SourceSpider],
                 finished: Callable[[Source], None] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.sources = sources
        self.make_source_spider = make_source_spider
        self.finished = finished
        self.open_sources: dict[str, SourceSpider] = {}
        self.outstanding: dict[str, int] = {}
        self.turn: Deferred | None = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.request_dropped, signal=signals.request_dropped)
        for done in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(spider.item_done, signal=done)
        crawler.signals.connect(spider.closing, signal=signals.spider_closed)
        return spider

    async def start(self):
        at_once = self.crawler.settings.getint("ARCHIVE_CONCURRENT_SOURCES")
        for source in self.sources:
            while len(self.open_sources) >= at_once:
                self.turn = Deferred()
                await maybe_deferred_to_future(self.turn)
            spider = self.open_source(source)
            if spider is None:
                continue
            async for output in spider.start():
                yield self.claim(spider, output)
            self.answered(spider)  # its start is done; its requests keep it open

    def open_source(self, source: Source) -> SourceSpider | None:
        try:
            spider = self.make_source_spider(source)
        except Exception as error:  # the others go on; this source's row says it never started
            self.logger.error("%s did not start: %s: %s", source.id, type(error).__name__, error)
            return None
        spider.bind(self.crawler)
        self.open_sources[source.id] = spider
        self.outstanding[source.id] = 1  # the start itself
        self.crawler.signals.send_catch_log(source_opened, source_spider=spider)
        return spider

    def claim(self, spider: SourceSpider, output):
        """Mark a request or item as made for ``spider``: a request's answer runs
        ``spider``'s callback (or errback), and the source stays open until that has run
        and each of its items has been through the pipeline."""
        self.outstanding[spider.source.id] += 1
        if not isinstance(output, scrapy.Request):
            return output
        output.meta[SOURCE_META] = spider
        output.callback = OnBehalf(self, spider, output.callback or spider._parse)
        output.errback = OnBehalf(self, spider, output.errback or spider.on_error)
        return output

    def run(self, spider: SourceSpider, function, args, kwargs):
        """A source's callback or errback: its requests claimed for it, an exception in it
        reported as the source's failure (the crawl goes on), and the request answered."""
        try:
            for output in iterate_spider_output(function(*args, **kwargs)) or ():
                yield self.claim(spider, output)
        except Exception as error:
            url = getattr(args[0], "url", None) or getattr(getattr(args[0], "request", None), "url", "")
            spider.report.failed(f"{url}: {type(error).__name__}: {error}")
        finally:
            self.answered(spider)

    def answered(self, spider: SourceSpider) -> None:
        key = spider.source.id
        if key not in self.outstanding:
            return  # closed already (the crawl was stopped)
        self.outstanding[key] -= 1
        if not self.outstanding[key]:
            self.close_source(spider, "finished")

    def item_done(self, item, spider=None, **kwargs):
        """An item has been through the pipeline (written, or its failure reported)."""
        if (source_spider := self.open_sources.get(getattr(item, "source", None))) is not None:
            self.answered(source_spider)

    def request_dropped(self, request, spider=None):
        """The scheduler refused a request: it repeats one the source already made."""
        if (source_spider := source_of(request)) is not None:
            source_spider.report.failed(f"{request.url}: dropped: it repeats a request already made (a redirect loop?)")
            self.answered(source_spider)

    def close_source(self, spider: SourceSpider, reason: str) -> None:
        if self.open_sources.pop(spider.source.id, None) is None:
            return
        del self.outstanding[spider.source.id]
        self.crawler.signals.send_catch_log(source_closed, source_spider=spider, reason=reason)
        if self.finished is not None:
            self.finished(spider.source)
        if self.turn is not None and not self.turn.called:
            self.turn.callback(None)

    def closing(self, spider, reason):
        """The crawl ends (or a signal stopped it): every source still open closes with its reason."""
        for source_spider in list(self.open_sources.values()):
            self.close_source(source_spider, reason)

    def first_source_at(self, url: str) -> SourceSpider | None:
        """The open source at the origin of ``url`` that opened first: Scrapy's robots.txt
        request for a host is made for the first request to it."""
        wanted = origin(url)
        return next((spider for spider in self.open_sources.values() if wanted in spider.configured_origins()), None)


class OnBehalf:
    """A request's callback or errback, run for the source that made the request."""

    __slots__ = ("sources", "spider", "function")

    def __init__(self, sources: SourcesSpider, spider: SourceSpider, function):
        self.sources, self.spider, self.function = sources, spider, function

    def __call__(self, *args, **kwargs):
        return self.sources.run(self.spider, self.function, args, kwargs)

    def __repr__(self) -> str:
        return f"<{getattr(self.function, '__qualname__', self.function)} for {self.spider.source.id}>"


class SourceDupeFilter(BaseDupeFilter):
    """Scrapy's duplicate filter (its request fingerprints), per source: two sources may
    ask for the same URL, and each gets it. A source's fingerprints are let go when its
    run closes, so a backfill of many sources does not keep every request it made."""

    def __init__(self, fingerprinter):
        self.fingerprinter = fingerprinter
        self.seen: dict[str, set[bytes]] = {}

    @classmethod
    def from_crawler(cls, crawler):
        dupefilter = cls(crawler.request_fingerprinter)
        crawler.signals.connect(dupefilter.forget, signal=source_closed)
        return dupefilter

    def request_seen(self, request) -> bool:
        spider = source_of(request)
        seen = self.seen.setdefault(spider.source.id if spider is not None else "", set())
        fingerprint = self.fingerprinter.fingerprint(request)
        if fingerprint in seen:
            return True
        seen.add(fingerprint)
        return False

    def forget(self, source_spider, reason=None):
        self.seen.pop(source_spider.source.id, None)


class CountingFor:
    """Crawler stats that also count toward the source of the request in hand, so Scrapy's
    HTTP cache middleware (hits, revalidations, error recoveries) reports per source."""

    def __init__(self, stats):
        self.stats = stats
        self.source_stats: StatsCollector | None = None

    @contextlib.contextmanager
    def counting_for(self, spider: SourceSpider | None):
        self.source_stats = spider.stats if spider is not None else None
        try:
            yield
        finally:
            self.source_stats = None

    def inc_value(self, key, count=1, start=0, spider=None):
        self.stats.inc_value(key, count, start)
        if self.source_stats is not None:
            self.source_stats.inc_value(key, count, start)

    def __getattr__(self, name):
        return getattr(self.stats, name)
