"""Google Cloud's incidents.json: the real rolling year, parsed and crawled."""

import json

import sqlite_utils

from incident_archive.crawl.parsers.gcp import parse_incidents
from incident_archive.testing.replay import serving
from tests.conftest import FAST, run_cli, write_sources

BASE = "https://status.cloud.google.com"


def test_real_gcp_year(realdata):
    incidents, problems = parse_incidents((realdata / "gcp" / "incidents.json").read_bytes(), "gcp", BASE)
    assert problems == [] and len(incidents) == 157
    impacts = {}
    for incident in incidents:
        impacts[incident.impact] = impacts.get(incident.impact, 0) + 1
    assert impacts["none"] == 19  # SERVICE_INFORMATION
    assert sum(impacts.values()) == 157 and set(impacts) <= {"none", "minor", "major", "critical"}
    bigquery = next(i for i in incidents if i.native_id == "TaA75H7XA1DQyM2ReK2f")
    assert bigquery.title == "[Google BigQuery] Lower throughput from the Read API"
    assert (bigquery.started_at, bigquery.resolved_at) == ("2022-07-01T13:37:44Z", "2022-07-01T19:25:45Z")
    assert (bigquery.impact, bigquery.impact_raw, bigquery.status) == ("none", "SERVICE_INFORMATION/low", "resolved")
    assert [c.name for c in bigquery.components] == ["Google BigQuery"]
    assert len(bigquery.updates) == 5 and bigquery.updates[-1].status == "AVAILABLE"
    assert bigquery.updates[0].posted_at < bigquery.updates[-1].posted_at
    assert {"us-central1", "europe-west1", "asia-east1"} <= {r.native_id for r in bigquery.regions}
    assert bigquery.url == "https://status.cloud.google.com/incidents/TaA75H7XA1DQyM2ReK2f"


def test_gcp_crawled_end_to_end(tmp_path):
    # Our own recording in the real shape: one resolved outage, one still open.
    feed = [
        {"id": "gcpA1", "number": "1", "begin": "2024-12-26T18:50:00+00:00", "created": "2024-12-26T19:05:00+00:00",
         "end": "2024-12-26T21:00:00+00:00", "modified": "2024-12-26T21:00:00+00:00",
         "external_desc": "[Vertex AI] Elevated errors in us-central1", "status_impact": "SERVICE_OUTAGE",
         "severity": "high", "affected_products": [{"title": "Vertex AI", "id": "vtx"}], "uri": "incidents/gcpA1",
         "updates": [
             {"created": "2024-12-26T21:00:00+00:00", "when": "2024-12-26T21:00:00+00:00", "status": "AVAILABLE",
              "text": "Resolved.", "affected_locations": [{"id": "us-central1", "title": "Iowa (us-central1)"}]},
             {"created": "2024-12-26T19:05:00+00:00", "when": "2024-12-26T19:05:00+00:00",
              "status": "SERVICE_OUTAGE", "text": "We are investigating.",
              "affected_locations": [{"id": "us-central1", "title": "Iowa (us-central1)"}]}]},
        {"id": "gcpB2", "number": "2", "begin": "2024-12-30T08:00:00+00:00", "created": "2024-12-30T08:10:00+00:00",
         "modified": "2024-12-30T08:10:00+00:00", "external_desc": "[Cloud Storage] Latency in europe-west4",
         "status_impact": "SERVICE_DISRUPTION", "severity": "medium",
         "affected_products": [{"title": "Cloud Storage", "id": "gcs"}], "uri": "incidents/gcpB2",
         "updates": [{"created": "2024-12-30T08:10:00+00:00", "when": "2024-12-30T08:10:00+00:00",
                      "status": "SERVICE_DISRUPTION", "text": "Investigating latency.",
                      "affected_locations": [{"id": "europe-west4", "title": "Netherlands (europe-west4)"}]}]},
    ]
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "incidents.json").write_text(json.dumps(feed))
    # Google sends Last-Modified and answers If-Modified-Since in full anyway.
    with serving(tmp_path / "site", validators="ignored") as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "gcp", "kind": "gcp", "name": "Google Cloud",
                                                       "url": server.base_url}])
        first = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST, check_exit=0)
        second = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST, check_exit=0)
        statuses = [r.status for r in server.log if r.path == "/incidents.json"]
    assert "2 new, 0 updated, 0 unchanged incidents; 3 new updates" in first.stdout
    # The same body again: downloaded (200), but neither parsed nor written; robots.txt
    # (absent: a 404) is trusted for a day, so one request went out.
    assert "0 new, 0 updated, 0 unchanged incidents; 0 new updates (1 request, 0 not modified)" in second.stdout
    assert statuses == [200, 200]
    assert "the same body as last time" in sqlite_utils.Database(tmp_path / "a.db").execute(
        "SELECT notes FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    db = sqlite_utils.Database(tmp_path / "a.db")
    row = db["incidents"].get("gcp:gcpA1")
    assert (row["impact"], row["started_at"], row["resolved_at"], row["duration_s"]) == (
        "critical", "2024-12-26T18:50:00Z", "2024-12-26T21:00:00Z", 7800)
    assert db["incidents"].get("gcp:gcpB2")["resolved_at"] is None
    regions = db.execute("SELECT region, count(*) FROM incident_regions GROUP BY region ORDER BY region").fetchall()
    assert regions == [("europe-west4", 1), ("us-central1", 1)]


def test_incidents_that_leave_the_rolling_window_stay_archived(realdata, tmp_path):
    """Snapshots of the real feed as its window of four months moves on, two months at a
    time: every incident that was ever in the window stays archived, unchanged."""
    feed = json.loads((realdata / "gcp" / "incidents.json").read_text())
    months = sorted({i["begin"][:7] for i in feed})
    (tmp_path / "site").mkdir()
    seen: dict[str, dict] = {}
    with serving(tmp_path / "site", validators="ignored") as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "gcp", "kind": "gcp", "name": "Google Cloud",
                                                       "url": server.base_url}])
        starts = sorted({*range(0, len(months) - 3, 2), len(months) - 4})  # two months on at a time
        for first in starts:
            window = set(months[first:first + 4])
            snapshot = [i for i in feed if i["begin"][:7] in window]
            (tmp_path / "site" / "incidents.json").write_text(json.dumps(snapshot))
            run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST, check_exit=0)
            db = sqlite_utils.Database(tmp_path / "a.db")
            for incident in snapshot:
                seen[incident["id"]] = db["incidents"].get(f"gcp:{incident['id']}")
            db.close()
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert db["incidents"].count == len(seen) == len({i["id"] for i in feed})
    for native_id, row in seen.items():
        assert db["incidents"].get(f"gcp:{native_id}") == row  # as when it was last in the window
    assert db.execute("SELECT count(*) FROM incidents WHERE removed_at IS NOT NULL").fetchone() == (0,)
    assert db.execute("SELECT max(version) FROM incident_versions").fetchone() == (1,)
