"""The archive's rules of identity and of change, as pure functions: which id an incident
has, when two texts are one update, what a version records, which fields a response may
not blank. Testable without a database or a crawl.
"""

from __future__ import annotations

import hashlib
import json
import re

import orjson

from incident_archive.archive.schema import VERSIONED_INCIDENT_FIELDS
from incident_archive.core.items import IncidentItem

RESOLVED_STATUSES = ("resolved", "postmortem", "completed")
IMPACT_RANK = {"maintenance": 0, "none": 1, "minor": 2, "major": 3, "critical": 4}

# Updates read from a feed (``/history.atom``) or a research dataset carry ids of our
# making with these prefixes; the page's own copy of the same update takes their place.
LESSER_UPDATE_PREFIXES = ("atom-", "research-")

# Fields a page may fail to give in one response (a broken or partial answer): a value
# the archive already holds is never replaced by nothing.
KEPT_WHEN_MISSING = ("started_at", "started_at_basis", "created_at", "updated_at", "url", "duration_s")

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def incident_key(source: str, native_id: str) -> str:
    """The archive's incident id: ``<source>:<native id>``."""
    return f"{source}:{native_id}"


def same_text(a: str | None, b: str | None) -> bool:
    """Two renderings of one update's text (markup and spacing aside)."""
    normalise = lambda text: " ".join((text or "").split())[:80].lower()  # noqa: E731
    return bool(a and b) and normalise(a) == normalise(b)


def missing(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def keep_known_fields(existing: dict, record: dict, item: IncidentItem) -> None:
    for field in (*KEPT_WHEN_MISSING, "title"):
        if missing(record[field]) and not missing(existing[field]):
            record[field] = existing[field]
    if item.impact_raw is None and existing["impact_raw"] is not None:
        record["impact"], record["impact_raw"] = existing["impact"], existing["impact_raw"]
    elif item.shim_copy and IMPACT_RANK.get(record["impact"], 0) <= IMPACT_RANK.get(existing["impact"], 0):
        record["impact"], record["impact_raw"] = existing["impact"], existing["impact_raw"]
    if item.shim_copy:
        for field in ("started_at", "started_at_basis", "resolved_at", "duration_s", "url"):
            if not missing(existing[field]):
                record[field] = existing[field]
    if record["status"] is None and existing["status"] is not None:
        record["status"] = existing["status"]
    if record["resolved_at"] is None and existing["resolved_at"] and record["status"] in RESOLVED_STATUSES:
        record["resolved_at"] = existing["resolved_at"]
        record["duration_s"] = existing["duration_s"]


def normalized(title: str | None) -> str:
    """A title as SQLite's ``lower(trim(title))`` gives it (ASCII letters, spaces)."""
    return (title or "").strip(" ").translate(_ASCII_LOWER)


def normalize_title(title: str) -> str:
    """A headline reduced to its words: the same story under two feeds' punctuation."""
    title = re.split(r"\s+[|–—-]\s+[^|–—-]+$", title.strip())[0]  # " - The Outlet"
    return " ".join(re.findall(r"\w+", title.lower()))


def id_shape(native_id: str) -> tuple[int, bool, bool]:
    """Length and letter case of an id: tells one platform's ids from another's."""
    return len(native_id), any(c.islower() for c in native_id), any(c.isupper() for c in native_id)


# The lists of items an incident holds (their fields are plain values).
NESTED_ITEMS = ("updates", "components", "component_impacts", "regions")

# A digest is of the incident's sorted JSON. Since 2026-12-07 that JSON is orjson's (the
# digest was the writer's largest piece of Python; bench/analysis.md, thirteenth round)
# and the digest carries this prefix. Digests archived before have none and are of the
# standard library's JSON (", " and ": " between items, non-ASCII escaped):
# ``same_content`` compares those with that encoding, so an upgraded archive's unchanged
# incidents stay unchanged: no new version, no row rewritten for a new digest.
DIGEST_PREFIX = "o1:"
_STANDARD_SORTED_JSON = json.JSONEncoder(sort_keys=True)


def _content(item: IncidentItem) -> dict:
    """Everything the page said about an incident, as plain values: not whether this
    copy was fresh or partial. vars() of the nested items gives what asdict() would,
    without its deep copy."""
    content = dict(vars(item))
    content.pop("fresh")
    content.pop("partial")
    for nested in NESTED_ITEMS:
        content[nested] = [vars(part) for part in content[nested]]
    return content


def content_hash(item: IncidentItem) -> str:
    """A digest of everything the page said about an incident, to spot unchanged ones cheaply."""
    return DIGEST_PREFIX + hashlib.sha256(orjson.dumps(_content(item), option=orjson.OPT_SORT_KEYS)).hexdigest()


def _standard_json_hash(item: IncidentItem) -> str:
    """The digest as archives kept it before DIGEST_PREFIX: of the standard library's JSON."""
    return hashlib.sha256(_STANDARD_SORTED_JSON.encode(_content(item)).encode()).hexdigest()


def same_content(archived: str | None, item: IncidentItem, digest: str) -> bool:
    """Whether an archived digest is of this item, whose ``content_hash`` is ``digest``."""
    if archived is None:
        return False
    if archived.startswith(DIGEST_PREFIX):
        return archived == digest
    return archived == _standard_json_hash(item)


def snapshot(record: dict, item: IncidentItem | None, removed: bool = False) -> dict:
    """What a page said of an incident, as one version records it."""
    components = sorted({c.native_id for c in item.components} | {
        i.component_native_id for i in item.component_impacts}) if item else []
    return {field: record.get(field) for field in VERSIONED_INCIDENT_FIELDS[:-2]} | {
        "components": json.dumps(components) if components else None, "removed": int(removed)}


def changes(previous: dict, current: dict) -> list[str]:
    """The fields of ``current`` that differ from ``previous``, a missing value aside."""
    return [field for field, value in current.items() if not missing(value) and previous.get(field) != value
            or field == "removed" and previous.get(field) != value]
