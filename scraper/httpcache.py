"""The HTTP cache, tolerant of its own damage.

A crawl killed while the cache was writing leaves a half-written entry; Scrapy's
filesystem storage would then fail every later request for that URL. A damaged entry
is treated as absent: the page is fetched again and the entry rewritten.
"""

from __future__ import annotations

import logging

from scrapy.extensions.httpcache import FilesystemCacheStorage

logger = logging.getLogger(__name__)


class TolerantFilesystemCacheStorage(FilesystemCacheStorage):
    def retrieve_response(self, spider, request):
        try:
            return super().retrieve_response(spider, request)
        except Exception as error:  # a truncated pickle or body: any reading error
            logger.warning("damaged HTTP cache entry for %s ignored: %r", request.url, error)
            spider.crawler.stats.inc_value("httpcache/damaged")
            return None
