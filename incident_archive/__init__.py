"""An archive of status-page incidents: crawled with Scrapy, kept in SQLite, published with Datasette.

Layers, each importing only those below it: ``core`` (items, times, the sources file),
``archive`` (schema, writer, views), ``crawl`` (parsers, spiders, the Scrapy run),
``importers`` (published datasets), ``testing`` (recorded sites for tests and the demo),
and ``cli`` on top.
"""
