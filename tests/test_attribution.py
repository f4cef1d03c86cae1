"""Which upstream incident was behind an outage, with evidence, and who said it first.

The real checks: OpenAI's 2024-12-26 incident (FAILS, read in place) against Azure's
review of the South Central US power event (the facts file, parsed as the site serves
it) ranks CNF4-N_0 first and ``likely``; OpenAI's 2024-12-11 telemetry incident has no
``likely`` upstream even with an Azure incident placed over it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from dataclasses import replace

import pytest
import sqlite_utils

from incident_archive.archive.attribution import Attributor, normalized, words_of
from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.core.items import IncidentItem, RegionItem, UpdateItem
from incident_archive.core.sources import load_sources
from incident_archive.crawl.parsers.azure import parse_history_page
from incident_archive.importers.research import import_paths
from incident_archive.testing.azure_site import write_azure_site
from tests.test_azure import BASE, cnf4, review_texts

SEEN = "2025-01-10T00:00:00Z"


def shipped_sources(writer: ArchiveWriter, runs_in: bool = True) -> None:
    for source in load_sources():
        if source.id == "openai" and not runs_in:
            source = replace(source, options={k: v for k, v in source.options.items() if k != "runs_in"})
        writer.save_configured_source(source)


def incident(source, native_id, title, started, resolved, bodies, regions=()) -> IncidentItem:
    updates = [UpdateItem(native_id=f"{native_id}-{k}", status=status, body=body, posted_at=at)
               for k, (status, body, at) in enumerate(bodies)]
    return IncidentItem(source=source, native_id=native_id, title=title, impact="major", impact_raw="major",
                        status="resolved", started_at=started, resolved_at=resolved, updates=updates,
                        regions=[RegionItem(normalized(r), r) for r in regions])


@pytest.fixture
def seed_archive(realdata, tmp_path):
    """OpenAI's December 2024 from FAILS, Azure's CNF4-N_0 review, the shipped sources."""
    db = open_archive(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    shipped_sources(writer)
    import_paths([realdata / "research" / "FAILS" / "incident_stages_all.csv"], tmp_path / "a.db")
    write_azure_site(tmp_path / "azure", [cnf4(review_texts(realdata)["final"])])
    [azure] = parse_history_page(next((tmp_path / "azure").rglob("*page=1")).read_bytes(), "azure", BASE)
    writer.save_incident(azure, SEEN)
    return db, writer


def attributions(db, incident_id):
    return list(db.query("select * from attributions where incident_id = ? order by score desc", [incident_id]))


def test_the_seed_outage_is_attributed_to_the_azure_power_event(seed_archive):
    db, writer = seed_archive
    Attributor(db).attribute()
    [top, *_] = attributions(db, "openai:6bwlxnvdncnm")
    assert (top["candidate_id"], top["verdict"], top["rank"]) == ("azure:CNF4-N_0", "likely", 1)
    evidence = top["evidence"]
    assert "time: began at the same minute, covering 100% of it" in evidence  # both 18:40 UTC, as stated later
    assert "'upstream provider'" in evidence and "'power failure'" in evidence
    assert "place: Microsoft Azure's incident names South Central US, where OpenAI runs" in evidence
    assert "shared words:" in evidence and "datacenter" in evidence.split("shared words:")[1]
    assert top["score"] >= 0.8 and top["place_score"] == 0.15
    # Not resting on the place alone: without runs_in it is still likely.
    shipped_sources(writer, runs_in=False)
    Attributor(db).attribute()
    [top, *_] = attributions(db, "openai:6bwlxnvdncnm")
    assert (top["candidate_id"], top["verdict"], top["place_score"]) == ("azure:CNF4-N_0", "likely", 0)


def test_an_outage_of_its_own_has_no_likely_upstream_even_when_one_overlaps(seed_archive):
    db, writer = seed_archive
    # An Azure incident placed squarely over ctrsv3lwd797 (23:17 to 06:23 UTC), in the region OpenAI runs in.
    writer.save_incident(incident(
        "azure", "TEST-OVERLAP", "Network connectivity issues – South Central US", "2024-12-11T22:30:00Z",
        "2024-12-12T09:00:00Z",
        [("resolved", "Between 22:30 UTC on 11 Dec 2024 and 09:00 UTC on 12 Dec 2024, customers in South Central US "
                      "saw connection errors to API endpoints after a power event in one datacenter.",
          "2024-12-12T09:30:00Z")], regions=["South Central US"]), SEEN)
    Attributor(db).attribute()
    [only] = attributions(db, "openai:ctrsv3lwd797")
    assert only["candidate_id"] == "azure:TEST-OVERLAP" and only["verdict"] != "likely", only
    assert "names a cause of its own: 'a new telemetry'" in only["evidence"]
    assert only["time_score"] > 0.3 and only["place_score"] == 0.15  # the overlap and place are there, and not enough


def test_time_alone_is_at_most_possible_and_a_busy_provider_counts_less(tmp_path):
    db = open_archive(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    writer.save_source("cloud", "statuspage", "Cloud", "https://cloud.example")
    writer.save_source("app", "statuspage", "App", "https://app.example", depends_on=["cloud"])
    writer.save_incident(incident("app", "a1", "Elevated errors", "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z",
                                  [("resolved", "This incident has been resolved.", "2024-03-01T11:00:00Z")]), SEEN)
    writer.save_incident(incident("cloud", "c1", "Storage latency", "2024-03-01T09:50:00Z", "2024-03-01T12:00:00Z",
                                  [("resolved", "Storage latency has recovered.", "2024-03-01T12:00:00Z")]), SEEN)
    Attributor(db).attribute()
    [quiet] = attributions(db, "app:a1")
    assert quiet["verdict"] == "possible" and quiet["score"] == 0.35 and quiet["chance"] < 0.01
    # The same overlap from a provider that had an incident open half of the year before.
    for day in range(2, 366, 2):
        start = (datetime(2024, 3, 1, tzinfo=timezone.utc) - timedelta(days=day)).strftime("%Y-%m-%d")
        writer.save_incident(incident("cloud", f"busy{day}", "Busy", f"{start}T00:00:00Z", f"{start}T23:59:00Z", []),
                             SEEN)
    Attributor(db).attribute()
    [busy] = attributions(db, "app:a1")
    assert 0.45 < busy["chance"] < 0.55 and busy["time_score"] < quiet["time_score"] and busy["verdict"] == "unlikely", busy
    assert "had an incident open" in busy["evidence"]


def test_the_news_and_the_provider_name_are_evidence(tmp_path):
    db = open_archive(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    writer.save_source("cloud", "statuspage", "Cloud", "https://cloud.example", aliases=["Nimbus"])
    writer.save_source("app", "statuspage", "App", "https://app.example", depends_on=["cloud"])
    writer.save_incident(incident("app", "a1", "Errors", "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z",
                                  [("identified", "Caused by an issue at Nimbus.", "2024-03-01T10:20:00Z")]), SEEN)
    writer.save_incident(incident("cloud", "c1", "Outage", "2024-03-01T09:50:00Z", "2024-03-01T12:00:00Z", []), SEEN)
    db["articles"].insert({"id": "n1", "title": "App down as Nimbus falters", "published_at": "2024-03-01T10:05:00Z",
                           "first_seen_at": SEEN})
    db["article_incidents"].insert_all([{"article_id": "n1", "incident_id": i, "score": 0.8, "reason": "test",
                                         "linked_at": SEEN} for i in ("app:a1", "cloud:c1")])
    Attributor(db).attribute()
    [row] = attributions(db, "app:a1")
    assert row["words_score"] == 0.15 and "App names Nimbus" in row["evidence"]
    assert row["news_score"] == 0.15 and "1 article(s) linked to both" in row["evidence"]
    assert row["verdict"] == "likely"
    [lag] = db.query("select * from acknowledgement_lag where incident_id = 'app:a1'")
    assert (lag["first_to_speak"], lag["own_lag_minutes"], lag["news_lag_minutes"]) == ("news", 20.0, 5.0)
    assert lag["upstream_incident_id"] == "cloud:c1"


def test_who_said_it_first_for_the_seed_outage(seed_archive):
    db, _ = seed_archive
    Attributor(db).attribute()
    [lag] = db.query("select * from acknowledgement_lag where incident_id = 'openai:6bwlxnvdncnm'")
    # The postmortem: "Starting at 10:40am on December 26th" (PST): 18:40 UTC; first post 19:00.
    assert lag["stated_start"] == "2024-12-26T18:40:00Z" and lag["first_own_post"] == "2024-12-26T19:00:00Z"
    assert lag["own_lag_minutes"] == 20.0 and lag["upstream_incident_id"] == "azure:CNF4-N_0"
    [late] = db.query("select * from acknowledgement_lag where incident_id = 'openai:ctrsv3lwd797'")
    assert late["upstream_incident_id"] is None and late["first_to_speak"] == "provider"


def test_shared_words_leave_out_status_boilerplate():
    assert words_of("We are investigating elevated error rates in the data center") == {"datacenter"}


def test_a_region_elsewhere_and_an_article_naming_the_provider(tmp_path):
    db = open_archive(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    writer.save_source("cloud", "statuspage", "Cloud", "https://cloud.example")
    writer.save_source("app", "statuspage", "App", "https://app.example", depends_on=["cloud"],
                       runs_in={"cloud": ["East Region"]})
    writer.save_incident(incident("app", "a1", "Errors", "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", []), SEEN)
    writer.save_incident(incident("cloud", "c1", "Outage", "2024-03-01T09:50:00Z", "2024-03-01T12:00:00Z", [],
                                  regions=["West Region"]), SEEN)
    db["articles"].insert({"id": "n1", "title": "App down; Cloud blamed", "published_at": "2024-03-01T10:30:00Z",
                           "first_seen_at": SEEN})
    db["article_incidents"].insert({"article_id": "n1", "incident_id": "app:a1", "score": 0.8, "reason": "test",
                                    "linked_at": SEEN})
    Attributor(db).attribute()
    [row] = attributions(db, "app:a1")
    assert row["place_score"] == -0.10 and "was in West Region, not where App runs (East Region)" in row["evidence"]
    assert row["news_score"] == 0.10 and "an article about it names Cloud" in row["evidence"]
    assert row["score"] == 0.35 and row["verdict"] == "possible"
