"""Scrapy settings: polite by default, conditional requests through the HTTP cache.

The runner adds ``ARCHIVE_DB`` and ``HTTPCACHE_DIR`` (next to the archive file).
"""

BOT_NAME = "incident-archive"
SPIDER_MODULES = ["incident_archive.crawl.spiders"]
NEWSPIDER_MODULE = "incident_archive.crawl.spiders"

USER_AGENT = "incident-archive/0.1 (status-page incident archiver; +https://pypi.org/project/incident-archive/)"

# Politeness: robots.txt, an adaptive delay, a few connections per host, retries.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
# One crawler serves every source of a crawl (crawl/multiplex.py): these limits are for
# all of them together, and each host gets at most CONCURRENT_REQUESTS_PER_DOMAIN.
CONCURRENT_REQUESTS = 512
# Sources crawled at the same time; the rest wait their turn.
ARCHIVE_CONCURRENT_SOURCES = 128
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy's duplicate filter, per source (two sources may ask for the same URL).
DUPEFILTER_CLASS = "incident_archive.crawl.multiplex.SourceDupeFilter"
RETRY_ENABLED = True
RETRY_TIMES = 3
# Waits between retries: Retry-After when given, else 1 s, 2 s, 4 s ... (see middlewares.py).
ARCHIVE_RETRY_BACKOFF_BASE = 1.0
ARCHIVE_RETRY_BACKOFF_MAX = 60.0
ARCHIVE_RETRY_AFTER_MAX = 120.0
REDIRECT_MAX_TIMES = 5
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    # Status pages need neither cookies nor HTTP auth.
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "incident_archive.crawl.middlewares.BackoffRetryMiddleware": 550,
    # Scrapy's offsite check reads one spider's allowed_domains and compares host names
    # only; ours reads each request's source and compares scheme, host and port.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "incident_archive.crawl.middlewares.ConfiguredOrigins": 51,
    # Scrapy's HTTP cache, its counts kept per source as well.
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
    "incident_archive.crawl.httpcache.SourceHttpCache": 900,
    "incident_archive.crawl.middlewares.NetworkRecorder": 950,
}
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024

# Conditional requests: the RFC 2616 policy revalidates with If-None-Match and
# If-Modified-Since, so an unchanged page costs a 304 and no parsing surprises.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "incident_archive.crawl.httpcache.PollingCachePolicy"
# robots.txt is trusted this long after it was last fetched (RFC 9309 allows a day).
ARCHIVE_ROBOTSTXT_MAX_AGE = 86400
HTTPCACHE_STORAGE = "incident_archive.crawl.httpcache.SqliteCacheStorage"
HTTPCACHE_GZIP = True

ITEM_PIPELINES = {"incident_archive.crawl.pipelines.ArchivePipeline": 300}
# Items of one response go through the pipeline one at a time, in the page's order: the
# pipeline is synchronous, so Scrapy's default of 100 only made 100 asyncio tasks per
# response, which cost time and memory for nothing.
CONCURRENT_ITEMS = 1
# Incidents written per transaction; a crawl killed mid-batch refetches that batch.
ARCHIVE_BATCH_SIZE = 500
# History pages (or month windows) one crawl walks at most; the next crawl goes on from there.
ARCHIVE_MAX_PAGES = 2000
EXTENSIONS = {
    "incident_archive.crawl.extensions.CrawlProgress": 500,
    "scrapy.extensions.telnet.TelnetConsole": None,
    # Servers and timers the crawl does not use; our progress extension reports.
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.memusage.MemoryUsage": None,
    "scrapy.extensions.logstats.LogStats": None,
    # Neither feeds, a JOBDIR nor CLOSESPIDER_* limits are used.
    "scrapy.extensions.feedexport.FeedExporter": None,
    "scrapy.extensions.spiderstate.SpiderState": None,
    "scrapy.extensions.closespider.CloseSpider": None,
    "scrapy.extensions.memdebug.MemoryDebugger": None,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,  # no depth limit: spiders know their pages
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,  # a status API needs no Referer
}
# A development-time check that parses every callback's source.
WARN_ON_GENERATOR_RETURN_VALUE = False
ARCHIVE_PROGRESS_INTERVAL = 10.0

# The crawl command prints one line per source with every failure; Scrapy's own log
# (crawl --verbose) is for debugging.
LOG_LEVEL = "CRITICAL"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
