"""Atlassian Statuspage: summary, the 50 newest incidents, then the history walk."""

from __future__ import annotations

import scrapy

from incident_archive.core.kinds import KINDS
from scrapy.exceptions import IgnoreRequest

from incident_archive.core.items import BodySeen, ListingItem
from incident_archive.crawl.parsers import ParseError
from incident_archive.crawl.parsers import statuspage as parse
from incident_archive.crawl.failures import describe_failure
from incident_archive.crawl.spiders.base import SourceSpider
from incident_archive.crawl.spiders.walk import month_of, this_month

JSON_HEADERS = {"Accept": "application/json"}


class StatuspageSpider(SourceSpider):
    """Crawls any page hosted on Atlassian Statuspage.

    ``/api/v2/incidents.json`` holds only the 50 newest incidents, with their updates.
    The rest of the history is listed by ``/history.json?page=N`` (three months a page,
    page 1 newest) and each listed incident is fetched from
    ``/api/v2/incidents/<code>.json`` unless the archive already has it finished. Where
    robots.txt forbids ``/api/`` (status.claude.com), the same data is read from outside
    it: ``/index.json``, the history walk, ``/incidents/<code>.json``. The walk ends at a page with no months
    at all, or after ``quiet_pages`` pages in a row with no incidents (a quiet quarter
    alone is not the end). A later crawl walks only when the 50 newest do not reach
    what the archive holds, and then down to the stretch already walked; an unfinished
    walk goes on where it stopped.
    """

    name = "statuspage"
    OPTIONS = KINDS["statuspage"].options
    # Public clients of history.json stop after several quarters in a row with no incidents.
    QUIET_PAGES = 8

    # Set once robots.txt is seen to forbid /api/: the data outside it is read instead.
    outside_api = False

    async def start(self):
        yield scrapy.Request(self.url("/api/v2/summary.json"), callback=self.parse_summary,
                             errback=self.summary_failed)
        yield scrapy.Request(
            self.url("/api/v2/incidents.json"), callback=self.parse_incidents, errback=self.incidents_failed
        )

    def parse_summary(self, response):
        taken_in, digest = self.taken_in(response, parse.parse_summary)
        if taken_in:  # the same status and components as archived
            return
        try:
            status, components = parse.parse_summary(response.body, self.source.id)
        except ParseError as error:
            self.skip(error)
            return
        yield status
        yield from components
        yield BodySeen(self.source.id, response.url, digest)

    def summary_failed(self, failure):
        if forbidden_by_robots(failure):
            self.outside_api = True
            self.report.noted("robots.txt forbids /api/; read /index.json, /history.json and /incidents/")
            yield scrapy.Request(self.url("/index.json"), callback=self.parse_summary, errback=self.on_error)
        else:
            self.on_error(failure)

    def parse_incidents(self, response):
        taken_in, digest = self.taken_in(response, parse.parse_incident_list)
        walking = self.source.options.get("history", True) and self.walk_state.unfinished
        if taken_in and not walking and all(f'"{code}"'.encode() in response.body for code in self.known_open):
            # The 50 newest exactly as the last poll that went well read them, every open
            # incident among them, no walk to resume: nothing to read or ask for.
            return
        try:
            incidents, problems = parse.parse_incident_list(response.body, self.source.id, self.source.url)
        except ParseError as error:
            yield from self.fall_back_to_atom(error.reason)
            return
        for problem in problems:
            self.skip(problem)
        incidents = list(self.once_each(incidents, response))
        listed = {incident.native_id for incident in incidents}
        if self.source.options.get("history", True):
            newest = max((i.created_at for i in incidents if i.created_at), default=None)
            # The walk's state is recorded before the incidents that may open a gap.
            yield from self.plan_walk(listed, month_of(newest) or this_month())
        if incidents and not problems:
            since = min((i.created_at for i in incidents if i.created_at), default=None)
            if since:
                yield ListingItem(self.source.id, sorted(listed), since)
        yield from incidents
        if not problems:
            yield BodySeen(self.source.id, response.url, digest)

    def plan_walk(self, listed: set[str], newest_month: str):
        """Begin a walk, resume the unfinished one, or need none (see the class)."""
        walk = self.start_walk(lambda page: int(page) + 1, self.source.options.get("quiet_pages", self.QUIET_PAGES))
        reaches_archive = bool(listed & self.known_complete or listed & self.known_open)
        if reaches_archive and self.walk_state.unfinished:
            walk.resume()
            yield self.history_request(int(self.walk_state.resume_at or 1), listed)
        elif reaches_archive and walk.covered_until:
            if state := walk.cover(newest_month):
                yield state
        else:
            yield walk.begin(newest_month, 1)
            yield self.history_request(1, listed)
            return
        # The newest incidents reach back to ones already archived: what they no longer
        # list but the archive holds unfinished is asked for directly.
        for code in sorted(self.known_open - listed):
            yield self.incident_request(code)

    def incidents_failed(self, failure):
        if forbidden_by_robots(failure):
            # No 50 newest: the history walk from its first page finds what is new, and
            # the archived incidents still open are asked for one by one.
            self.outside_api = True
            if self.source.options.get("history", True):
                yield from self.plan_walk(set(), this_month())
                self.walk.requested |= self.known_open  # asked for below, once
            for code in sorted(self.known_open):
                yield self.incident_request(code)
            return
        yield from self.fall_back_to_atom(describe_failure(failure))

    def fall_back_to_atom(self, reason: str):
        """The JSON API failed: the Atom feed still has the 25 newest incidents and their
        updates (no impact or components). The history walk goes on without them."""
        self.report.noted(f"incidents.json failed ({reason}); used /history.atom")
        if self.source.options.get("history", True):
            yield from self.plan_walk(set(), this_month())
        yield scrapy.Request(self.url("/history.atom"), callback=self.parse_atom, errback=self.on_error)

    def parse_atom(self, response):
        yield from self.incidents_from(response, parse.parse_history_atom, self.source.url)

    def history_request(self, page: int, listed: set[str]) -> scrapy.Request:
        return scrapy.Request(
            self.url(f"/history.json?page={page}"),
            headers=JSON_HEADERS,
            callback=self.parse_history,
            errback=self.history_failed,
            cb_kwargs={"page": page, "listed": listed},
        )

    def history_failed(self, failure):
        self.on_error(failure)
        self.walk.page_failed(failure.request.cb_kwargs["page"])

    def parse_history(self, response, page: int, listed: set[str]):
        try:
            history = parse.parse_history_page(response.body, self.source.id)
        except ParseError as error:
            self.skip(error)
            self.walk.page_failed(page)
            return
        codes = [e.code for e in history.entries]
        goes_on = self.walk.listed(page, history.months, codes, has_months=not history.past_the_end)
        for code in codes:
            if code not in self.known_complete and code not in listed and self.walk.wants(page, code):
                yield self.incident_request(code, page)
        if goes_on:
            yield self.history_request(page + 1, listed)
        else:
            self.walk_stopped()
        if state := self.walk.checkpoint():
            yield state

    def incident_request(self, code: str, page: int | None = None) -> scrapy.Request:
        path = f"/incidents/{code}.json" if self.outside_api else f"/api/v2/incidents/{code}.json"
        return scrapy.Request(
            self.url(path),
            callback=self.parse_incident,
            errback=self.incident_failed,
            cb_kwargs={"page": page, "code": code},
            dont_filter=page is not None,
        )

    def incident_failed(self, failure):
        self.on_error(failure)
        if (page := failure.request.cb_kwargs["page"]) is not None:
            self.walk.page_failed(page)

    def parse_incident(self, response, page: int | None, code: str):
        try:
            incident = parse.parse_incident(response.body, self.source.id, self.source.url)
        except ParseError as error:
            self.skip(error)
            if page is not None:
                self.walk.page_failed(page)
            return
        yield from self.once_each([incident], response)
        if page is not None and (state := self.walk.fetched(page, code)):
            yield state


def forbidden_by_robots(failure) -> bool:
    return isinstance(failure.value, IgnoreRequest) and "robots.txt" in str(failure.value)
