"""Every parser, fed random and mutated versions of real bodies, raises nothing but the
project's own ParseError (naming the source, with a reason)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_archive.testing.demo import RECORDED
from incident_archive.crawl.parsers import ParseError, aws, azure, gcp, incidentio, news, statuspage
from incident_archive.crawl.parsers.articles import extract_article
from incident_archive.core.windows import find_start, find_window
from tests.conftest import REALDATA

BASE = "https://status.example.com"


def sample(relative: str) -> bytes | None:
    path = REALDATA / relative
    return path.read_bytes() if path.exists() else None


def azure_page() -> bytes:
    import tempfile

    from incident_archive.testing.azure_site import write_azure_site
    from incident_archive.testing.demo import azure_reviews

    root = write_azure_site(Path(tempfile.mkdtemp()), azure_reviews())
    return next(root.rglob("*page=1")).read_bytes()


# (name, parser, body): each parser with a real sample where ../shared has one, and the
# project's own recordings otherwise.
PARSERS = [
    ("statuspage incident", lambda b: statuspage.parse_incident(b, "s", BASE),
     sample("github/incidents-2022/01g5rt6z89q2.json")),
    ("statuspage incident list", lambda b: statuspage.parse_incident_list(b, "s", BASE),
     sample("anthropic/incidents.json.backfill_2026-09-15_EXCERPT_1of50.json")),
    ("statuspage summary", lambda b: statuspage.parse_summary(b, "s"),
     sample("openai/summary.json.2026-09-29_0225318.json")),
    ("statuspage history page", lambda b: statuspage.parse_history_page(b, "s"),
     json.dumps({"months": [{"name": "December", "year": 2024, "incidents": [
         {"code": "abc", "name": "x", "impact": "minor"}]}]}).encode()),
    ("statuspage history.atom", lambda b: statuspage.parse_history_atom(b, "s", BASE),
     sample("github/github-status-history.atom.2024-12-27.xml")),
    ("incident.io incidents", lambda b: incidentio.parse_incidents(b, "s", BASE),
     sample("openai/proxy_incidents.TRIMMED_5of93.json") or (RECORDED / "openai-incidentio.json").read_bytes()),
    ("incident.io summary", lambda b: incidentio.parse_summary(b, "s"), (RECORDED / "openai-incidentio.json").read_bytes()),
    ("incident.io page html", lambda b: incidentio.summary_from_html(b, "s"),
     sample("incidentio/incidentio-perplexity.html")),
    ("gcp incidents", lambda b: gcp.parse_incidents(b, "s", BASE),
     json.dumps(json.loads(sample("gcp/incidents.json") or b"[]")[:3]).encode()),
    ("aws events", lambda b: aws.parse_events(b, "s", BASE), sample("aws/aws-currentevents.json")),
    ("aws legacy", lambda b: aws.parse_legacy(b, "s", BASE),
     json.dumps({"archive": json.loads(sample("aws/legacy-data.json") or b'{"archive": []}')["archive"][:4]}).encode()),
    ("aws rss", lambda b: aws.parse_rss(b, "s", BASE), sample("aws/aws_rss_sample_2021-12-20.xml")),
    ("azure history", lambda b: azure.parse_history_page(b, "s", BASE), azure_page()),
    ("news feed", lambda b: news.parse_feed(b, "s"), (RECORDED / "news" / "techdaily-feed.xml").read_bytes()),
]
PARSERS = [p for p in PARSERS if p[2] is not None]


def mutate_json(value, rng_data):
    """Replace one value somewhere in a JSON document with something of another type."""
    paths, stack = [], [((), value)]
    while stack:
        path, node = stack.pop()
        paths.append(path)
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node[:5]))
    path = rng_data.draw(st.sampled_from(paths))
    replacement = rng_data.draw(st.one_of(
        st.none(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20), st.booleans(),
        st.just([]), st.just({}), st.just([None]), st.just({"id": None}), st.just("2024-13-45T99:99:99Z")))
    if not path:
        return replacement
    document = copy.deepcopy(value)
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if rng_data.draw(st.booleans()) and isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = replacement
    return document


def check(parse, body: bytes) -> None:
    try:
        parse(body)
    except ParseError as error:
        assert error.source == "s" and error.reason


@pytest.mark.parametrize("name, parse, body", PARSERS, ids=[p[0] for p in PARSERS])
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_parsers_raise_only_parse_errors(name, parse, body, data):
    kind = data.draw(st.sampled_from(["truncate", "flip", "splice", "json"]))
    if kind == "truncate":
        mutated = body[: data.draw(st.integers(0, len(body)))]
    elif kind == "flip":
        position = data.draw(st.integers(0, max(0, len(body) - 1)))
        mutated = body[:position] + bytes([data.draw(st.integers(0, 255))]) + body[position + 1:]
    elif kind == "splice":
        position = data.draw(st.integers(0, len(body)))
        mutated = body[:position] + data.draw(st.binary(max_size=40)) + body[position:]
    else:
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        mutated = json.dumps(mutate_json(document, data)).encode() if document is not None else body
    check(parse, mutated)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), posted=st.one_of(st.none(), st.just("2024-12-26T21:00:00Z")))
def test_window_reading_never_raises(text, posted):
    find_window(text, posted)
    find_start(text, posted)
    find_window("Between " + text + " and 19:30 UTC on 27 December 2024", posted)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(junk=st.binary(max_size=2000))
def test_article_extraction_never_raises(junk):
    page = (RECORDED / "news" / "articles" / "chatgpt-sora-outage.html").read_bytes()
    extract_article(junk, "https://x.example/")
    extract_article(page[: len(junk)] + junk, "https://x.example/")
