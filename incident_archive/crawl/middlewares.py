"""Retries that back off: exponentially, and as long as a server's ``Retry-After`` asks.

Scrapy's own RetryMiddleware retries at once; a status page that answers 429 or 503 is
asking us to wait, and a politer crawler is one that does.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.response import response_status_message

from incident_archive.crawl.failures import CANNOT_RESOLVE, describe_exception
from incident_archive.crawl.origins import DEFAULT_PORTS, origin
from incident_archive.crawl.multiplex import source_of


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds, or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry like Scrapy does, but wait first: ``Retry-After`` when the server gives one
    (capped at ``ARCHIVE_RETRY_AFTER_MAX``), else ``ARCHIVE_RETRY_BACKOFF_BASE * 2**n`` with jitter
    (capped at ``ARCHIVE_RETRY_BACKOFF_MAX``). Each wait is counted in the crawl's stats."""

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("ARCHIVE_RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("ARCHIVE_RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("ARCHIVE_RETRY_AFTER_MAX", 120.0)

    def retry(self, request, reason):
        """The retry Scrapy would make (its public helper), or None once retries are spent."""
        return get_retry_request(request, spider=self.crawler.spider, reason=reason,
                                 max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
                                 priority_adjust=request.meta.get("priority_adjust", self.priority_adjust))

    def delay(self, request, response=None) -> float:
        asked = retry_after_seconds(response.headers.get(b"Retry-After")) if response is not None else None
        if asked is not None:
            return min(asked, self.retry_after_max)
        attempt = request.meta.get("retry_times", 0)
        return min(self.backoff_max, self.base * 2**attempt) * random.uniform(0.8, 1.2)

    async def wait(self, seconds: float) -> None:
        self.crawler.stats.inc_value("retry/backoff_seconds", round(seconds, 3))
        await asyncio.sleep(seconds)

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self.retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await self.wait(self.delay(request, response))
        return retry

    async def process_exception(self, request, exception, spider=None):
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        if isinstance(exception, CANNOT_RESOLVE):
            return None  # a name that does not resolve now will not a second later: fail once

        retry = self.retry(request, exception)
        if retry is None:
            return None
        await self.wait(self.delay(request))
        return retry


class NetworkRecorder:
    """Closest to the network: counts the requests that go out, for the source that made
    each (robots.txt for the source that first needed it), and notes why a download
    failed before the HTTP cache (which answers a failed revalidation with its last good
    copy) hides the failure."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        if (source := source_of(request)) is not None:
            source.stats.inc_value("network/requests")
        elif source := self.crawler.spider.first_source_at(request.url):
            source.stats.inc_value("network/requests")
        return None

    def process_exception(self, request, exception, spider=None):
        if (source := source_of(request)) is not None:
            source.report.download_failed(describe_exception(exception, request))
        return None


class ConfiguredOrigins:
    """The offsite check, per source: a request goes only to the hosts its source names
    (and their subdomains, as Scrapy's own check allows), and a configured host only at
    the scheme and port a configured URL names; any other allowed host (a news feed's
    article hosts) only at its scheme's default port. Scrapy's check reads one spider's
    ``allowed_domains``; here one crawler serves every source, and Scrapy's compares
    host names only, so it would follow a redirect to another port."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request, spider=None):
        source = source_of(request)
        if source is None:
            return None  # Scrapy's own (robots.txt), for the origin of a request already allowed
        scheme, host, port = origin(request.url)
        at_host = {(s, p) for s, h, p in source.configured_origins() if h == host}
        if (scheme, port) in at_host or not at_host and port == DEFAULT_PORTS.get(scheme) and allowed_host(
                host, source.allowed_domains):
            return None
        self.stats.inc_value("offsite/filtered")
        source.stats.inc_value("offsite/filtered")
        raise IgnoreRequest(f"offsite: {scheme}://{urlsplit(request.url).netloc} is not a configured origin")


def allowed_host(host: str, hosts: list[str]) -> bool:
    """``host`` is one of ``hosts`` or a subdomain of one (Scrapy's offsite rule)."""
    return any(host == allowed or host.endswith("." + allowed) for allowed in hosts)
