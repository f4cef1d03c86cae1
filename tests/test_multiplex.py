"""One crawler for every source: what each source keeps to itself."""

from __future__ import annotations

from types import SimpleNamespace

from scrapy import Request
from scrapy.utils.request import RequestFingerprinter

from incident_archive.crawl.multiplex import SOURCE_META, SourceDupeFilter


def test_the_duplicate_filter_is_per_source_and_lets_go_of_a_closed_source():
    """Two sources may ask for the same URL; a source's repeat is dropped; once a source's
    run has closed, what it asked for is no longer kept (a backfill of a thousand
    sources made hundreds of thousands of requests)."""
    first, second = (SimpleNamespace(source=SimpleNamespace(id=name)) for name in ("first", "second"))
    dupefilter = SourceDupeFilter(RequestFingerprinter())

    def seen(source, url):
        return dupefilter.request_seen(Request(url, meta={SOURCE_META: source}))

    assert not seen(first, "http://127.0.0.1/api/v2/incidents.json")
    assert not seen(second, "http://127.0.0.1/api/v2/incidents.json")
    assert seen(first, "http://127.0.0.1/api/v2/incidents.json")
    dupefilter.forget(first)
    assert set(dupefilter.seen) == {"second"}
    assert seen(second, "http://127.0.0.1/api/v2/incidents.json")
