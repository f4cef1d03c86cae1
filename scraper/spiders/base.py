"""What every source's spider shares: its source, its failures, and polite defaults.

A spider only knows URLs and pagination. Parsing is done by the pure functions in
:mod:`scraper.parsers`; storing by the one pipeline. Failures are collected here, with a
reason a person can act on, so the crawl goes on and the pipeline records them.
"""

from __future__ import annotations

import scrapy
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)

from scraper.parsers import ParseError
from scraper.sources import Source


def describe_failure(failure) -> str:
    """A short, actionable reason for a failed request."""
    request = getattr(failure, "request", None)
    url = request.url if request is not None else "request"
    if failure.check(HttpError):
        response = failure.value.response
        reason = f"HTTP {response.status}"
        retry_after = response.headers.get(b"Retry-After")
        if retry_after:
            reason += f" (Retry-After: {retry_after.decode('latin-1')})"
        return f"{response.url}: {reason}"
    if failure.check(DNSLookupError):
        return f"{url}: could not reach the host (DNS lookup failed; is the network up?)"
    if failure.check(ConnectionRefusedError):
        return f"{url}: could not reach the host (connection refused)"
    if failure.check(TimeoutError, TCPTimedOutError):
        return f"{url}: could not reach the host (timed out)"
    message = failure.getErrorMessage() or failure.type.__name__
    return f"{url}: {failure.type.__name__}: {message}"


class SourceSpider(scrapy.Spider):
    """Base of every kind's spider: one spider instance crawls one source.

    ``known_complete`` holds the native ids the archive already has finished, so a
    later crawl fetches only what is new or still open; ``backfilled`` says whether an
    earlier crawl walked the whole history to its end.
    """

    name = "source"
    # Extra fields a source of this kind may set in the sources file, with their types.
    OPTIONS: dict[str, type] = {}

    def __init__(
        self,
        source: Source,
        crawl_id: str = "",
        known_complete: set[str] | None = None,
        backfilled: bool = False,
        **kwargs,
    ):
        super().__init__(name=source.id, **kwargs)
        self.source = source
        self.crawl_id = crawl_id
        self.known_complete = set(known_complete or ())
        self.backfilled = backfilled
        self.errors: list[str] = []
        self.skipped = 0
        # Set by a spider that walked its source's whole history to the end.
        self.history_complete = False

    def url(self, path: str) -> str:
        return self.source.url.rstrip("/") + path

    def on_error(self, failure) -> None:
        """Errback for every request: record the reason, let the crawl go on."""
        self.errors.append(describe_failure(failure))

    def report(self, problem: ParseError | str) -> None:
        """A malformed record or body: skipped, counted and reported."""
        self.skipped += 1
        self.errors.append(problem.reason if isinstance(problem, ParseError) else str(problem))

    @staticmethod
    def is_fresh(response) -> bool:
        """False when the body is a cached copy the server confirmed unchanged (304)."""
        return "cached" not in response.flags
