"""Microsoft Azure: the RSS feed of active incidents, then the status-history pages."""

from __future__ import annotations

import scrapy

from scraper.azure_site import FEED_PATH, HISTORY_PATH, HISTORY_QUERY
from scraper.parsers import ParseError
from scraper.parsers import azure as parse
from scraper.spiders.base import SourceSpider


class AzureSpider(SourceSpider):
    """The first crawl walks the history to its first empty page; later crawls stop at the
    first page with nothing new (page 1 is always read: a final review replaces a
    preliminary one there)."""

    name = "azure"

    async def start(self):
        # The feed first, then the history: a review (over) must land after the feed's
        # copy (ongoing) of the same incident, never before it.
        yield scrapy.Request(self.url(FEED_PATH), callback=self.parse_feed, errback=self.feed_failed)

    def feed_failed(self, failure):
        self.on_error(failure)
        yield self.history_request(1)

    def history_request(self, page: int) -> scrapy.Request:
        return scrapy.Request(
            self.url(f"{HISTORY_PATH}?{HISTORY_QUERY.format(page=page)}"),
            callback=self.parse_history,
            errback=self.on_error,
            cb_kwargs={"page": page},
        )

    def parse_feed(self, response):
        yield from self.incidents_from(response, parse.parse_feed, self.source.url)
        yield self.history_request(1)

    def parse_history(self, response, page: int):
        try:
            incidents = parse.parse_history_page(response.body, self.source.id, self.source.url)
        except ParseError as error:
            self.report(error)
            return
        if not incidents:
            self.history_complete = True
            return
        yield from self.accept(incidents, response)
        if not self.backfilled or any(i.native_id not in self.known_complete for i in incidents):
            yield self.history_request(page + 1)
