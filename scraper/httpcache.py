"""The HTTP cache, safe against being killed mid-write.

Scrapy's filesystem storage writes an entry as several files in one folder; a crawl
killed in between leaves an entry whose metadata is whole but whose body is cut short,
and the next crawl, told "304 Not Modified", would parse that stub. Here an entry is
written to a staging folder and renamed into place, so an entry is either whole or
absent; and an entry that cannot be read at all counts as absent.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from scrapy.extensions.httpcache import FilesystemCacheStorage

logger = logging.getLogger(__name__)


class TolerantFilesystemCacheStorage(FilesystemCacheStorage):
    def store_response(self, spider, request, response):
        final = Path(self._get_request_path(spider, request))
        staging = final.with_name(f"{final.name}.partial-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        # The parent writes where _get_request_path points: point it at the staging folder.
        self._get_request_path = lambda *args: str(staging)
        try:
            super().store_response(spider, request, response)
        finally:
            del self._get_request_path
        if final.exists():
            retired = final.with_name(f"{final.name}.old-{os.getpid()}")
            os.replace(final, retired)  # killed here: the entry is absent, and refetched
            os.replace(staging, final)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, final)

    def retrieve_response(self, spider, request):
        try:
            return super().retrieve_response(spider, request)
        except Exception as error:  # an entry damaged some other way: any reading error
            logger.warning("damaged HTTP cache entry for %s ignored: %r", request.url, error)
            spider.crawler.stats.inc_value("httpcache/damaged")
            return None
