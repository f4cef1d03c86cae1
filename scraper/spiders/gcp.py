"""Google Cloud: one request, the rolling year of incidents."""

from __future__ import annotations

import scrapy

from scraper.parsers import ParseError
from scraper.parsers import gcp as parse
from scraper.spiders.base import SourceSpider


class GcpSpider(SourceSpider):
    name = "gcp"

    async def start(self):
        yield scrapy.Request(self.url("/incidents.json"), callback=self.parse_incidents, errback=self.on_error)

    def parse_incidents(self, response):
        try:
            incidents, problems = parse.parse_incidents(response.body, self.source.id, self.source.url)
        except ParseError as error:
            self.report(error)
            return
        for problem in problems:
            self.report(problem)
        for incident in incidents:
            incident.fresh = self.is_fresh(response)
            yield incident
