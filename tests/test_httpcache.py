"""The HTTP cache storage: what Scrapy's RFC 2616 policy stores is what it reads back."""

from types import SimpleNamespace

from scrapy import Request
from scrapy.http import Response
from scrapy.utils.request import RequestFingerprinter

from incident_archive.crawl.httpcache import SqliteCacheStorage
from incident_archive.crawl.runner import crawl_settings


def open_storage(db_path):
    spider = SimpleNamespace(crawler=SimpleNamespace(request_fingerprinter=RequestFingerprinter(),
                                                     stats=SimpleNamespace(inc_value=lambda *a: None)))
    storage = SqliteCacheStorage(crawl_settings(db_path))
    storage.open_spider(spider)
    return storage, spider


def test_a_revalidated_copy_keeps_its_body_and_takes_the_304s_headers(tmp_path):
    """After a 304 Scrapy stores the cached copy again with the 304's headers merged in;
    the storage then rewrites only headers and time, and the body reads back whole."""
    storage, spider = open_storage(tmp_path / "a.db")
    request = Request("http://127.0.0.1/api/v2/incidents.json")
    body = b'{"incidents": []}' * 500
    storage.store_response(spider, request, Response(request.url, body=body, headers={"ETag": '"v1"', "Date": "d1"}))
    cached = storage.retrieve_response(spider, request)
    first_stored = request.meta["cache_timestamp"]
    cached.flags.append("cached")  # as the cache middleware marks it
    cached.headers["Date"] = "d2"  # the 304's headers, merged by the middleware
    storage.store_response(spider, request, cached)

    again = storage.retrieve_response(spider, request)
    assert again.body == body
    assert again.headers[b"Date"] == b"d2" and again.headers[b"ETag"] == b'"v1"'
    assert request.meta["cache_timestamp"] >= first_stored
    stored = storage.db.execute("select count(*), min(length(body)) from responses").fetchone()
    storage.close_spider(spider)
    assert stored[0] == 1 and stored[1] < len(body)  # still one entry, still compressed


def test_a_cached_copy_whose_entry_is_gone_is_stored_whole(tmp_path):
    """If the entry vanished between reading and storing (the cache file replaced), the
    copy is written in full rather than lost."""
    storage, spider = open_storage(tmp_path / "a.db")
    request = Request("http://127.0.0.1/api/v2/summary.json")
    response = Response(request.url, body=b'{"page": {}}', headers={"ETag": '"v1"'}, flags=["cached"])
    storage.store_response(spider, request, response)
    again = storage.retrieve_response(spider, request)
    storage.close_spider(spider)
    assert again.body == b'{"page": {}}'
