"""Google Cloud: one request, the rolling window of incidents (a few months deep in 2026):
an incident that leaves it stays archived, unchanged."""

from __future__ import annotations

import scrapy

from incident_archive.crawl.parsers import gcp as parse
from incident_archive.crawl.spiders.base import SourceSpider


class GcpSpider(SourceSpider):
    name = "gcp"

    async def start(self):
        yield scrapy.Request(self.url("/incidents.json"), callback=self.parse_incidents, errback=self.on_error)

    def parse_incidents(self, response):
        # Google sends Last-Modified but ignores If-Modified-Since: every poll downloads the
        # whole window, and a body already taken in is neither parsed nor written again.
        yield from self.incidents_unless_seen(response, parse.parse_incidents, self.source.url)
