"""Microsoft Azure: the RSS feed of active incidents, then the status-history pages."""

from __future__ import annotations

import scrapy

from incident_archive.crawl.parsers import ParseError
from incident_archive.crawl.parsers import azure as parse
from incident_archive.crawl.spiders.base import SourceSpider
from incident_archive.crawl.spiders.walk import month_of, this_month


# The status-history endpoint the page's own script calls, and the feed of active incidents.
HISTORY_PATH = "/en-us/statushistoryapi/"
HISTORY_QUERY = "serviceSlug=all&regionSlug=all&startDate=all&page={page}"
FEED_PATH = "/en-us/status/feed/"


class AzureSpider(SourceSpider):
    """The feed of active incidents, then the status history (post-incident reviews),
    newest page first, to the first page with no items. Page 1 is always read (a final
    review replaces a preliminary one there); a later crawl walks down to the pages
    already walked, and an unfinished walk goes on at the page where it stopped."""

    name = "azure"

    async def start(self):
        # The feed first, then the history: a review (over) must land after the feed's
        # copy (ongoing) of the same incident, never before it.
        yield scrapy.Request(self.url(FEED_PATH), callback=self.parse_feed, errback=self.feed_failed)

    def feed_failed(self, failure):
        self.on_error(failure)
        yield from self.begin_walk()

    def parse_feed(self, response):
        yield from self.incidents_from(response, parse.parse_feed, self.source.url)
        yield from self.begin_walk()

    def begin_walk(self):
        walk = self.start_walk(lambda page: int(page) + 1)
        self.resume_at = int(self.walk_state.resume_at) if self.walk_state.unfinished else None
        if self.resume_at is None:
            yield walk.begin(this_month(), 1)
        else:
            walk.resume()
        yield self.history_request(1)

    def history_request(self, page: int) -> scrapy.Request:
        return scrapy.Request(
            self.url(f"{HISTORY_PATH}?{HISTORY_QUERY.format(page=page)}"),
            callback=self.parse_history,
            errback=self.history_failed,
            cb_kwargs={"page": page},
        )

    def history_failed(self, failure):
        self.on_error(failure)
        self.walk.page_failed(failure.request.cb_kwargs["page"])

    def parse_history(self, response, page: int):
        try:
            incidents = parse.parse_history_page(response.body, self.source.id, self.source.url)
        except ParseError as error:
            self.skip(error)
            self.walk.page_failed(page)
            return
        incidents = list(self.once_each(incidents, response))
        months = sorted({m for i in incidents if (m := month_of(i.created_at or i.started_at))}, reverse=True)
        codes = [i.native_id for i in incidents]
        goes_on = self.walk.listed(page, months, codes, has_months=bool(incidents))
        yield from incidents
        nothing_new = all(code in self.known_complete for code in codes)
        if goes_on and self.resume_at and page + 1 < self.resume_at and nothing_new:
            # The newest pages reach what the unfinished walk already took in: on from where it stopped.
            page, self.resume_at = self.resume_at - 1, None
        if goes_on:
            yield self.history_request(page + 1)
        else:
            self.walk_stopped()
        if state := self.walk.checkpoint():
            yield state
