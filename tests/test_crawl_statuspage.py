"""End to end: the real spider crawls a recorded Statuspage site over HTTP into an archive."""

from __future__ import annotations

import json

import sqlite_utils

from incident_archive.core.times import to_utc_iso
from incident_archive.testing.replay import path_for
from incident_archive.testing.statuspage_site import StatuspageSite
from tests.conftest import FAST, dump, run_cli, write_sources


def crawl(tmp_path, server, *extra):
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": "acme", "kind": "statuspage", "name": "Acme AI", "url": server.base_url}],
    )
    return run_cli("crawl", "--db", str(tmp_path / "archive.db"), "--sources", str(sources), *FAST, *extra)


def test_first_crawl_archives_every_incident_once_with_all_updates(tmp_path, statuspage_site):
    site = statuspage_site.site
    result = crawl(tmp_path, statuspage_site)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("acme         ok      80 new, 0 updated, 0 unchanged incidents")

    db = sqlite_utils.Database(tmp_path / "archive.db")
    assert db["incidents"].count == 80
    for incident in site.incidents:
        row = db["incidents"].get(f"acme:{incident['id']}")
        assert row["title"] == incident["name"]
        assert row["started_at"] == to_utc_iso(incident["started_at"]) and row["started_at"].endswith("Z")
        updates = list(db["incident_updates"].rows_where("incident_id = ?", [row["id"]], order_by="posted_at"))
        assert [u["native_id"] for u in updates] == [u["id"] for u in reversed(incident["incident_updates"])]
        linked = {r["component_id"] for r in db["incident_components"].rows_where("incident_id = ?", [row["id"]])}
        assert linked == {f"acme:{c['id']}" for c in incident["components"]}
    # 50 newest came from incidents.json; the other 30 were fetched one by one from the history walk.
    detail_fetches = [r for r in statuspage_site.log if r.path.startswith("/api/v2/incidents/")]
    assert len(detail_fetches) == 30
    history = [r.path for r in statuspage_site.log if r.path.startswith("/history")]
    assert history == [f"/history.json?page={n}" for n in range(1, len(site.history_pages()) + 1)]
    assert all(r.headers.get("Accept") == "application/json" for r in statuspage_site.log if r.path.startswith("/history"))
    assert "incident-archive" in statuspage_site.log[0].headers["User-Agent"]
    # Leaf components with their group; the open incident is still open.
    assert db["components"].count == 5
    assert db["components"].get(f"acme:{site.components[0]['id']}")["group_name"] == "API"
    assert db["incidents"].get(f"acme:{site.incidents[0]['id']}")["resolved_at"] is None
    run = next(db["crawl_runs"].rows)
    assert (run["outcome"], run["incidents_new"], run["updates_new"]) == ("ok", 80, sum(
        len(i["incident_updates"]) for i in site.incidents))
    assert db["sources"].get("acme")["backfilled_at"] is not None
    # Full-text search over titles and update bodies.
    assert db["incident_updates"].search("monitoring", limit=1)


def test_second_crawl_of_unchanged_site_changes_nothing_and_asks_conditionally(tmp_path, statuspage_site):
    assert crawl(tmp_path, statuspage_site).returncode == 0
    before = dump(tmp_path / "archive.db")
    statuspage_site.log.clear()

    result = crawl(tmp_path, statuspage_site)
    assert result.returncode == 0, result.stderr
    assert dump(tmp_path / "archive.db") == before
    # Only the summary and the newest incidents, each revalidated (robots.txt is trusted for
    # a day): the very bodies the last crawl took in, with the open incident among the
    # newest, so neither is parsed again and no history page is needed.
    assert "0 new, 0 updated, 0 unchanged incidents; 0 new updates (2 requests, 2 not modified)" in result.stdout
    paths = sorted(r.path for r in statuspage_site.log)
    assert paths == ["/api/v2/incidents.json", "/api/v2/summary.json"]
    assert all(r.status == 304 and "If-None-Match" in r.headers for r in statuspage_site.log)


def test_recrawl_fetches_an_unfinished_incident_the_newest_no_longer_list(tmp_path, statuspage_site):
    root, site = statuspage_site.root_dir, statuspage_site.site
    old = site.incidents[70]  # listed only on a history page
    resolved = dict(old)
    # Archived while still being monitored; it is resolved before the next crawl.
    site.incidents[70] = dict(old, status="monitoring", resolved_at=None, incident_updates=old["incident_updates"][1:])
    site.write(root)
    assert crawl(tmp_path, statuspage_site).returncode == 0
    assert sqlite_utils.Database(tmp_path / "archive.db")["incidents"].get(f"acme:{old['id']}")["resolved_at"] is None
    site.incidents[70] = resolved
    site.write(root)
    statuspage_site.log.clear()

    result = crawl(tmp_path, statuspage_site)
    assert result.returncode == 0, result.stderr
    paths = sorted(r.path for r in statuspage_site.log if r.path != "/robots.txt")
    assert paths == ["/api/v2/incidents.json", f"/api/v2/incidents/{old['id']}.json", "/api/v2/summary.json"]
    row = sqlite_utils.Database(tmp_path / "archive.db")["incidents"].get(f"acme:{old['id']}")
    assert (row["status"], row["resolved_at"]) == ("resolved", to_utc_iso(old["resolved_at"]))


