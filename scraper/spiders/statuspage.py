"""Atlassian Statuspage: summary, the 50 newest incidents, then the history walk."""

from __future__ import annotations

import scrapy

from scraper.parsers import ParseError
from scraper.parsers import statuspage as parse
from scraper.spiders.base import SourceSpider, describe_failure

JSON_HEADERS = {"Accept": "application/json"}


class StatuspageSpider(SourceSpider):
    """Crawls any page hosted on Atlassian Statuspage.

    ``/api/v2/incidents.json`` holds only the 50 newest incidents, with their updates.
    The rest of the history is listed by ``/history?page=N`` (three months a page, page
    1 newest) and each listed incident is fetched from ``/api/v2/incidents/<code>.json``
    unless the archive already has it finished. Once a source's history has been walked
    to the end, later crawls walk it only when the 50 newest are all new to the archive
    (and then stop at the first history page with nothing new); otherwise they fetch
    just the archived incidents still open that the 50 newest no longer list.
    """

    name = "statuspage"
    OPTIONS = {"history": bool}

    async def start(self):
        yield scrapy.Request(self.url("/api/v2/summary.json"), callback=self.parse_summary, errback=self.on_error)
        yield scrapy.Request(
            self.url("/api/v2/incidents.json"), callback=self.parse_incidents, errback=self.incidents_failed
        )

    def parse_summary(self, response):
        try:
            status, components = parse.parse_summary(response.body, self.source.id)
        except ParseError as error:
            self.report(error)
            return
        yield status
        yield from components

    def parse_incidents(self, response):
        try:
            incidents, problems = parse.parse_incident_list(response.body, self.source.id, self.source.url)
        except ParseError as error:
            yield from self.fall_back_to_atom(error.reason)
            return
        for problem in problems:
            self.report(problem)
        listed = set()
        for incident in incidents:
            incident.fresh = self.is_fresh(response)
            listed.add(incident.native_id)
            yield incident
        if not self.source.options.get("history", True):
            return
        if self.backfilled and listed & self.known_complete:
            # The newest incidents reach back to ones already archived, so nothing new
            # lies beyond them: no history walk, only the unfinished ones it would find.
            for code in sorted(self.known_open - listed):
                yield self.incident_request(code)
            return
        yield self.history_request(1, listed)

    def incidents_failed(self, failure):
        yield from self.fall_back_to_atom(describe_failure(failure))

    def fall_back_to_atom(self, reason: str):
        """The JSON API failed: the Atom feed still has the 25 newest incidents and their
        updates (no impact or components). The history walk goes on without them."""
        self.notes.append(f"incidents.json failed ({reason}); used /history.atom")
        yield scrapy.Request(self.url("/history.atom"), callback=self.parse_atom, errback=self.on_error)
        if self.source.options.get("history", True):
            yield self.history_request(1, set())

    def parse_atom(self, response):
        yield from self.incidents_from(response, parse.parse_history_atom, self.source.url)

    def history_request(self, page: int, listed: set[str]) -> scrapy.Request:
        return scrapy.Request(
            self.url(f"/history?page={page}"),
            headers=JSON_HEADERS,
            callback=self.parse_history,
            errback=self.on_error,
            cb_kwargs={"page": page, "listed": listed},
        )

    def parse_history(self, response, page: int, listed: set[str]):
        try:
            entries = parse.parse_history_page(response.body, self.source.id)
        except ParseError as error:
            self.report(error)
            return
        if not entries:
            self.history_complete = True
            return
        wanted = [e.code for e in entries if e.code not in self.known_complete and e.code not in listed]
        for code in wanted:
            yield self.incident_request(code)
        # Walk on until the pages reach incidents archived before (the newest pages may
        # list only incidents incidents.json already gave).
        reached = any(e.code in self.known_complete or e.code in self.known_open for e in entries)
        if wanted or not self.backfilled or not reached:
            yield self.history_request(page + 1, listed)

    def incident_request(self, code: str) -> scrapy.Request:
        return scrapy.Request(
            self.url(f"/api/v2/incidents/{code}.json"), callback=self.parse_incident, errback=self.on_error
        )

    def parse_incident(self, response):
        yield from self.incidents_from(response, lambda *args: [parse.parse_incident(*args)], self.source.url)
