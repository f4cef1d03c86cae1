"""Real data end to end: GitHub's 123 real incidents of 2022, served as githubstatus.com
would serve them (summary, the 50 newest, history pages, one file per incident) and
crawled by the real spider."""

from __future__ import annotations

import json

import pytest
import sqlite_utils

from incident_archive.testing.replay import serving
from incident_archive.testing.statuspage_site import StatuspageSite
from tests.conftest import FAST, run_cli, write_sources


@pytest.fixture
def github_2022(realdata, tmp_path):
    documents = [json.loads(f.read_text()) for f in (realdata / "github" / "incidents-2022").glob("*.json")]
    incidents = sorted((d["incident"] for d in documents), key=lambda i: i["created_at"], reverse=True)
    components = {c["id"]: c for i in incidents for c in i["components"]}
    site = StatuspageSite(documents[0]["page"], list(components.values()), incidents)
    with serving(site.write(tmp_path / "githubstatus")) as server:
        server.site = site
        yield server


def test_real_github_history_crawled_end_to_end(tmp_path, github_2022):
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": "github", "kind": "statuspage", "name": "GitHub", "url": github_2022.base_url}],
    )
    db_path = tmp_path / "archive.db"
    first = run_cli("crawl", "--db", str(db_path), "--sources", str(sources), *FAST, check_exit=0)
    assert first.stdout.startswith("github       ok      123 new, 0 updated, 0 unchanged incidents; 521 new updates")
    assert len([r for r in github_2022.log if r.path.startswith("/api/v2/incidents/")]) == 73

    db = sqlite_utils.Database(db_path)
    assert db["incidents"].count == 123 and db["incident_updates"].count == 521
    impacts = dict(db.execute("SELECT impact, count(*) FROM incidents GROUP BY impact").fetchall())
    assert impacts == {"minor": 97, "major": 19, "none": 7}
    row = db["incidents"].get("github:298l2r792bl7")
    assert (row["title"], row["impact"], row["started_at"], row["resolved_at"], row["duration_s"]) == (
        "Incident with Issues", "major", "2022-10-13T20:47:46Z", "2022-10-13T21:30:07Z", 2541)
    linked = db.execute(
        "SELECT c.name FROM incident_components ic JOIN components c ON c.id = ic.component_id "
        "WHERE ic.incident_id = 'github:01g5rt6z89q2' ORDER BY c.name"
    ).fetchall()
    assert linked == [("Git Operations",), ("Pull Requests",)]
    codespaces = db.execute(
        "SELECT count(*) FROM incident_components WHERE component_id = 'github:h2ftsgbw7kmk'"
    ).fetchone()[0]
    assert codespaces > 10

    # Summary and newest incidents, each answered 304 (robots.txt is trusted for a day): the
    # bodies the last poll took in, every incident finished, so neither is parsed again
    # and no history page is asked for.
    second = run_cli("crawl", "--db", str(db_path), "--sources", str(sources), *FAST, check_exit=0)
    assert "0 new, 0 updated, 0 unchanged incidents; 0 new updates (2 requests, 2 not modified)" in second.stdout