def test_recrawl_walks_history_when_the_newest_are_all_new(tmp_path, statuspage_site):
    root, site = statuspage_site.root_dir, statuspage_site.site
    # The first crawl saw only the 20 oldest; 60 incidents appeared since, more than
    # incidents.json lists, so ten are only on the history pages.
    StatuspageSite(site.page, site.components, site.incidents[60:], newest=site.newest).write(root)
    assert crawl(tmp_path, statuspage_site).returncode == 0
    assert sqlite_utils.Database(tmp_path / "archive.db")["incidents"].count == 20
    site.write(root)
    statuspage_site.log.clear()

    result = crawl(tmp_path, statuspage_site)
    assert result.returncode == 0, result.stderr
    assert "60 new, 0 updated" in result.stdout
    assert sqlite_utils.Database(tmp_path / "archive.db")["incidents"].count == 80
    assert any(r.path == "/history.json?page=1" for r in statuspage_site.log)


def test_later_crawl_takes_new_updates_and_keeps_updates_that_left_the_page(tmp_path, statuspage_site):
    assert crawl(tmp_path, statuspage_site).returncode == 0
    root, site = statuspage_site.root_dir, statuspage_site.site
    listing = json.loads((root / path_for("/api/v2/incidents.json")).read_text())
    # The open incident is resolved; an old update of another incident drops off the page.
    open_incident, other = listing["incidents"][0], listing["incidents"][5]
    resolved = dict(open_incident["incident_updates"][0], id="newresolved1", status="resolved",
                    body="This incident has been resolved.", created_at="2024-12-30T13:00:00.000-08:00",
                    display_at="2024-12-30T13:00:00.000-08:00")
    open_incident["incident_updates"].insert(0, resolved)
    open_incident.update(status="resolved", resolved_at=resolved["created_at"])
    dropped = other["incident_updates"].pop()
    (root / path_for("/api/v2/incidents.json")).write_text(json.dumps(listing))

    result = crawl(tmp_path, statuspage_site)
    assert result.returncode == 0, result.stderr
    assert "0 new, 2 updated, 48 unchanged incidents; 1 new updates" in result.stdout
    db = sqlite_utils.Database(tmp_path / "archive.db")
    row = db["incidents"].get(f"acme:{site.incidents[0]['id']}")
    assert (row["status"], row["resolved_at"]) == ("resolved", "2024-12-30T21:00:00Z")
    assert row["duration_s"] > 0
    assert db["incident_updates"].get(f"acme:{other['id']}:{dropped['id']}")["body"] == dropped["body"]


def test_unreachable_source_is_named_and_the_others_complete(tmp_path, statuspage_site):
    sources = write_sources(
        tmp_path / "sources.toml",
        [
            {"id": "down", "kind": "statuspage", "name": "Down", "url": "http://127.0.0.1:9"},
            {"id": "acme", "kind": "statuspage", "name": "Acme AI", "url": statuspage_site.base_url},
        ],
    )
    result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST,
                     "--setting", "RETRY_TIMES=0")
    assert result.returncode == 1
    down, acme = result.stdout.splitlines()
    assert down.startswith("down         FAILED  could not reach 127.0.0.1:9 (connection refused)")
    assert acme.startswith("acme         ok      80 new")
    db = sqlite_utils.Database(tmp_path / "a.db")
    run = next(db["crawl_runs"].rows_where("source = 'down'"))
    assert run["outcome"] == "failed" and run["error"] == "could not reach 127.0.0.1:9 (connection refused)"


def test_only_named_sources_are_crawled(tmp_path, statuspage_site):
    sources = write_sources(
        tmp_path / "sources.toml",
        [
            {"id": "down", "kind": "statuspage", "name": "Down", "url": "http://127.0.0.1:9"},
            {"id": "acme", "kind": "statuspage", "name": "Acme AI", "url": statuspage_site.base_url},
        ],
    )
    result = run_cli("crawl", "acme", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST)
    assert result.returncode == 0 and result.stdout.count("\n") == 1
    unknown = run_cli("crawl", "nope", "--db", str(tmp_path / "a.db"), "--sources", str(sources))
    assert unknown.returncode != 0 and "unknown source(s): nope" in unknown.stderr


