"""News feeds: which entries are about an outage of a tracked provider, and the article
item made from an entry and its page (or from the entry alone when the page fails)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import feedparser
from bs4 import BeautifulSoup

from incident_archive.core.times import to_utc_iso
from incident_archive.core.words import mentioned, web_url
from incident_archive.core.items import ArticleItem
from incident_archive.crawl.parsers import parser, ParseError
from incident_archive.crawl.parsers.articles import Extracted

OUTAGE_WORDS = re.compile(
    r"\b(outages?|down|downtime|disruptions?|disrupted|errors?|degraded|unavailable|incidents?|offline"
    r"|not working|went dark|service issues?|crash(?:ed|es)?|failures?|postmortem|post-incident)\b",
    re.IGNORECASE,
)
# Below this many characters a page's text is a teaser, not the article.
MIN_ARTICLE_CHARS = 200
PAYWALL_HINTS = re.compile(r"\b(subscribe to (?:continue|read)|subscribers only|paywall|sign in to read)\b", re.I)


@dataclass
class FeedEntry:
    url: str
    title: str
    summary: str | None
    published_at: str | None
    author: str | None


def _plain(html: str | None) -> str | None:
    if not html:
        return None
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ", strip=True).split()) or None


@parser
def parse_feed(body, source: str) -> list[FeedEntry]:
    """Every entry of an RSS or Atom feed that has a link and a title."""
    feed = feedparser.parse(body)
    if feed.bozo and not feed.entries:
        raise ParseError(source, f"not an RSS or Atom feed ({feed.get('bozo_exception')})")
    entries = []
    for entry in feed.entries:
        if not web_url(entry.get("link")) or not entry.get("title"):
            continue  # no link, or one that is not a web page (javascript:, data:)
        published = entry.get("published") or entry.get("updated")
        try:
            published_at = to_utc_iso(published) if published else None
        except ValueError:
            published_at = None
        entries.append(
            FeedEntry(
                url=entry["link"],
                title=" ".join(entry["title"].split()),
                summary=_plain(entry.get("summary")),
                published_at=published_at,
                author=entry.get("author"),
            )
        )
    return entries


def is_about_outage(entry: FeedEntry, names: list[str]) -> bool:
    text = f"{entry.title}\n{entry.summary or ''}"
    return bool(mentioned(text, names)) and bool(OUTAGE_WORDS.search(text))


def canonical(url: str) -> str:
    """A URL without its query, fragment and trailing slash: one article, one address."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/") or "/", "", ""))


def article_from(entry: FeedEntry, source: str, extracted: Extracted | None, failure: str | None) -> ArticleItem:
    """The article as stored: the page's fields over the feed's, and what was missing."""
    note = failure
    if extracted is not None and failure is None:
        text = extracted.body or ""
        if len(text) < MIN_ARTICLE_CHARS:
            note = "paywalled: the page shows only a teaser" if PAYWALL_HINTS.search(text) or text else \
                "the page has no article text"
    use_page = extracted is not None and failure is None
    return ArticleItem(
        source=source,
        url=entry.url,
        canonical_url=canonical((web_url(extracted.canonical_url) if use_page else None) or entry.url),
        title=(extracted.title if use_page and extracted.title else None) or entry.title,
        published_at=(extracted.published_at if use_page else None) or entry.published_at,
        author=(extracted.author if use_page else None) or entry.author,
        outlet=extracted.outlet if use_page else None,
        summary=entry.summary,
        body=extracted.body if use_page and extracted.body else None,
        extraction=extracted.method if use_page else "feed",
        extraction_note=note,
    )
