"""Azure's status pages as a folder of responses: the status-history HTML fragment
(``/en-us/statushistoryapi/?…&page=N``) and the RSS feed of active incidents."""

from __future__ import annotations

import html
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path

from incident_archive.core.times import parse_time
from incident_archive.crawl.spiders.azure import FEED_PATH, HISTORY_PATH, HISTORY_QUERY
from incident_archive.testing.replay import write_response
REVIEWS_PER_PAGE = 10


@dataclass
class Review:
    """One post-incident review as the history page lists it (the real markup carries
    a date, a title, a tracking ID and the review text: no service or region lists)."""

    tracking_id: str
    title: str
    date: str  # the day the page files it under, YYYY-MM-DD
    text: str


@dataclass
class ActiveIncident:
    """One item of the RSS feed while an incident is ongoing."""

    title: str
    description: str
    published: str  # ISO time


def review_html(review: Review) -> str:
    """One item exactly as ``statushistoryapi`` serves it (see ../shared/realdata/azure/
    history-items/): the date as MM/DD/YYYY in ``span.hide-text``, the review in the
    collapsed ``card-body``."""
    day = parse_time(review.date)
    tid = html.escape(review.tracking_id)
    paragraphs = "".join(f"<p>{html.escape(p.strip())}</p>" for p in review.text.split("\n\n") if p.strip())
    chevron = "".join(f'<span class="chevron-{way}"><svg aria-hidden="true" role="presentation">\n'
                      f'<use xlink:href="#svg-chevron-{way}"></use>\n</svg></span>\n' for way in ("down", "up"))
    return f"""<div class="col-sm-11 incident-history-item">
<button aria-controls="incident-history-collapse-{tid}" aria-expanded="false" class="row incident-history-header" \
data-target="#incident-history-collapse-{tid}" data-toggle="collapse" type="button">
<span class="hide-text">{day.strftime('%m/%d/%Y')}</span>
<div class="col-md-8 incident-history-title">
                                    {html.escape(review.title)} 
                                </div>
<div class="col-md-3 incident-history-tracking-id">
                                    Tracking ID: {tid}
                                </div>
<div class="col-md-1 incident-history-chevron">
{chevron}</div>
</button>
<div class="row">
<div class="collapse incident-history-collapse" id="incident-history-collapse-{tid}">
<div class="card-body">
{paragraphs}
</div>
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


def write_azure_site(root: Path, reviews: list[Review], active: list[ActiveIncident] = (),
                     items: list[str] = ()) -> Path:
    """History pages as the real endpoint serves them: items newest first, ten a page,
    then a page with no items; and the feed. ``items`` are real items' markup, byte for
    byte, listed after ``reviews``."""
    reviews = sorted(reviews, key=lambda r: r.date, reverse=True)
    markup = [review_html(r) for r in reviews] + list(items)
    pages = [markup[i : i + REVIEWS_PER_PAGE] for i in range(0, len(markup), REVIEWS_PER_PAGE)] + [[]]
    for number, page in enumerate(pages, start=1):
        write_response(root, f"{HISTORY_PATH}?{HISTORY_QUERY.format(page=number)}", "\n".join(page))
    write_response(root, FEED_PATH, feed_xml(list(active)))
    return Path(root)
