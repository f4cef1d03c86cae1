"""Azure's status pages as a folder of responses: the status-history HTML fragment
(``/en-us/statushistoryapi/?…&page=N``) and the RSS feed of active incidents."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path

from archive.times import parse_time
from scraper.replay import write_response

HISTORY_QUERY = "serviceSlug=all&regionSlug=all&startDate=all&page={page}"
HISTORY_PATH = "/en-us/statushistoryapi/"
FEED_PATH = "/en-us/status/feed/"
REVIEWS_PER_PAGE = 10


@dataclass
class Review:
    """One post-incident review as the history page lists it."""

    tracking_id: str
    title: str
    date: str  # the day the page files it under, YYYY-MM-DD
    text: str
    services: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)


@dataclass
class ActiveIncident:
    """One item of the RSS feed while an incident is ongoing."""

    title: str
    description: str
    published: str  # ISO time


def review_html(review: Review) -> str:
    day = parse_time(review.date)
    paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>" for p in review.text.split("\n\n") if p.strip())
    services = "".join(f"<li>{html.escape(s)}</li>" for s in review.services)
    regions = "".join(f"<li>{html.escape(r)}</li>" for r in review.regions)
    return f"""
<div class="row incident-history-item" data-tracking-id="{html.escape(review.tracking_id)}" data-date="{review.date}">
  <div class="col-sm-2 incident-history-date">
    <div class="month">{day.strftime('%B %Y')}</div><div class="day">{day.day}</div>
  </div>
  <div class="col-sm-10">
    <div class="card">
      <div class="card-header">
        <h3 class="incident-history-title">{html.escape(review.title)}</h3>
        <span class="incident-history-tracking-id">Tracking ID: {html.escape(review.tracking_id)}</span>
      </div>
      <div class="incident-history-tags">
        <ul class="incident-history-services">{services}</ul>
        <ul class="incident-history-regions">{regions}</ul>
      </div>
      <div class="card-body incident-history-content">{paragraphs}</div>
    </div>
  </div>
</div>"""


def feed_xml(active: list[ActiveIncident]) -> str:
    items = "".join(
        f"""
    <item>
      <title>{html.escape(a.title)}</title>
      <link>https://azure.status.microsoft/en-us/status</link>
      <description><![CDATA[{a.description}]]></description>
      <pubDate>{format_datetime(parse_time(a.published))}</pubDate>
    </item>"""
        for a in active
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
  <channel>
    <title>Azure Status</title>
    <link>https://azure.status.microsoft/en-us/status</link>
    <description>Azure Status</description>{items}
  </channel>
</rss>
"""


def write_azure_site(root: Path, reviews: list[Review], active: list[ActiveIncident] = ()) -> Path:
    """History pages (newest first, ten a page, then an empty page) and the feed."""
    reviews = sorted(reviews, key=lambda r: r.date, reverse=True)
    pages = [reviews[i : i + REVIEWS_PER_PAGE] for i in range(0, len(reviews), REVIEWS_PER_PAGE)] + [[]]
    for number, page in enumerate(pages, start=1):
        body = '<div class="incident-history">' + "".join(review_html(r) for r in page) + "</div>"
        write_response(root, f"{HISTORY_PATH}?{HISTORY_QUERY.format(page=number)}", body)
    write_response(root, FEED_PATH, feed_xml(list(active)))
    return Path(root)
