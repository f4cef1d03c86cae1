"""Google Cloud: one request, the rolling year of incidents."""

from __future__ import annotations

import scrapy

from scraper.parsers import gcp as parse
from scraper.spiders.base import SourceSpider


class GcpSpider(SourceSpider):
    name = "gcp"

    async def start(self):
        yield scrapy.Request(self.url("/incidents.json"), callback=self.parse_incidents, errback=self.on_error)

    def parse_incidents(self, response):
        yield from self.incidents_from(response, parse.parse_incidents, self.source.url)
