"""incident.io status pages: the native JSON, month windows for the backfill, and the
Statuspage-compatible ``/api/v2`` endpoints as a fallback."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode, urlparse

import scrapy

from archive.times import ISO_FORMAT, parse_time
from scraper.parsers import ParseError
from scraper.parsers import incidentio as parse
from scraper.parsers import statuspage as compat
from scraper.spiders.base import SourceSpider, describe_failure


# incident.io status pages began in 2021; OpenAI's migrated history reaches back to 2021.
DEFAULT_SINCE = "2020-01-01"


def month_windows(newest: datetime):
    """Calendar months, newest first, from the month of ``newest`` back: (start, end) pairs."""
    year, month = newest.year, newest.month
    while True:
        start = datetime(year, month, 1, tzinfo=timezone.utc)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
        yield start, end
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)


class IncidentioSpider(SourceSpider):
    """Crawls any status page hosted on incident.io.

    The plain incidents listing holds the recent incidents. The first crawl then walks
    back month by month (``start_at``/``end_at`` windows, deduplicated by id) until
    ``empty_months`` months in a row have nothing or ``since`` is reached; later crawls
    walk back only while a month still has something new or unfinished.
    """

    name = "incidentio"
    OPTIONS = {"proxy_host": str, "since": str, "empty_months": int}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        options = self.source.options
        self.proxy_host = options.get("proxy_host") or urlparse(self.source.url).hostname
        self.since = parse_time(options.get("since", DEFAULT_SINCE))
        self.empty_months = options.get("empty_months")
        self.seen: set[str] = set()
        self.oldest_seen: str | None = None

    def proxy(self, path: str = "") -> str:
        return self.url(f"/proxy/{self.proxy_host}{path}")

    async def start(self):
        yield scrapy.Request(self.proxy(), callback=self.parse_summary, errback=self.summary_failed)
        yield scrapy.Request(self.proxy("/incidents"), callback=self.parse_listing, errback=self.listing_failed)

    # Summary, with the Statuspage-compatible fallback ---------------------------------

    def parse_summary(self, response):
        try:
            status, components = parse.parse_summary(response.body, self.source.id)
        except ParseError as error:
            yield from self.fall_back_summary(error.reason)
            return
        yield status
        yield from components

    def summary_failed(self, failure):
        yield from self.fall_back_summary(describe_failure(failure))

    def fall_back_summary(self, reason: str):
        self.notes.append(f"native summary failed ({reason}); used /api/v2/summary.json")
        yield scrapy.Request(self.url("/api/v2/summary.json"), callback=self.parse_compat_summary, errback=self.on_error)

    def parse_compat_summary(self, response):
        try:
            status, components = compat.parse_summary(response.body, self.source.id)
        except ParseError as error:
            self.report(error)
            return
        yield status
        yield from components

    # Incidents: the listing, then month windows; fallback to /api/v2/incidents.json ---

    def parse_listing(self, response):
        try:
            incidents, problems = parse.parse_incidents(response.body, self.source.id, self.source.url)
        except ParseError as error:
            yield from self.fall_back_incidents(error.reason)
            return
        yield from self.unseen(self.accept((incidents, problems), response))
        newest = max((parse_time(i.created_at) for i in incidents if i.created_at), default=None)
        windows = month_windows(newest or datetime.now(timezone.utc))
        yield self.window_request(windows, empty_in_a_row=0)

    def listing_failed(self, failure):
        yield from self.fall_back_incidents(describe_failure(failure))

    def fall_back_incidents(self, reason: str):
        self.notes.append(f"native incidents failed ({reason}); used /api/v2/incidents.json")
        yield scrapy.Request(
            self.url("/api/v2/incidents.json"), callback=self.parse_compat_incidents, errback=self.on_error
        )

    def parse_compat_incidents(self, response):
        yield from self.unseen(self.incidents_from(response, compat.parse_incident_list, self.source.url))

    def window_request(self, windows, empty_in_a_row: int):
        start, end = next(windows)
        query = urlencode({"start_at": start.strftime(ISO_FORMAT), "end_at": end.strftime(ISO_FORMAT)})
        return scrapy.Request(
            self.proxy(f"/incidents?{query}"),
            callback=self.parse_window,
            errback=self.on_error,
            cb_kwargs={"windows": windows, "start": start, "empty_in_a_row": empty_in_a_row},
        )

    def parse_window(self, response, windows, start, empty_in_a_row):
        # An unreadable month is reported and walked past: the other months still count.
        incidents = list(self.incidents_from(response, parse.parse_incidents, self.source.url))
        wanted = [i for i in incidents if i.native_id not in self.known_complete]
        yield from self.unseen(incidents)
        empty_in_a_row = 0 if incidents else empty_in_a_row + 1
        past_oldest = self.oldest_seen is None or start.strftime(ISO_FORMAT) <= self.oldest_seen
        if start <= self.since or (past_oldest and self.empty_months and empty_in_a_row >= self.empty_months):
            self.history_complete = True
            return
        if self.backfilled and not wanted:
            return
        yield self.window_request(windows, empty_in_a_row)

    def unseen(self, incidents):
        """Each incident once per crawl, however many windows list it."""
        for incident in incidents:
            if incident.native_id in self.seen:
                continue
            self.seen.add(incident.native_id)
            if incident.created_at and (self.oldest_seen is None or incident.created_at < self.oldest_seen):
                self.oldest_seen = incident.created_at
            yield incident
