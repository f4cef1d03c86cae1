"""Run one crawl of several sources in one Scrapy crawler, and report per source."""

from __future__ import annotations

import contextlib
import gc
import signal
import uuid
from pathlib import Path
from typing import Callable

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.internet.error import ReactorNotRunning

from incident_archive.archive.attribution import Attributor, changed_since
from incident_archive.archive.linking import ArticleLinker
from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.crawl.pipelines import ARCHIVES
from incident_archive.core.sources import Source
from incident_archive.crawl.multiplex import SourcesSpider
from incident_archive.crawl.spiders import spider_for


def crawl_settings(db_path: str | Path, overrides: dict | None = None) -> Settings:
    """The project's Scrapy settings, pointed at one archive file and its HTTP cache."""
    db_path = Path(db_path).resolve()
    settings = Settings()
    settings.setmodule("incident_archive.crawl.settings", priority="project")
    settings.set("ARCHIVE_DB", str(db_path), priority="project")
    settings.set("HTTPCACHE_DIR", str(db_path.with_name(db_path.name + ".httpcache")), priority="project")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def provider_names(sources: list[Source]) -> list[str]:
    """Every provider's name and aliases: what makes a news item about a tracked provider."""
    names = []
    for source in sources:
        if source.kind != "news":
            names += [source.name, *source.options.get("aliases", [])]
    return list(dict.fromkeys(names))


def _stop_reactor(_) -> None:
    from twisted.internet import reactor  # imported late: Scrapy installs the asyncio reactor first

    def stop():
        if reactor.running:  # a signal may have stopped it already
            with contextlib.suppress(ReactorNotRunning):
                reactor.stop()

    reactor.callLater(0, stop)


class CrawlInterrupted(Exception):
    """SIGINT or SIGTERM stopped the crawl; what was fetched is archived, and ``rows``
    say per source what happened."""

    def __init__(self, signum: int, rows: list[dict]):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.rows = rows


class StoppableCrawlerProcess(CrawlerProcess):
    """Scrapy's process, remembering which signal asked it to stop: the first one stops
    scheduling and closes every spider (each writes what it fetched); a second stops at
    once (every write is a transaction, so the archive stays sound)."""

    stopped_by: int | None = None

    def _signal_shutdown(self, signum, frame):
        self.stopped_by = signum
        super()._signal_shutdown(signum, frame)


def run_crawl(
    sources: list[Source], db_path: str | Path, overrides: dict | None = None, all_sources: list[Source] | None = None,
    finished: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Crawl ``sources`` into the archive at ``db_path``; returns their ``crawl_runs`` rows.

    Runs the Twisted reactor, so it can be called once per process (the CLI's case).
    A source whose spider never reported gets a row saying so, so none goes missing.
    ``finished`` is told each source's row as soon as its spider closes (the watch
    service schedules that source's next poll without waiting for the others).
    """
    crawl_id = uuid.uuid4().hex[:12]
    settings = crawl_settings(db_path, overrides)
    # The pipelines' shared connection, held open from before the first crawler starts
    # until after the last one ends.
    archive_key = settings.get("ARCHIVE_DB")
    writer = ArchiveWriter(ARCHIVES.acquire(archive_key))
    try:
        writer.close_interrupted_runs([source.id for source in sources])
        for source in all_sources or sources:
            writer.save_configured_source(source)

        process = StoppableCrawlerProcess(settings)
        names = provider_names(all_sources or sources)

        def make_source_spider(source: Source):
            """A source's spider, told what the archive already holds for it.

            Read when the source's turn comes, not for every source before the crawl:
            those id sets grow with the archive, and a source waiting its turn needs none.
            """
            known_complete, known_open = writer.archived_native_ids(source.id)
            extra = {"names": names} if source.kind == "news" else {}
            return spider_for(source.kind)(
                source=source,
                crawl_id=crawl_id,
                known_complete=known_complete,
                known_open=known_open,
                walk_state=writer.walk_state(source.id),
                body_digests=writer.body_digests(source.id),
                **extra,
            )

        def report_finished(source: Source) -> None:
            row = next(writer.db["crawl_runs"].rows_where("crawl_id = ? and source = ?", [crawl_id, source.id]), None)
            finished(row or never_started(source, process.stopped_by))

        # One crawler for every source; at most ARCHIVE_CONCURRENT_SOURCES of them open at
        # a time, so memory stays flat however many sources the file lists.
        crawling = process.crawl(SourcesSpider, sources=sources, make_source_spider=make_source_spider,
                                 finished=report_finished if finished is not None else None)
        crawling.addBoth(_stop_reactor)
        # What exists now (modules, settings, the archive's connection) lives as long as
        # the crawl: the collector need not scan it again on every collection.
        gc.freeze()
        process.start(stop_after_crawl=False)
    finally:
        ARCHIVES.release(archive_key)

    db = open_archive(db_path)
    # A crawler a signal caught while it was still starting never closes its spider: its
    # run is said to be interrupted here, not left "running".
    if process.stopped_by is not None:
        ArchiveWriter(db).close_unfinished_runs(crawl_id)
    if process.stopped_by is None:
        ArticleLinker(db).link_all()
        Attributor(db).attribute(since=changed_since(db, crawl_id))
    rows = {row["source"]: row for row in db["crawl_runs"].rows_where("crawl_id = ?", [crawl_id])}
    db.close()
    results = [rows.get(source.id) or never_started(source, process.stopped_by) for source in sources]
    if process.stopped_by is not None:
        raise CrawlInterrupted(process.stopped_by, results)
    return results


def never_started(source: Source, stopped_by: int | None) -> dict:
    if stopped_by is not None:
        return {"source": source.id, "outcome": "interrupted",
                "error": f"stopped by {signal.Signals(stopped_by).name} before this source started"}
    return {"source": source.id, "outcome": "failed", "error": "the spider did not start (see the log)"}
