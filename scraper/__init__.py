"""The Scrapy project: spiders that know URLs, parsers that turn bodies into items, one pipeline."""
