"""AWS Health Dashboard: current events, and optionally history events and the legacy
``data.json`` (each at a URL of its own: AWS serves history from another host)."""

from __future__ import annotations

import scrapy

from incident_archive.core.kinds import KINDS

from incident_archive.crawl.parsers import aws as parse
from incident_archive.crawl.spiders.base import SourceSpider


class AwsSpider(SourceSpider):
    name = "aws"
    OPTIONS = KINDS["aws"].options

    async def start(self):
        yield scrapy.Request(self.url("/public/currentevents"), callback=self.parse_events, errback=self.on_error)
        if self.source.options.get("history_url"):
            yield scrapy.Request(self.source.options["history_url"], callback=self.parse_events, errback=self.on_error)
        if self.source.options.get("legacy_url"):
            yield scrapy.Request(self.source.options["legacy_url"], callback=self.parse_legacy, errback=self.on_error)
        if self.source.options.get("rss_url"):
            yield scrapy.Request(self.source.options["rss_url"], callback=self.parse_rss, errback=self.on_error)

    def parse_events(self, response):
        yield from self.incidents_from(response, parse.parse_events, self.dashboard)

    def parse_legacy(self, response):
        yield from self.incidents_from(response, parse.parse_legacy, self.dashboard)

    def parse_rss(self, response):
        yield from self.incidents_from(response, parse.parse_rss, self.dashboard)

    @property
    def dashboard(self) -> str:
        """Where a person reads an event: the dashboard page, not the JSON."""
        return self.url("/health/status")
