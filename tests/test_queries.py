"""The search page counts matches in the full-text index and stays one page at any size;
the dated queries take in the whole day they end on."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest

from incident_archive.archive.search import COUNT_BOUND
from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.archive.web import datasette_instance
from incident_archive.core.items import IncidentItem, UpdateItem


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def search(ds, q, kind=""):
    return get(ds, "/archive/search.json?" + urlencode({"q": q, "kind": kind, "_shape": "array"})).json()


@pytest.fixture
def archive(tmp_path):
    """Two incidents: the word "power" three times in one short update, once in a long one."""
    db_path = tmp_path / "archive.db"
    writer = ArchiveWriter(open_archive(db_path))
    writer.save_source("cloud", "statuspage", "Cloud", "https://cloud.example")
    for native_id, title, body in (
            ("a1", "Power event in one datacenter", "Power lost, power restored, power stable."),
            ("a2", "Degraded storage", "A long update about storage nodes, disks, queues, retries, replicas, "
                                       "latency and, in one place, power.")):
        writer.save_incident(IncidentItem(
            source="cloud", native_id=native_id, title=title, impact="major", impact_raw="major", status="resolved",
            started_at="2024-12-26T19:00:00Z", resolved_at="2024-12-26T21:00:00Z",
            updates=[UpdateItem("u1", "identified", body, "2024-12-26T19:30:00Z"),
                     UpdateItem("u2", "resolved", "Resolved.", "2024-12-26T21:00:00Z")]))
    writer.db.close()
    return db_path


def test_few_matches_come_best_first_with_their_counts(archive):
    ds = datasette_instance(archive)
    assert [(h["kind"], h["id"]) for h in search(ds, "power", "update")] == [("update", "cloud:a1"),
                                                                          ("update", "cloud:a2")]
    assert {(h["kind"], h["id"]) for h in search(ds, "power")} == {
        ("incident", "cloud:a1"), ("update", "cloud:a1"), ("update", "cloud:a2")}
    page = get(ds, "/archive/search?" + urlencode({"q": "power"})).text
    assert "Matches:\n1 incident, 2 updates" in page
    assert 'href="/archive/incident_updates?_search=power&amp;_nocount=1"' in page
    assert "Matches:\nnone." in get(ds, "/archive/search?q=nowhere").text


def test_a_table_searched_alone_goes_to_the_search_page(archive):
    ds = datasette_instance(archive)
    answer = get(ds, "/archive/incident_updates?_search=power+event")
    assert answer.status_code == 302
    assert answer.headers["location"] == "/archive/search?q=power+event&kind=update"
    assert get(ds, "/archive/incidents?_search=power").headers["location"] == "/archive/search?q=power&kind=incident"
    # Searched with a filter too, or as JSON: Datasette's own table search, exact.
    assert get(ds, "/archive/incident_updates?_search=power&status=identified").status_code == 200
    assert len(get(ds, "/archive/incident_updates.json?_search=power&_shape=array").json()) == 2


def test_past_the_bound_the_newest_matches_come_first_and_the_count_says_more(archive):
    db = open_archive(archive)
    db["incident_updates"].insert_all(
        ({"id": f"cloud:a2:n{n}", "incident_id": "cloud:a2", "native_id": f"n{n}", "status": "monitoring",
          "body": f"Power check {n}" + (", a longer text that a ranking would put last" if n % 2 else ""), "posted_at": "2024-12-26T20:00:00Z", "first_seen_at": "2024-12-26T20:00:00Z"}
         for n in range(COUNT_BOUND)), batch_size=2000)
    ArchiveWriter(db).index_new_text()
    db.close()
    ds = datasette_instance(archive)
    hits = search(ds, "power", "update")
    assert len(hits) == 100
    # The most recently archived first, long or short: no ranking of ten thousand matches.
    assert [h["snippet"].split(",")[0] for h in hits] == [f"«Power» check {n}" for n in range(COUNT_BOUND - 1,
                                                                                              COUNT_BOUND - 101, -1)]
    assert "Matches:\nmore than 10,000 updates" in get(ds, "/archive/search?q=power&kind=update").text


def test_until_takes_in_the_whole_day_it_names(archive):
    """Both incidents were first posted at 2024-12-26T19:30Z: until=2024-12-26 keeps them
    (compared as text with '2024-12-26', they fell outside their own day)."""
    ds = datasette_instance(archive)
    for until, expected in (("2024-12-26", 2), ("2024-12", 2), ("2024-12-26T19:30:00Z", 2), ("2024-12-25", 0)):
        rows = get(ds, "/archive/incidents_by_impact_between.json?" + urlencode(
            {"since": "2024-12-01", "until": until, "_shape": "array"})).json()
        assert sum(r["incidents"] for r in rows) == expected, until
        resolve = get(ds, "/archive/time_to_resolve_between.json?" + urlencode(
            {"since": "", "until": until, "_shape": "array"})).json()
        assert sum(r["incidents"] for r in resolve) == expected, until
        gaps = get(ds, "/archive/time_between_failures_between.json?" + urlencode(
            {"since": "2024-12-26", "until": until, "_shape": "array"})).json()
        assert sum(r["gaps"] for r in gaps) == max(0, expected - 1), until


def test_views_over_every_incident_are_served_without_a_count(archive):
    """Datasette counts a view by running it whole; these serve their rows and no total."""
    ds = datasette_instance(archive)
    stages = get(ds, "/archive/incident_stages.json").json()
    assert stages["filtered_table_rows_count"] is None and len(stages["rows"]) == 2
    assert "_nocount=1" in get(ds, "/archive/incident_stages").text  # its links keep it
    assert get(ds, "/archive/incidents.json").json()["filtered_table_rows_count"] == 2
    counted = get(ds, "/archive/incident_stages.json?_nocount=").json()
    assert counted["filtered_table_rows_count"] == 2  # asked for, still given


def test_a_time_prefix_filter_reads_the_index_and_finds_the_same_rows(archive):
    writer = ArchiveWriter(open_archive(archive))
    for native_id, started in (("b1", "2023-12-31T23:59:59Z"), ("b2", "2025-01-01T00:00:00Z")):
        writer.save_incident(IncidentItem(source="cloud", native_id=native_id, title=f"Edge {native_id}",
                                          impact="minor", impact_raw="minor", status="resolved", started_at=started,
                                          resolved_at=started, updates=[UpdateItem("u1", "resolved", "Done.", started)]))
    writer.db.close()
    ds = datasette_instance(archive)

    def filtered(query: str) -> tuple[list[str], str]:
        answer = get(ds, "/archive/incidents.json?" + query).json()
        return sorted(row[0] for row in answer["rows"]), answer["query"]["sql"]

    ids, sql = filtered("started_at__startswith=2024")
    assert ids == ["cloud:a1", "cloud:a2"]
    assert "like" not in sql.lower() and '"started_at" >= ' in sql and '"started_at" < ' in sql
    assert filtered("started_at__startswith=2024-12-26T19")[0] == ["cloud:a1", "cloud:a2"]
    assert filtered("started_at__startswith=2023-12-31T23:59:59Z")[0] == ["cloud:b1"]
    # Not a time prefix, or not a time column: Datasette's own LIKE, which ignores case.
    ids, sql = filtered("started_at__startswith=2024-12-26t19")
    assert ids == ["cloud:a1", "cloud:a2"] and "like" in sql.lower()
    assert "like" in filtered("title__startswith=power")[1].lower()
    csv = get(ds, "/archive/incidents.csv?started_at__startswith=2025&_size=max").text
    assert "cloud:b2" in csv and "cloud:a1" not in csv
