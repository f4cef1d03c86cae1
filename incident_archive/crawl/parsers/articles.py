"""News articles: headline, time, author, outlet, canonical URL and text, from the page.

Structured data first (JSON-LD ``NewsArticle``, then OpenGraph and ``<time>``), the
markup as a fallback; the text is the article's paragraphs without page furniture
(navigation, asides, footers, scripts, share buttons).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bs4 import BeautifulSoup

from incident_archive.core.times import to_utc_iso

ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting", "AnalysisNewsArticle"}
FURNITURE = ["script", "style", "noscript", "nav", "aside", "footer", "header", "form", "iframe", "figure", "button"]
FURNITURE_CLASSES = re.compile(r"(share|social|newsletter|related|promo|advert|\bad\b|subscribe|comments|byline)", re.I)


@dataclass
class Extracted:
    title: str | None
    published_at: str | None
    author: str | None
    outlet: str | None
    canonical_url: str | None
    body: str | None
    method: str


def _jsonld_articles(soup) -> list[dict]:
    found = []
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            data = json.loads(script.string or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            node = stack.pop(0)
            if isinstance(node, dict):
                kinds = node.get("@type")
                kinds = set(kinds) if isinstance(kinds, list) else {kinds}
                if kinds & ARTICLE_TYPES:
                    found.append(node)
                stack.extend(node.get("@graph") or [])
            elif isinstance(node, list):
                stack.extend(node)
    return found


def _name(value) -> str | None:
    """A schema.org person or organisation, or a list of them, as text."""
    if isinstance(value, list):
        names = [_name(v) for v in value]
        return ", ".join(n for n in names if n) or None
    if isinstance(value, dict):
        return value.get("name")
    return value if isinstance(value, str) else None


def _meta(soup, *names) -> str | None:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if tag and tag.get("content"):
            return tag["content"].strip()
    return None


def _time(value) -> str | None:
    try:
        return to_utc_iso(value) if value else None
    except ValueError:
        return None


def article_text(soup) -> str | None:
    """The article's paragraphs, without the page around them."""
    for tag in soup.find_all(FURNITURE):
        tag.decompose()
    for tag in soup.find_all(class_=FURNITURE_CLASSES):
        tag.decompose()
    container = soup.find("article") or soup.find(attrs={"itemprop": "articleBody"}) or soup.find("main") or soup.body
    if container is None:
        return None
    paragraphs = [" ".join(p.get_text(" ", strip=True).split()) for p in container.find_all("p")]
    text = "\n\n".join(p for p in paragraphs if len(p) > 1)
    return text or None


def extract_article(html: bytes | str, url: str) -> Extracted:
    """Everything the page says about itself; fields it does not give are None."""
    soup = BeautifulSoup(html, "html.parser")
    canonical = soup.find("link", rel="canonical")
    canonical_url = canonical.get("href") if canonical else None
    jsonld = _jsonld_articles(soup)
    if jsonld:
        node = jsonld[0]
        main = node.get("mainEntityOfPage")
        main_url = main.get("@id") if isinstance(main, dict) else main if isinstance(main, str) else None
        body = node.get("articleBody")
        return Extracted(
            title=node.get("headline") or node.get("name"),
            published_at=_time(node.get("datePublished")),
            author=_name(node.get("author")),
            outlet=_name(node.get("publisher")) or _meta(soup, "og:site_name"),
            canonical_url=node.get("url") or main_url or canonical_url or _meta(soup, "og:url"),
            body=" ".join(body.split()) if isinstance(body, str) and body.strip() else article_text(soup),
            method="jsonld",
        )
    og_title = _meta(soup, "og:title")
    time_tag = soup.find("time", datetime=True)
    published = _time(_meta(soup, "article:published_time", "og:published_time", "pubdate", "date")) or (
        _time(time_tag["datetime"]) if time_tag else None
    )
    author = _meta(soup, "article:author", "author")
    if og_title:
        return Extracted(
            title=og_title,
            published_at=published,
            author=author,
            outlet=_meta(soup, "og:site_name"),
            canonical_url=_meta(soup, "og:url") or canonical_url,
            body=article_text(soup),
            method="opengraph",
        )
    heading = soup.find("h1") or soup.find("title")
    byline = soup.find(attrs={"rel": "author"}) or soup.find(class_=re.compile("author", re.I))
    return Extracted(
        title=heading.get_text(" ", strip=True) if heading else None,
        published_at=published,
        author=author or (byline.get_text(" ", strip=True) if byline else None),
        outlet=None,
        canonical_url=canonical_url,
        body=article_text(soup),
        method="markup",
    )
