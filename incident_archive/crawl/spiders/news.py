"""News: one feed per source; the entries about an outage of a tracked provider, and
each such article's page."""

from __future__ import annotations

import re

import scrapy

from incident_archive.core.kinds import KINDS

from incident_archive.crawl.parsers import ParseError
from incident_archive.crawl.parsers import news as parse
from incident_archive.crawl.parsers.articles import extract_article
from incident_archive.crawl.failures import describe_failure
from incident_archive.crawl.spiders.base import SourceSpider


class NewsSpider(SourceSpider):
    """``url`` is the feed. ``names`` (providers, products, aliases) are given by the
    runner from the sources file and the archive's components."""

    name = "news"
    OPTIONS = KINDS["news"].options

    def __init__(self, *args, names: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.names = names or []
        self.articles_fetched = 0

    def configured_hosts(self) -> list[str]:
        """The feed's host, and where its articles live: ``article_hosts``, or by default
        the feed's domain without a leading www/feeds/rss (feeds.arstechnica.com links to
        arstechnica.com and its subdomains)."""
        hosts = super().configured_hosts()
        feed_host = hosts[0] if hosts else ""
        site = re.sub(r"^(www|feeds?|rss)\.", "", feed_host)
        return list(dict.fromkeys(hosts + [site] + self.source.options.get("article_hosts", [])))

    async def start(self):
        yield scrapy.Request(self.source.url, callback=self.parse_feed, errback=self.on_error)

    def parse_feed(self, response):
        try:
            entries = parse.parse_feed(response.body, self.source.id)
        except ParseError as error:
            self.skip(error)
            return
        for entry in entries:
            if not parse.is_about_outage(entry, self.names):
                continue
            yield scrapy.Request(
                entry.url,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"entry": entry},
            )

    def parse_article(self, response, entry):
        extracted = extract_article(response.body, response.url)
        item = parse.article_from(entry, self.source.id, extracted, None)
        item.outlet = item.outlet or self.source.options.get("outlet") or self.source.name
        item.fresh = self.is_fresh(response)
        yield item

    def article_failed(self, failure):
        """A paywalled or broken page: keep what the feed gave, and say why."""
        entry = failure.request.cb_kwargs["entry"]
        reason = describe_failure(failure)
        self.report.noted(f"article kept from the feed only: {reason}")
        item = parse.article_from(entry, self.source.id, None, reason)
        item.outlet = self.source.options.get("outlet") or self.source.name
        yield item
