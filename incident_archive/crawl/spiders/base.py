"""What every source's spider shares: its source, its failures, and polite defaults.

A spider only knows URLs and pagination. Parsing is done by the pure functions in
:mod:`incident_archive.crawl.parsers`; storing by the one pipeline. Failures are collected here, with a
reason a person can act on, so the crawl goes on and the pipeline records them.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from urllib.parse import urlparse

import scrapy
from scrapy.statscollectors import StatsCollector

from incident_archive.core.items import BodySeen, WalkState
from incident_archive.core.sanity import absurd_times
from incident_archive.core.sources import Source
from incident_archive.crawl.failures import describe_failure
from incident_archive.crawl.origins import origin
from incident_archive.crawl.parsers import ParseError
from incident_archive.crawl.report import SourceReport
from incident_archive.crawl.spiders.walk import HistoryWalk


@functools.cache
def _code_digest(parser) -> bytes:
    module = inspect.getmodule(parser)
    return hashlib.sha256(inspect.getsource(module).encode()).digest() if module else b""


def body_digest(body: bytes, parser) -> str:
    """A body's digest, keyed with the parser's code: a changed parser reads it afresh."""
    return hashlib.sha256(_code_digest(parser) + body).hexdigest()


def as_set(ids) -> set[str] | frozenset[str]:
    return ids if isinstance(ids, (set, frozenset)) else set(ids or ())


class SourceSpider(scrapy.Spider):
    """Base of every kind's spider: one spider instance crawls one source, inside the one
    crawler that runs every source of a crawl (see :mod:`incident_archive.crawl.multiplex`).

    ``known_complete`` holds the native ids the archive already has finished, so a
    later crawl fetches only what is new or still open; ``known_open`` those it has
    unfinished; ``walk_state`` where the walk back through its history stands.
    """

    name = "source"
    # Extra fields a source of this kind may set in the sources file, with their types.
    OPTIONS: dict[str, type] = {}

    def __init__(
        self,
        source: Source,
        crawl_id: str = "",
        known_complete: set[str] | None = None,
        known_open: set[str] | None = None,
        walk_state: WalkState | None = None,
        body_digests: dict[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(name=source.id, **kwargs)
        self.source = source
        self.crawl_id = crawl_id
        # Read only: a set given is kept, not copied (the runner made it for this spider).
        self.known_complete = as_set(known_complete)
        self.known_open = as_set(known_open)
        # The walk back through the source's history, for kinds that paginate.
        self.walk_state = walk_state or WalkState(source.id, self.name)
        self.walk: HistoryWalk | None = None
        self.body_digests = body_digests or {}
        # No request leaves the hosts the sources file names (redirects included).
        self.allowed_domains = self.configured_hosts()

    def bind(self, crawler) -> None:
        """Attach to the crawl's crawler; the report and counts stay this source's own."""
        self.crawler = crawler
        self.settings = crawler.settings
        self.stats = StatsCollector(crawler)

    def configured_urls(self) -> list[str]:
        """The source's URL and any other URL its options name."""
        return [self.source.url] + [v for v in self.source.options.values() if isinstance(v, str) and "://" in v]

    def configured_hosts(self) -> list[str]:
        """The hosts of the configured URLs (Scrapy's offsite check allows their subdomains)."""
        return list(dict.fromkeys(h for url in self.configured_urls() if (h := urlparse(url).hostname)))

    def configured_origins(self) -> set[tuple]:
        """Scheme, host and port of every URL the source is configured with."""
        if not hasattr(self, "_origins"):
            self._origins = {origin(url) for url in self.configured_urls()}
        return self._origins

    @property
    def report(self) -> SourceReport:
        """This source's crawl report (in its own stats)."""
        return SourceReport(self.stats)

    def start_walk(self, next_page, quiet_pages: int | None = None) -> HistoryWalk:
        self.walk = HistoryWalk(self.walk_state, next_page, self.crawler.settings.getint("ARCHIVE_MAX_PAGES"),
                                quiet_pages)
        return self.walk

    def walk_stopped(self) -> None:
        """Name a walk that stopped for a reason of its own (a loop, the page limit)."""
        if self.walk is not None and self.walk.problem:
            self.report.failed(self.walk.problem)

    def url(self, path: str) -> str:
        return self.source.url.rstrip("/") + path

    def on_error(self, failure) -> None:
        """Errback for every request: record the reason, let the crawl go on."""
        self.report.failed(describe_failure(failure))

    def skip(self, problem: ParseError | str) -> None:
        """A malformed record or body: skipped, counted and reported."""
        self.report.skipped(problem.reason if isinstance(problem, ParseError) else str(problem))

    def incidents_from(self, response, parser, *args):
        """Run a parser on a response body; report what it could not read, yield the
        incidents it could, marked with whether the body was fetched afresh.

        ``parser`` returns incidents, or ``(incidents, problems)``.
        """
        try:
            result = parser(response.body, self.source.id, *args)
        except ParseError as error:
            self.skip(error)
            return
        yield from self.accept(result, response)

    def incidents_unless_seen(self, response, parser, *args):
        """``incidents_from`` for a page that sends no validators (so every poll downloads
        it whole): a body the archive already took in, read by the same parser code, is
        neither parsed nor written again."""
        taken_in, digest = self.taken_in(response, parser)
        if taken_in:
            self.report.noted(f"{response.url}: the same body as last time; not parsed again")
            return
        problems_before = self.report.marker()
        yield from self.incidents_from(response, parser, *args)
        if self.report.marker() == problems_before:
            yield BodySeen(self.source.id, response.url, digest)

    def taken_in(self, response, parser) -> tuple[bool, str]:
        """Whether the archive took in this very body at the last poll that went well (the
        same bytes, read by the same parser code), and the body's digest."""
        digest = body_digest(response.body, parser)
        return self.body_digests.get(response.url) == digest, digest

    def accept(self, result, response):
        """A parser's result: problems reported, incidents marked fresh or revalidated."""
        incidents, problems = result if isinstance(result, tuple) else (result, [])
        for problem in problems:
            self.skip(problem)
        yield from self.once_each(incidents, response)

    def once_each(self, incidents, response):
        """Each incident of a response once (the first copy), its times sane."""
        seen = set()
        for incident in incidents:
            if incident.native_id in seen:
                self.report.problem(f"{response.url}: incident {incident.native_id} appears twice; kept the first")
                continue
            seen.add(incident.native_id)
            for problem in absurd_times(incident):
                self.report.problem(problem)
            incident.fresh = self.is_fresh(response)
            yield incident

    @staticmethod
    def is_fresh(response) -> bool:
        """False when the body is a cached copy the server confirmed unchanged (304)."""
        return "cached" not in response.flags
