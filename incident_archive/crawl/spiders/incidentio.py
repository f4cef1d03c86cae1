"""incident.io status pages: the native JSON, month windows for the backfill, and the
Statuspage-compatible ``/api/v2`` endpoints as a fallback."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode, urlparse

import scrapy

from incident_archive.core.kinds import KINDS

from incident_archive.core.times import ISO_FORMAT, parse_time
from incident_archive.core.items import IncidentItem
from incident_archive.crawl.parsers import ParseError
from incident_archive.crawl.parsers import incidentio as parse
from incident_archive.crawl.parsers import statuspage as compat
from incident_archive.crawl.failures import describe_failure
from incident_archive.crawl.spiders.base import SourceSpider


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


def previous_month(month: str, step: int = 1) -> str:
    """``2024-01`` -> ``2023-12`` (``step`` -1 gives the next month)."""
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 - step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


class IncidentioSpider(SourceSpider):
    """Crawls any status page hosted on incident.io.

    The plain incidents listing holds the recent incidents. The first crawl then walks
    back month by month (``start_at``/``end_at`` windows, deduplicated by id) until
    ``empty_months`` months in a row have nothing or ``since`` is reached; later crawls
    walk back only when the listing does not reach the archive, down to the months
    already walked, and an unfinished walk goes on at the month where it stopped.
    """

    name = "incidentio"
    OPTIONS = KINDS["incidentio"].options

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
        """The page's own HTML embeds the native summary; the shim's summary has no groups."""
        self.report.noted(f"native summary failed ({reason}); used the page's HTML")
        yield scrapy.Request(self.url("/"), callback=self.parse_page_html, errback=self.page_html_failed,
                             dont_filter=True)

    def parse_page_html(self, response):
        try:
            summary = parse.summary_from_html(response.body, self.source.id)
            status, components = parse.parse_summary(summary, self.source.id)
        except ParseError as error:
            yield from self.fall_back_to_shim_summary(error.reason)
            return
        yield status
        yield from components

    def page_html_failed(self, failure):
        yield from self.fall_back_to_shim_summary(describe_failure(failure))

    def fall_back_to_shim_summary(self, reason: str):
        self.report.noted(f"page HTML failed ({reason}); used /api/v2/summary.json")
        yield scrapy.Request(self.url("/api/v2/summary.json"), callback=self.parse_compat_summary, errback=self.on_error)

    def parse_compat_summary(self, response):
        try:
            status, components = compat.parse_summary(response.body, self.source.id)
        except ParseError as error:
            self.skip(error)
            return
        yield status
        yield from components
        # The shim's summary lists the components shown on the page; components.json all.
        yield scrapy.Request(self.url("/api/v2/components.json"), callback=self.parse_compat_components,
                             errback=self.on_error)

    def parse_compat_components(self, response):
        try:
            yield from compat.parse_component_list(response.body, self.source.id)
        except ParseError as error:
            self.skip(error)

    # Incidents: the listing, then month windows; fallback to /api/v2/incidents.json ---

    def parse_listing(self, response):
        try:
            incidents, problems = parse.parse_incidents(response.body, self.source.id, self.source.url)
        except ParseError as error:
            yield from self.fall_back_incidents(error.reason)
            return
        incidents = list(self.unseen(self.accept((incidents, problems), response)))
        newest = max((parse_time(i.created_at) for i in incidents if i.created_at), default=None)
        yield from self.plan_walk({i.native_id for i in incidents}, newest or datetime.now(timezone.utc))
        yield from incidents

    def plan_walk(self, listed: set[str], newest: datetime):
        """Walk the month windows back from the newest month, resume an unfinished walk,
        or need none: as the Statuspage spider decides, with months for pages."""
        walk = self.start_walk(previous_month)
        reaches_archive = bool(listed & self.known_complete or listed & self.known_open)
        if reaches_archive and self.walk_state.unfinished:
            walk.resume()
            yield self.window_request(self.walk_state.resume_at, empty_in_a_row=0)
        elif reaches_archive and walk.covered_until:
            if state := walk.cover(newest.strftime("%Y-%m")):
                yield state
        else:
            top = newest.strftime("%Y-%m")
            yield walk.begin(top, top)
            yield self.window_request(top, empty_in_a_row=0)

    def listing_failed(self, failure):
        yield from self.fall_back_incidents(describe_failure(failure))

    def fall_back_incidents(self, reason: str):
        self.report.noted(f"native incidents failed ({reason}); used /api/v2/incidents.json")
        yield scrapy.Request(
            self.url("/api/v2/incidents.json"), callback=self.parse_compat_incidents, errback=self.compat_failed
        )

    def parse_compat_incidents(self, response):
        # The shim sends no validators: an unchanged body is neither parsed nor written.
        yield from self.unseen(self.incidents_unless_seen(response, parse.parse_shim_incidents, self.source.url))

    def compat_failed(self, failure):
        self.on_error(failure)
        self.report.noted("used /feed.atom")
        yield scrapy.Request(self.url("/feed.atom"), callback=self.parse_feed_atom, errback=self.on_error)

    def parse_feed_atom(self, response):
        yield from self.unseen(self.incidents_from(response, parse.parse_feed_atom, self.source.url))

    def window_request(self, month: str, empty_in_a_row: int):
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=timezone.utc)
        end = datetime.strptime(previous_month(month, -1), "%Y-%m").replace(tzinfo=timezone.utc)
        query = urlencode({"start_at": start.strftime(ISO_FORMAT), "end_at": end.strftime(ISO_FORMAT)})
        return scrapy.Request(
            self.proxy(f"/incidents?{query}"),
            callback=self.parse_window,
            errback=self.window_failed,
            cb_kwargs={"month": month, "empty_in_a_row": empty_in_a_row},
        )

    def window_failed(self, failure):
        self.on_error(failure)
        self.walk.page_failed(failure.request.cb_kwargs["month"])

    def parse_window(self, response, month: str, empty_in_a_row: int):
        try:
            result = parse.parse_incidents(response.body, self.source.id, self.source.url)
        except ParseError as error:
            self.skip(error)
            self.walk.page_failed(month)
            return
        incidents = list(self.accept(result, response))
        yield from self.unseen(incidents)
        empty_in_a_row = 0 if incidents else empty_in_a_row + 1
        past_oldest = self.oldest_seen is None or f"{month}-01T00:00:00Z" <= self.oldest_seen
        codes = sorted(i.native_id for i in incidents)
        goes_on = self.walk.listed(month, [month], codes)
        if month <= self.since.strftime("%Y-%m") or (
                past_oldest and self.empty_months and empty_in_a_row >= self.empty_months):
            goes_on = self.walk.end(month, reached_end=True)
        if goes_on:
            yield self.window_request(previous_month(month), empty_in_a_row)
        else:
            self.walk_stopped()
        if state := self.walk.checkpoint():
            yield state

    def unseen(self, incidents):
        """Each incident once per crawl, however many windows list it."""
        for incident in incidents:
            if not isinstance(incident, IncidentItem):
                yield incident
                continue
            if incident.native_id in self.seen:
                continue
            self.seen.add(incident.native_id)
            if incident.created_at and (self.oldest_seen is None or incident.created_at < self.oldest_seen):
                self.oldest_seen = incident.created_at
            yield incident
