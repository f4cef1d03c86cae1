"""Incident windows stated in prose.

Many pages post one "resolved" update long after the fact, and the real window is only
in its text: "Between 18:40 UTC on 26 December and 19:30 UTC on 27 December 2024",
"from 19:52-20:35 UTC", "Between 7:45PM and 10:05PM PST", "from 11:38 AM to 1:16 PM PT".
This finds such a window and resolves it to UTC, taking what an end lacks (zone, date,
year) from the other end or from the time the text was posted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dateutil import parser as dateparser

from incident_archive.core.times import ISO_FORMAT, ZONE_ABBREVIATIONS, parse_time

MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
DAY = r"\d{1,2}(?:st|nd|rd|th)?"
YEAR = r"(?:19|20)\d{2}"
DATE = rf"(?:{DAY}\s+{MONTH}|{MONTH}\s+{DAY})(?:,?\s+{YEAR})?"
TIME = r"(?:\d{1,2}:\d{2}(?:\s*[AaPp]\.?[Mm]\.?)?|\d{1,2}\s*[AaPp]\.?[Mm]\.?)"
ZONE = r"\(?(?:UTC|GMT|PST|PDT|PT|EST|EDT|ET|CST|CDT|CT|MST|MDT|CEST|CET)\)?"
# "approximately 14:55 UTC", "around 10:00", "08:45 UTC (approx.)"
ABOUT = r"(?:(?:approximately|approx\.?|around|about|roughly|circa|~)\s*)"
ROUGHLY = r"(?:\s*\((?:approx\.?|approximately)\))"
ENDPOINT = (
    rf"(?:(?:on\s+)?(?:[A-Z][a-z]+day,?\s+)?{DATE},?\s+(?:at\s+)?)?{ABOUT}?{TIME}(?:\s*{ZONE})?{ROUGHLY}?"
    rf"(?:,?\s+(?:on\s+)?(?:[A-Z][a-z]+day,?\s+)?{DATE})?"
)
WINDOW = re.compile(
    rf"\b(?:between|from)\s+(?P<start>{ENDPOINT})\s*(?:and|to|until|through|-|–|—)\s*(?P<end>{ENDPOINT})",
    re.IGNORECASE,
)
# Only a start: "Starting at 18:44 UTC on 26 Dec 2024", "Starting at 2:12 PM PDT".
START = re.compile(rf"\b(?:starting|beginning|began)\s+(?:at|on|from)\s+{ABOUT}?(?P<start>{ENDPOINT})", re.IGNORECASE)
# Azure's China regions write China Standard Time as "CST" (UTC+8), not US Central.
CHINA = re.compile(r"\bChina\b|\.cn\b")
# A date stated before the window ("On August 16, 2024 from 11:38 AM to 1:16 PM PT").
LEADING_DATE = re.compile(rf"\bon\s+(?:[A-Z][a-z]+day,?\s+)?({DATE})", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    start: str
    end: str | None
    text: str


def _parts(endpoint: str) -> dict:
    endpoint = re.sub(ABOUT, "", endpoint, count=1, flags=re.IGNORECASE)
    time = re.search(TIME, endpoint, re.IGNORECASE)
    zone = re.search(ZONE, endpoint)
    date = re.search(DATE, endpoint, re.IGNORECASE)
    year = re.search(rf"\b{YEAR}\b", date.group(0)) if date else None
    return {
        "time": time.group(0) if time else None,
        "zone": zone.group(0).strip("()") if zone else None,
        "date": re.sub(rf",?\s*{YEAR}", "", date.group(0)).strip() if date else None,
        "year": int(year.group(0)) if year else None,
    }


def zone_of(name: str, text: str = ""):
    """A zone abbreviation as a zone with its daylight saving rules: "PST" written in July
    means Pacific time as it was then."""
    if name.upper() == "CST" and CHINA.search(text):
        return CHINA_TIME
    return ZONE_ABBREVIATIONS.get(name.upper(), timezone.utc)


CHINA_TIME = timezone(timedelta(hours=8), "CST")


def _resolve(parts: dict, zone, day: datetime) -> datetime:
    default = day.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    text = " ".join(p for p in (parts["date"], str(parts["year"]) if parts["year"] else None, parts["time"]) if p)
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    moment = dateparser.parse(text, default=default)
    return moment.replace(tzinfo=zone).astimezone(timezone.utc)


def find_window(text: str | None, posted_at: str | None) -> Window | None:
    """The first window stated in ``text``, in UTC, or None.

    ``posted_at`` (the update's own time) supplies a missing date or year: a window is
    never placed after the text that reports it. Without it, a window that states no
    full date is not taken (today's date would be a guess).
    """
    if not text:
        return None
    match = WINDOW.search(text)
    if not match:
        return None
    start, end = _parts(match.group("start")), _parts(match.group("end"))
    if not (start["zone"] or end["zone"]):
        return None  # "10:40am" in whose time zone? A guess would be hours off.
    zone_name = start["zone"] or end["zone"]
    leading = LEADING_DATE.search(text[: match.start() + 1])
    if leading and not start["date"]:
        start |= {k: v for k, v in _parts(leading.group(1) + " 00:00").items() if k in ("date", "year")}
    start["year"] = start["year"] or end["year"]
    end["year"] = end["year"] or start["year"]
    date_from_end = bool(end["date"] and not start["date"])
    if not end["date"] and start["date"]:
        end["date"] = start["date"]
    elif date_from_end:  # "Between 09:24 and 11:15 UTC on 01 Jul 2020": one date for both ends
        start["date"] = end["date"]
    if posted_at is None and not (start["date"] and start["year"]):
        return None
    zone, end_zone = zone_of(zone_name, text), zone_of(end["zone"] or zone_name, text)
    posted = parse_time(posted_at) if posted_at else None
    local_day = (posted or datetime(int(start["year"]), 1, 1, tzinfo=timezone.utc)).astimezone(zone)
    try:
        begin = _resolve(start, zone, local_day)
        finish = _resolve(end, end_zone, local_day)
    except (ValueError, OverflowError):
        return None
    if posted and not start["date"] and not end["date"]:
        # Times only: the window is on the day of the post, or began the day before.
        if begin > posted:
            begin -= timedelta(days=1)
            finish -= timedelta(days=1)
    if finish < begin:  # across midnight: the stated date is the end's, or the start's
        if date_from_end:
            begin -= timedelta(days=1)
        else:
            finish += timedelta(days=1)
    if posted and not start["year"] and begin > posted + timedelta(days=1):
        begin, finish = begin.replace(year=begin.year - 1), finish.replace(year=finish.year - 1)
    return Window(begin.strftime(ISO_FORMAT), finish.strftime(ISO_FORMAT), match.group(0))


def find_start(text: str | None, posted_at: str | None) -> Window | None:
    """A stated start with no end ("Starting at 18:44 UTC on 26 Dec 2024"), or None."""
    if not text:
        return None
    match = START.search(text)
    if not match:
        return None
    parts = _parts(match.group("start"))
    if not parts["zone"] or (posted_at is None and not (parts["date"] and parts["year"])):
        return None
    posted = parse_time(posted_at) if posted_at else None
    zone = zone_of(parts["zone"], text)
    local_day = (posted or datetime(int(parts["year"]), 1, 1, tzinfo=timezone.utc)).astimezone(zone)
    try:
        begin = _resolve(parts, zone, local_day)
    except (ValueError, OverflowError):
        return None
    if posted and begin > posted:
        begin = begin.replace(year=begin.year - 1) if parts["date"] and not parts["year"] else begin - timedelta(days=1)
    return Window(begin.strftime(ISO_FORMAT), None, match.group(0))


def apply_stated_window(item) -> None:
    """Where an incident's start is only a post time, take the window its updates state.

    The newest update that states a window wins (a final review replaces a preliminary
    one); failing a window, a stated start ("Starting at 18:44 UTC"). ``started_at_basis``
    records which it is.
    """
    if item.started_at_basis == "page":
        return
    updates = sorted(item.updates, key=lambda u: u.posted_at or "", reverse=True)
    for update in updates:
        window = find_window(update.body, update.posted_at)
        if window is None:
            continue
        if item.started_at_basis == "window" or item.started_at is None or window.start <= item.started_at:
            item.started_at = window.start
            item.started_at_basis = "window"
            if item.status in ("resolved", "postmortem", "completed", None) or item.resolved_at:
                item.resolved_at = window.end
        return
    for update in updates:
        start = find_start(update.body, update.posted_at)
        if start and (item.started_at is None or start.start <= item.started_at):
            item.started_at, item.started_at_basis = start.start, "window"
            return
