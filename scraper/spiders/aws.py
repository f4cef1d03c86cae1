"""AWS Health Dashboard: current events, and optionally history events and the legacy
``data.json`` (each at a URL of its own: AWS serves history from another host)."""

from __future__ import annotations

import scrapy

from scraper.parsers import ParseError
from scraper.parsers import aws as parse
from scraper.spiders.base import SourceSpider


class AwsSpider(SourceSpider):
    name = "aws"
    OPTIONS = {"history_url": str, "legacy_url": str, "rss_url": str}

    async def start(self):
        yield scrapy.Request(self.url("/public/currentevents"), callback=self.parse_events, errback=self.on_error)
        if self.source.options.get("history_url"):
            yield scrapy.Request(self.source.options["history_url"], callback=self.parse_events, errback=self.on_error)
        if self.source.options.get("legacy_url"):
            yield scrapy.Request(self.source.options["legacy_url"], callback=self.parse_legacy, errback=self.on_error)
        if self.source.options.get("rss_url"):
            yield scrapy.Request(self.source.options["rss_url"], callback=self.parse_rss, errback=self.on_error)

    def parse_events(self, response):
        yield from self.emit(parse.parse_events, response)

    def parse_legacy(self, response):
        yield from self.emit(parse.parse_legacy, response)

    def parse_rss(self, response):
        yield from self.emit(lambda *args: (parse.parse_rss(*args), []), response)

    def emit(self, parser, response):
        try:
            incidents, problems = parser(response.body, self.source.id, self.source.url + "/health/status")
        except ParseError as error:
            self.report(error)
            return
        for problem in problems:
            self.report(problem)
        for incident in incidents:
            incident.fresh = self.is_fresh(response)
            yield incident