def test_incidents_json_broken_falls_back_to_the_atom_feed(tmp_path, statuspage_site):
    (statuspage_site.root_dir / "api" / "v2" / "incidents.json").write_text("<html>maintenance</html>")
    result = crawl(tmp_path, statuspage_site)
    assert result.returncode == 0, result.stdout
    # The history walk still fetches every incident it lacks, with full detail.
    assert "80 new" in result.stdout
    db = sqlite_utils.Database(tmp_path / "archive.db")
    run = next(db["crawl_runs"].rows)
    assert "incidents.json failed" in run["notes"] and "used /history.atom" in run["notes"]
    newest = statuspage_site.site.incidents[0]
    row = db["incidents"].get(f"acme:{newest['id']}")
    assert row["title"] == newest["name"]
    assert db["incident_updates"].count_where("incident_id = ?", [row["id"]]) == len(newest["incident_updates"])


def test_a_page_whose_robots_txt_forbids_the_api_is_archived_completely(tmp_path):
    """status.claude.com's robots.txt disallows /api/ (seen 2026-09): the same data is read
    from /index.json, /history.json and /incidents/<code>.json, and nothing under /api/."""
    from incident_archive.testing.replay import serving
    from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage

    site = SyntheticStatuspage(SiteSpec("Claude", incidents=75, seed=13, days_between=4.0)).site()
    root = site.write(tmp_path / "site", robots_txt="User-agent: *\nDisallow: /api/\n")
    with serving(root) as server:
        first = crawl(tmp_path, server)
        asked = [r.path for r in server.log]
        server.log.clear()
        again = crawl(tmp_path, server)
        asked_again = [r.path for r in server.log]
        server.log.clear()
        crawl(tmp_path, server, "--setting", "ARCHIVE_ROBOTSTXT_MAX_AGE=0")
        asked_without_trust = [r.path for r in server.log]
    assert first.returncode == 0, first.stdout
    assert first.stdout.startswith("acme         ok      75 new")
    assert not any(path.startswith("/api/") for path in asked + asked_again)
    assert "/robots.txt" in asked and "/index.json" in asked
    db = sqlite_utils.Database(tmp_path / "archive.db")
    assert db["incidents"].count == 75 and db["components"].count == 5
    assert db["sources"].get("acme")["backfilled_at"] is not None
    assert "robots.txt forbids /api/" in db.execute("SELECT notes FROM crawl_runs").fetchone()[0]
    # A later crawl reads the first history page and the open incident, and nothing else anew.
    assert again.returncode == 0 and "0 new" in again.stdout
    assert sorted(asked_again) == sorted(
        ["/index.json", "/history.json?page=1", f"/incidents/{site.incidents[0]['id']}.json"])
    # robots.txt was trusted for the day (RFC 9309 allows it); with no day of trust it is asked again.
    assert asked_without_trust.count("/robots.txt") == 1


def test_sources_of_one_crawl_keep_their_own_requests_and_reports(tmp_path, statuspage_site):
    """One crawler serves every source: two sources naming the same page each fetch it
    (the duplicate filter is per source), each archives all of it, and each run counts
    its own requests; robots.txt, one per host, counts once, for the source that needed it first."""
    sources = write_sources(tmp_path / "sources.toml", [
        {"id": "first", "kind": "statuspage", "name": "First", "url": statuspage_site.base_url},
        {"id": "second", "kind": "statuspage", "name": "Second", "url": statuspage_site.base_url},
    ])
    result = run_cli("crawl", "--db", str(tmp_path / "archive.db"), "--sources", str(sources), *FAST)
    assert result.returncode == 0, result.stdout + result.stderr
    db = sqlite_utils.Database(tmp_path / "archive.db")
    for source in ("first", "second"):
        assert db.execute("select count(*) from incidents where source = ?", [source]).fetchone()[0] == 80
    runs = {row["source"]: row for row in db["crawl_runs"].rows}
    assert {run["outcome"] for run in runs.values()} == {"ok"}
    asked = [r.path for r in statuspage_site.log]
    assert asked.count("/robots.txt") == 1 and asked.count("/api/v2/incidents.json") == 2
    # Each run: its own pages (summary, the 50 newest, the history pages, the 30 older
    # incidents), which the server saw twice; the first, robots.txt as well.
    own_pages = 2 + sum(path.startswith("/history") for path in asked) // 2 + 30
    assert (runs["first"]["requests"], runs["second"]["requests"]) == (1 + own_pages, own_pages)
    assert len(asked) == 1 + 2 * own_pages
