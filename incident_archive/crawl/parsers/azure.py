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

from datetime import datetime, timedelta, timezone

from incident_archive.core.times import ISO_FORMAT, to_utc_iso
from incident_archive.core.items import IncidentItem, RegionItem, UpdateItem
from incident_archive.crawl.parsers import parser, ParseError
from incident_archive.core.windows import apply_stated_window, find_start, find_window

TRACKING_ID = re.compile(r"Tracking ID:?\s*([A-Z0-9_]{2,6}-[A-Z0-9_]{1,6})", re.IGNORECASE)
PRELIMINARY = re.compile(r"\bPreliminary (?:PIR|Post Incident Review)\b", re.IGNORECASE)


def region_id(name: str) -> str:
    """Azure's region slug: ``South Central US`` is ``southcentralus``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def text_update(text: str, status: str, posted_at: str | None = None) -> UpdateItem:
    """A text as an update whose id is its content: a new wording is a new update."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return UpdateItem(native_id=f"{status.split()[0]}-{digest}", status=status, body=text, posted_at=posted_at)


def review_update(text: str) -> UpdateItem:
    # A preliminary review says so at its start; a final one may mention the preliminary later.
    kind = "preliminary review" if PRELIMINARY.search(text[:400]) else "final review"
    return text_update(text, kind)


def _text(element) -> str:
    return re.sub(r"[ \t]+", " ", element.get_text("\n", strip=True)).strip() if element else ""


# Azure's region names as its pages write them; a review names its region in the title
# ("Power event – South Central US") or its first sentence.
REGIONS = [
    "East US 2", "East US", "West US 2", "West US 3", "West US", "Central US", "North Central US",
    "South Central US", "West Central US", "Canada Central", "Canada East", "Brazil South", "Brazil Southeast",
    "North Europe", "West Europe", "UK South", "UK West", "France Central", "France South",
    "Germany West Central", "Germany North", "Norway East", "Norway West", "Switzerland North",
    "Switzerland West", "Sweden Central", "Poland Central", "Italy North", "Spain Central", "Australia East",
    "Australia Southeast", "Australia Central", "East Asia", "Southeast Asia", "Japan East", "Japan West",
    "Korea Central", "Korea South", "Central India", "South India", "West India", "UAE North", "UAE Central",
    "South Africa North", "South Africa West", "Qatar Central", "Israel Central", "Mexico Central",
    "New Zealand North",
]
REGION_NAMES = re.compile(r"\b(" + "|".join(re.escape(r) for r in REGIONS) + r")\b")
# The heading of a review's first section: the incident's window is its first timed sentence.
SUMMARY_HEADING = re.compile(r"\b(?:summary of impact|what happened\??)\s*:?", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
TIMED = re.compile(r"\d{1,2}:\d{2}")


def first_timed_sentence(text: str) -> str | None:
    """The first sentence with a time in the review's first section ("Summary of impact",
    "What happened?"): later times (a trigger, a partial recovery) are not the window."""
    heading = SUMMARY_HEADING.search(text)
    section = text[heading.end():] if heading else text
    for sentence in SENTENCE_END.split(section):
        if TIMED.search(sentence):
            return sentence
    return None


def regions_named(*texts: str) -> list[RegionItem]:
    names = dict.fromkeys(m.group(1) for text in texts for m in REGION_NAMES.finditer(text or ""))
    return [RegionItem(native_id=region_id(name), name=name) for name in names]


@parser
def parse_history_page(body, source: str, base_url: str) -> list[IncidentItem]:
    """One page of ``statushistoryapi``: ``div.incident-history-item`` elements, each with
    its date (``span.hide-text``, MM/DD/YYYY), title, tracking ID and review
    (``div.incident-history-collapse > div.card-body``). A page with no items is past
    the last page; markup with neither items nor text is a redesign, reported."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if body.strip() and not body.lstrip().startswith("<"):
        raise ParseError(source, "history page is not HTML")
    soup = BeautifulSoup(body, "html.parser")
    items = soup.select("div.incident-history-item")
    if not items and soup.get_text(strip=True):
        raise ParseError(source, "history page has neither incidents nor an empty history list: its markup changed")
    return [_history_item(item, source, base_url) for item in items]


def _history_item(item, source: str, base_url: str) -> IncidentItem:
    found = TRACKING_ID.search(_text(item.select_one(".incident-history-tracking-id")) or "")
    if not found:
        raise ParseError(source, "history item has no tracking ID")
    tracking = found.group(1)
    title = _text(item.select_one(".incident-history-title")) or tracking
    review = _text(item.select_one(".incident-history-collapse > .card-body"))
    if not review:
        raise ParseError(source, f"history item {tracking} has no review text")
    day = _text(item.select_one("span.hide-text"))
    try:
        filed = datetime.strptime(day, "%m/%d/%Y").replace(tzinfo=timezone.utc) if day else None
    except ValueError:
        raise ParseError(source, f"history item {tracking} has no date: {day!r}") from None
    created = filed.strftime(ISO_FORMAT) if filed else None
    # The day the review was filed, at its end: times alone are never placed after it.
    filed_end = (filed + timedelta(days=1, seconds=-1)).strftime(ISO_FORMAT) if filed else None
    sentence = first_timed_sentence(review)
    window = find_window(sentence, filed_end)
    start = window or find_start(sentence, filed_end)
    # No time of its own: the review's date is its filing day, shared by its other versions.
    update = review_update(review)
    return IncidentItem(
        source=source,
        native_id=tracking,
        title=title,
        impact="major",
        impact_raw="post incident review",
        status="resolved",
        started_at=start.start if start else created,
        started_at_basis="window" if start else ("posted" if created else None),
        resolved_at=window.end if window else None,
        created_at=created,
        url=f"{base_url.rstrip('/')}/en-us/status/history/?trackingId={tracking}",
        updates=[update],
        regions=regions_named(title, sentence or ""),
    )


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
