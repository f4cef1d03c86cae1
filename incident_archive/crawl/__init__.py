"""The crawl: pure parsers, thin spiders, the one pipeline, and the Scrapy run."""
