"""Microsoft Azure status: the RSS feed of active incidents and the status-history HTML.

History comes as an HTML fragment from ``/en-us/statushistoryapi/?…&page=N``: one
``incident-history-item`` per post-incident review, with its title, tracking ID (the
native id), the services and regions it names, and the review text. The incident
window exists only in that prose ("Between 18:40 UTC on 26 December and 19:30 UTC on
27 December 2024"). A final review replaces a preliminary one with different times;
each review text becomes an update of its own, so the archive keeps both.
"""

from __future__ import annotations

import hashlib
import re

import feedparser
from bs4 import BeautifulSoup

from archive.times import to_utc_iso
from scraper.items import ComponentItem, IncidentItem, RegionItem, UpdateItem
from scraper.parsers import parser, ParseError
from scraper.parsers.windows import apply_stated_window

TRACKING_ID = re.compile(r"Tracking ID:?\s*([A-Z0-9]{2,6}-[A-Z0-9_]{1,6})", re.IGNORECASE)
PRELIMINARY = re.compile(r"\bPreliminary (?:PIR|Post Incident Review)\b", re.IGNORECASE)


def region_id(name: str) -> str:
    """Azure's region slug: ``South Central US`` is ``southcentralus``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def text_update(text: str, status: str, posted_at: str | None = None) -> UpdateItem:
    """A text as an update whose id is its content: a new wording is a new update."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return UpdateItem(native_id=f"{status.split()[0]}-{digest}", status=status, body=text, posted_at=posted_at)


def review_update(text: str) -> UpdateItem:
    kind = "preliminary review" if PRELIMINARY.search(text) else "final review"
    return text_update(text, kind)


def _text(element) -> str:
    return re.sub(r"[ \t]+", " ", element.get_text("\n", strip=True)).strip() if element else ""


@parser
def parse_history_page(body, source: str, base_url: str) -> list[IncidentItem]:
    """One page of the status-history fragment; an empty list means past the last page."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if body.strip() and not body.lstrip().startswith("<"):
        raise ParseError(source, "history page is not HTML")
    incidents = []
    soup = BeautifulSoup(body, "html.parser")
    items = soup.select(".incident-history-item")
    if not items and not soup.select(".incident-history"):
        raise ParseError(source, "history page has neither incidents nor an empty history list: its markup changed")
    for item in items:
        text_all = _text(item)
        found = TRACKING_ID.search(text_all)
        tracking = item.get("data-tracking-id") or (found.group(1) if found else None)
        if not tracking:
            raise ParseError(source, "history item has no tracking ID")
        title = _text(item.select_one(".incident-history-title")) or tracking
        review = _text(item.select_one(".incident-history-content"))
        if not review:
            raise ParseError(source, f"history item {tracking} has no review text")
        services = [_text(li) for li in item.select(".incident-history-services li")]
        regions = [_text(li) for li in item.select(".incident-history-regions li")]
        day = item.get("data-date")
        incident = IncidentItem(
            source=source,
            native_id=tracking,
            title=title,
            impact="major",
            impact_raw="post incident review",
            status="resolved",
            started_at=None,  # the page gives a day only: the review's stated window decides
            started_at_basis=None,
            resolved_at=None,
            created_at=to_utc_iso(day) if day else None,
            url=f"{base_url.rstrip('/')}/en-us/status/history/?trackingId={tracking}",
            updates=[review_update(review)],
            components=[ComponentItem(source=source, native_id=region_id(s), name=s) for s in services],
            regions=[RegionItem(native_id=region_id(r), name=r) for r in regions],
        )
        apply_stated_window(incident)
        if incident.started_at is None:
            incident.started_at, incident.started_at_basis = incident.created_at, "posted"
        incidents.append(incident)
    return incidents


@parser
def parse_feed(body, source: str, base_url: str) -> list[IncidentItem]:
    """The RSS feed of active incidents (feedparser copes with its variants)."""
    feed = feedparser.parse(body)
    if feed.bozo and not feed.entries:
        raise ParseError(source, f"feed is not RSS/Atom ({feed.get('bozo_exception')})")
    incidents = []
    for entry in feed.entries:
        description = BeautifulSoup(entry.get("summary", ""), "html.parser").get_text("\n", strip=True)
        found = TRACKING_ID.search(f"{entry.get('title', '')}\n{description}")
        native_id = found.group(1) if found else entry.get("id") or entry.get("link")
        if not native_id or not entry.get("title"):
            continue
        posted_at = to_utc_iso(entry.get("published")) if entry.get("published") else None
        incident = IncidentItem(
            source=source,
            native_id=native_id,
            title=entry["title"].strip(),
            impact="major",
            impact_raw="active",
            status="investigating",
            started_at=posted_at,
            started_at_basis="posted",
            resolved_at=None,
            created_at=posted_at,
            url=entry.get("link") or f"{base_url.rstrip('/')}/en-us/status",
            updates=[text_update(description, "active", posted_at)] if description else [],
        )
        apply_stated_window(incident)
        incidents.append(incident)
    return incidents
