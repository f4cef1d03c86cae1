"""Completeness: whatever a crawl goes through, nothing a page served is lost for good.

Each case injects a fault into a site that grew since the last crawl, then runs one
clean crawl, and compares the archive table by table with an uninterrupted crawl of the
same site.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlite_utils

from incident_archive.testing.replay import serving
from incident_archive.testing.statuspage_site import StatuspageSite
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage
from tests.conftest import FAST, copy_archive, run_cli, write_sources
from tests.conftest import content as archived
from tests.faults import Fault, fault_serving

QUICK = [*FAST, "-s", "RETRY_TIMES=1", "-s", "ARCHIVE_RETRY_BACKOFF_BASE=0.05", "-s", "DOWNLOAD_TIMEOUT=3"]
TABLES = ["sources", "components", "incidents", "incident_updates", "incident_components", "incident_versions",
          "update_versions", "source_walks"]
OLD, GROWN = 60, 420  # incidents before and after the site grew


def content(db_path) -> dict[str, list]:
    return archived(db_path, TABLES)


def sites(root: Path) -> tuple[Path, Path, int]:
    """One Statuspage site as it was (the OLD oldest incidents) and after it grew."""
    grown = SyntheticStatuspage(SiteSpec("Grown", incidents=GROWN, seed=8, days_between=1.0)).site()
    old_incidents = grown.incidents[GROWN - OLD:]
    old = StatuspageSite(grown.page, grown.components, old_incidents)
    return old.write(root / "old"), grown.write(root / "grown"), len(grown.history_pages())


@pytest.fixture(scope="module")
def grown_site(tmp_path_factory):
    """A site crawled before it grew (``before.db``), then the reference: the grown site
    crawled without a fault (``reference.db``)."""
    root = tmp_path_factory.mktemp("grown")
    old, grown, pages = sites(root)
    with fault_serving(old) as server:
        sources = write_sources(root / "s.toml", [{"id": "grown", "kind": "statuspage", "name": "Grown",
                                                   "url": server.base_url}])
        run_cli("crawl", "--db", str(root / "before.db"), "--sources", str(sources), *QUICK, check_exit=0)
        copy_archive(root / "before.db", root / "reference.db")
        server.root = grown
        run_cli("crawl", "--db", str(root / "reference.db"), "--sources", str(sources), *QUICK, check_exit=0)
        server.root = old
        yield {"server": server, "sources": sources, "root": root, "old": old, "grown": grown, "pages": pages}


def recrawl(site, db_path, *extra):
    return run_cli("crawl", "--db", str(db_path), "--sources", str(site["sources"]), *QUICK, *extra)


def start_recrawl(site, db_path, *extra) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "incident_archive.cli", "crawl", "--db", str(db_path), "--sources", str(site["sources"]),
         *QUICK, "-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "ARCHIVE_BATCH_SIZE=10",
         *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def incidents(db_path) -> int:
    db = sqlite_utils.Database(db_path)
    try:
        return db["incidents"].count
    finally:
        db.close()


def assert_completed_equals_reference(site, db_path):
    site["server"].faults = {}
    final = recrawl(site, db_path)
    assert final.returncode == 0, final.stdout + final.stderr
    assert incidents(db_path) == GROWN
    assert content(db_path) == content(site["root"] / "reference.db")


def test_the_reference_holds_the_whole_grown_site(grown_site):
    db = sqlite_utils.Database(grown_site["root"] / "reference.db")
    assert db["incidents"].count == GROWN and grown_site["pages"] > 5
    walk = db["source_walks"].get("grown")
    assert walk["reached_end"] == 1 and walk["open_top"] is None and walk["covered_until"] == "2024-12"


@contextmanager
def grown_since(site, tmp_path):
    """A copy of the archive made before the site grew, with the site grown meanwhile."""
    db_path = copy_archive(site["root"] / "before.db", tmp_path / "a.db")
    site["server"].root = site["grown"]
    try:
        yield db_path
    finally:
        site["server"].root, site["server"].faults = site["old"], {}


def wait_for_incidents(db_path, more_than: int) -> None:
    deadline = time.monotonic() + 60
    while incidents(db_path) <= more_than and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_history_page_failing_on_a_recrawl_is_resumed(grown_site, tmp_path):
    with grown_since(grown_site, tmp_path) as db_path:
        grown_site["server"].faults = {"/history.json?page=2": Fault("status", 503)}
        failed = recrawl(grown_site, db_path)
        assert failed.returncode == 1
        assert "grown        FAILED  " in failed.stdout and "/history.json?page=2: HTTP 503" in failed.stdout
        kept = incidents(db_path)
        walk = sqlite_utils.Database(db_path)["source_walks"].get("grown")
        assert (walk["resume_at"], walk["open_top"]) == ("2", "2024-12")
        assert_completed_equals_reference(grown_site, db_path)
    assert OLD < kept < GROWN


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_crawl_honestly_and_the_next_goes_on(grown_site, tmp_path, signum, code):
    with grown_since(grown_site, tmp_path) as db_path:
        process = start_recrawl(grown_site, db_path)
        wait_for_incidents(db_path, OLD + 60)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == code, stdout + stderr
        assert "Traceback" not in stderr and "ReactorNotRunning" not in stderr
        assert stdout.startswith("grown        STOPPED stopped by a signal"), stdout
        assert f"Stopped by {signal.Signals(signum).name}" in stderr
        db = sqlite_utils.Database(db_path)
        run = db.execute("SELECT outcome FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
        assert run == ("interrupted",)
        walk = db["source_walks"].get("grown")
        assert walk["open_top"] == "2024-12" and walk["resume_at"] is not None
        assert OLD < db["incidents"].count < GROWN and db["sources"].get("grown")["backfilled_at"] is not None
        db.close()
        assert_completed_equals_reference(grown_site, db_path)


def test_a_kill_after_the_first_batch_is_resumed(grown_site, tmp_path):
    with grown_since(grown_site, tmp_path) as db_path:
        process = start_recrawl(grown_site, db_path)
        wait_for_incidents(db_path, OLD)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        assert OLD < incidents(db_path) < GROWN
        assert_completed_equals_reference(grown_site, db_path)


def test_a_quiet_quarter_is_walked_through(realdata, tmp_path):
    """Real GitHub incidents of 2022 with July to September left quiet: the history page
    of that quarter lists no incidents, and the walk goes on past it to January."""
    records = [json.loads(p.read_text()) for p in sorted((realdata / "github" / "incidents-2022").glob("*.json"))]
    page = records[0]["page"]
    served = sorted((r["incident"] for r in records if r["incident"]["created_at"][:7] not in
                     ("2022-07", "2022-08", "2022-09")), key=lambda i: i["created_at"], reverse=True)
    site = StatuspageSite(page, [], served)
    pages = site.history_pages()
    assert [m["incidents"] for m in pages[1]["months"]] == [[], [], []]  # the quiet quarter
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "github", "kind": "statuspage", "name": "GitHub",
                                                       "url": server.base_url}])
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST)
    assert result.returncode == 0, result.stdout + result.stderr
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert db["incidents"].count == len(served) == 94
    assert {r["native_id"] for r in db["incidents"].rows} == {i["id"] for i in served}
    assert db["sources"].get("github")["backfilled_at"] is not None


def test_a_history_that_loops_or_never_ends_is_bounded(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Loop", incidents=120, seed=4, days_between=2.0)).site()
    root = site.write(tmp_path / "site")
    page1 = (root / "history.json@page=1").read_bytes()
    with fault_serving(root) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "loop", "kind": "statuspage", "name": "Loop",
                                                       "url": server.base_url}])
        server.faults = {"/history.json?page=3": Fault("body", body=page1)}
        looped = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *QUICK)
        history = [r.path for r in server.log if r.path.startswith("/history")]
        server.faults = {}
        endless = run_cli("crawl", "--db", str(tmp_path / "b.db"), "--sources", str(sources), *QUICK,
                          "-s", "ARCHIVE_MAX_PAGES=2")
        assert looped.returncode == 1 and "history page 3 repeats page 1" in looped.stdout
        assert history == ["/history.json?page=1", "/history.json?page=2", "/history.json?page=3"]
        # What the walk fetched before the loop is archived; the walk is not taken as complete.
        db = sqlite_utils.Database(tmp_path / "a.db")
        assert db["incidents"].count > 50 and db["sources"].get("loop")["backfilled_at"] is None
        assert endless.returncode == 1 and "the history walk stopped after 2 pages (ARCHIVE_MAX_PAGES)" in endless.stdout
        assert sqlite_utils.Database(tmp_path / "b.db")["source_walks"].get("loop")["resume_at"] == "3"
        # Once the page is right again (or the limit higher), the walk goes on to the end.
        for db in ("a.db", "b.db", "reference.db"):
            run_cli("crawl", "--db", str(tmp_path / db), "--sources", str(sources), *QUICK, check_exit=0)
    reference = content(tmp_path / "reference.db")
    assert content(tmp_path / "a.db") == content(tmp_path / "b.db") == reference
    assert len(reference["incidents"]) == 120


def test_an_update_served_empty_never_blanks_the_archived_text(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Blank", incidents=30, seed=9)).site()
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "blank", "kind": "statuspage", "name": "Blank",
                                                       "url": server.base_url}])
        run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST, check_exit=0)
        before = content(tmp_path / "a.db")["incident_updates"]
        for number, incident in enumerate(site.incidents):
            for update in incident["incident_updates"]:
                update["body"] = None if number % 2 else ""
        site.write(tmp_path / "site")
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST)
    assert result.returncode == 0, result.stdout
    assert content(tmp_path / "a.db")["incident_updates"] == before
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert db.execute("SELECT count(*) FROM incident_updates WHERE body IS NULL OR body = ''").fetchone() == (0,)
    assert db["update_versions"].count == db["incident_updates"].count  # nothing new to keep


def test_every_change_is_kept_as_a_version_and_a_removal_is_recorded(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Edit", incidents=30, seed=10)).site()
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "edit", "kind": "statuspage", "name": "Edit",
                                                       "url": server.base_url}])
        run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST, check_exit=0)
        between = sqlite_utils.Database(tmp_path / "a.db").execute("SELECT max(observed_at) FROM incident_versions"
                                                                   ).fetchone()[0]
        time.sleep(1.1)
        edited, vanished = site.incidents[3], site.incidents[5]
        original_title, original_impact = edited["name"], edited["impact"]
        edited["name"] = "Retitled after the fact"
        edited["impact"] = "none" if original_impact != "none" else "critical"
        edited["incident_updates"][0]["body"] = "A corrected resolution text."
        site.incidents.remove(vanished)
        site.write(tmp_path / "site")
        (tmp_path / "site" / "api/v2/incidents" / f"{vanished['id']}.json").unlink()
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST)
    assert result.returncode == 0, result.stdout
    assert "1 removed" in result.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    key = f"edit:{edited['id']}"
    versions = list(db["incident_versions"].rows_where("incident_id = ?", [key], order_by="version"))
    assert [v["title"] for v in versions] == [original_title, "Retitled after the fact"]
    assert json.loads(versions[1]["changed"])[:2] == ["title", "impact"]
    assert db["incidents"].get(key)["title"] == "Retitled after the fact"
    update = db["incident_updates"].get(f"{key}:{edited['incident_updates'][0]['id']}")
    bodies = [v["body"] for v in db["update_versions"].rows_where("update_id = ?", [update["id"]], order_by="version")]
    assert bodies[-1] == update["body"] == "A corrected resolution text." and len(bodies) == 2
    # The vanished incident stays archived, marked removed, with a version saying so.
    gone = db["incidents"].get(f"edit:{vanished['id']}")
    assert gone["removed_at"] is not None
    revised = {(r["incident_id"], r["revision"]) for r in db.query("SELECT * FROM incidents_revised")}
    assert (f"edit:{vanished['id']}", "removed") in revised
    assert (key, "downgraded" if original_impact != "none" else "retitled") in revised
    # What the page said before the edit, from the canned query's SQL.
    from incident_archive.archive.web import load_metadata

    sql = load_metadata(tmp_path / "a.db")["databases"]["a"]["queries"]["page_as_of"]["sql"]
    then = {r["incident_id"]: r["title"] for r in db.query(sql, {"source": "edit", "at": between})}
    now = {r["incident_id"]: r["title"] for r in db.query(sql, {"source": "edit", "at": "9999"})}
    assert then[key] == original_title and now[key] == "Retitled after the fact"
    assert f"edit:{vanished['id']}" in then and f"edit:{vanished['id']}" not in now


def test_a_repeated_id_and_absurd_times_are_named_and_the_records_kept(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Odd", incidents=12, seed=11)).site()
    root = site.write(tmp_path / "site")
    listing = json.loads((root / "api/v2/incidents.json").read_text())
    listing["incidents"].insert(1, dict(listing["incidents"][0], name="A second copy"))
    listing["incidents"][2]["resolved_at"] = "9999-12-31T00:00:00.000Z"
    listing["incidents"][3]["incident_updates"][0].update(created_at="1970-01-01T00:00:00.000Z",
                                                          display_at="1970-01-01T00:00:00.000Z")
    with fault_serving(root) as server:
        server.faults = {"/api/v2/incidents.json": Fault("body", body=json.dumps(listing).encode())}
        sources = write_sources(tmp_path / "s.toml", [{"id": "odd", "kind": "statuspage", "name": "Odd",
                                                       "url": server.base_url}])
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST)
    assert result.returncode == 0, result.stdout
    first, absurd = listing["incidents"][0], listing["incidents"][2]
    assert f"incident {first['id']} appears twice; kept the first" in result.stdout
    assert f"incident {absurd['id']}: resolved_at 9999-12-31T00:00:00Z is not a plausible time" in result.stdout
    assert "posted_at 1970-01-01T00:00:00Z is not a plausible time" in result.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert db["incidents"].get(f"odd:{first['id']}")["title"] == first["name"]
    assert db["incidents"].get(f"odd:{absurd['id']}")["resolved_at"] is None
    assert db.execute("SELECT min(posted_at) FROM incident_updates").fetchone()[0] > "2020"
    assert db["incidents"].count == 12


def test_a_redirect_to_another_port_of_the_same_host_is_refused(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Port", incidents=5, seed=12)).site()
    with fault_serving(site.write(tmp_path / "site")) as server, serving(tmp_path / "site") as other:
        server.faults = {"/api/v2/summary.json": Fault("redirect-port", other.server_address[1])}
        sources = write_sources(tmp_path / "s.toml", [{"id": "port", "kind": "statuspage", "name": "Port",
                                                       "url": server.base_url}])
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST)
    assert result.returncode == 1
    assert "refused to leave the configured hosts" in result.stdout
    assert other.log == []


def test_aws_events_of_two_services_with_one_title_stay_two(realdata, tmp_path):
    """Real legacy events: Lambda in us-east-2 and the Management Console, both
    'Increased Error Rates', 9.5 minutes apart (2021-11-24)."""
    legacy = json.loads((realdata / "aws" / "legacy-data.json").read_text())
    pair = [e for e in legacy["archive"] if e["summary"] == "[RESOLVED] Increased Error Rates"
            and e["date"] in ("1637779569", "1637780142")]
    assert len(pair) == 2
    (tmp_path / "aws" / "public").mkdir(parents=True)
    (tmp_path / "aws" / "public" / "currentevents").write_text("[]")
    (tmp_path / "aws" / "data.json").write_text(json.dumps({"archive": pair, "current": []}))
    with serving(tmp_path / "aws") as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "aws", "kind": "aws", "name": "AWS",
                                                       "url": server.base_url,
                                                       "legacy_url": f"{server.base_url}/data.json"}])
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST)
    assert result.returncode == 0, result.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    rows = {r["native_id"]: r for r in db["incidents"].rows}
    assert set(rows) == {"lambda-us-east-2_1637779569", "management-console_1637780142"}
    assert db["incident_aliases"].count == 0
    for native_id, event in zip(sorted(rows), sorted(pair, key=lambda e: e["service"])):
        bodies = [u["body"] for u in db["incident_updates"].rows_where("incident_id = ?", [f"aws:{native_id}"])]
        assert bodies and all(body in event["description"].replace("&nbsp;", "\xa0") or body.split()[0] in
                              event["description"] for body in bodies)


def test_an_incidentio_month_window_failing_is_resumed(tmp_path):
    """The listing holds only the newest incident; a month window that answers 503
    through the retries is where the next crawl goes on."""
    from urllib.parse import urlencode

    from incident_archive.testing.demo import RECORDED
    from incident_archive.testing.incidentio_site import IncidentioSite

    site = IncidentioSite.from_file(RECORDED / "openai-incidentio.json", listing_size=1)
    months = sorted({i["published_at"][:7] for i in site.incidents}, reverse=True)
    failing = months[1]
    year, month = map(int, failing.split("-"))
    query = urlencode({"start_at": f"{failing}-01T00:00:00Z",
                       "end_at": f"{year + (month == 12):04d}-{month % 12 + 1:02d}-01T00:00:00Z"})
    with fault_serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "openai", "kind": "incidentio", "name": "OpenAI",
                                                       "url": server.base_url, "proxy_host": "status.openai.com"}])
        run_cli("crawl", "--db", str(tmp_path / "reference.db"), "--sources", str(sources), *QUICK, check_exit=0)
        server.faults = {f"/proxy/status.openai.com/incidents?{query}": Fault("status", 503)}
        failed = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *QUICK)
        walk = sqlite_utils.Database(tmp_path / "a.db")["source_walks"].get("openai")
        server.faults = {}
        server.log.clear()
        final = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *QUICK)
        resumed = [r.path for r in server.log if "start_at=" in r.path]
    assert failed.returncode == 1 and "HTTP 503" in failed.stdout
    assert walk["resume_at"] == failing and walk["reached_end"] == 0
    assert final.returncode == 0, final.stdout
    assert resumed[0].endswith(query)  # straight to the month where it stopped
    assert content(tmp_path / "a.db") == content(tmp_path / "reference.db")
    assert sqlite_utils.Database(tmp_path / "a.db")["sources"].get("openai")["backfilled_at"] is not None


FULL_DISK = """
import sqlite3, sys
from incident_archive.archive import store

writes = {"left": int(sys.argv[1])}


def filling(method):
    def write(self, *args, **kwargs):
        if writes["left"] <= 0:
            raise sqlite3.OperationalError("database or disk is full")
        writes["left"] -= 1
        return method(self, *args, **kwargs)
    return write


store.ArchiveWriter._insert_batch = filling(store.ArchiveWriter._insert_batch)
store.ArchiveWriter.save_incident = filling(store.ArchiveWriter.save_incident)
from incident_archive.cli import cli
sys.argv = ["incident-archive", *sys.argv[2:]]
cli()
"""


def test_a_full_disk_mid_crawl_is_resumed(grown_site, tmp_path):
    """Incident writes fail once the first batches are in (SQLITE_FULL): the source is
    named, the walk's state stops moving, and one clean crawl completes the archive."""
    with grown_since(grown_site, tmp_path) as db_path:
        full = subprocess.run(
            [sys.executable, "-c", FULL_DISK, "3", "crawl", "--db", str(db_path), "--sources",
             str(grown_site["sources"]), *QUICK, "-s", "ARCHIVE_BATCH_SIZE=20"],
            capture_output=True, text=True, timeout=240)
        assert full.returncode == 1, full.stdout + full.stderr
        assert "database or disk is full" in full.stdout and "Traceback" not in full.stderr
        assert OLD < incidents(db_path) < GROWN
        assert_completed_equals_reference(grown_site, db_path)


def test_the_origin_check_is_per_source_and_leaves_other_hosts_their_default_ports():
    """Each request goes only to its own source's hosts (and their subdomains, as Scrapy's
    offsite check allows), a configured host only at its configured port, another allowed
    host (a news feed's article hosts) at its default port."""
    from types import SimpleNamespace

    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest

    from incident_archive.crawl.middlewares import ConfiguredOrigins
    from incident_archive.crawl.multiplex import SOURCE_META

    counts = []
    stats = SimpleNamespace(inc_value=lambda *a: counts.append(a))
    news = SimpleNamespace(configured_origins=lambda: {("https", "feeds.example.com", 443)},
                           allowed_domains=["feeds.example.com", "example.com"], stats=stats)
    local = SimpleNamespace(configured_origins=lambda: {("http", "127.0.0.1", 8000)},
                            allowed_domains=["127.0.0.1"], stats=stats)
    check = ConfiguredOrigins(SimpleNamespace(stats=stats))
    allowed = [(news, "https://feeds.example.com/rss"), (news, "https://example.com/2024/outage"),
               (news, "https://www.example.com/a"), (local, "http://127.0.0.1:8000/x")]
    for source, url in allowed:
        assert check.process_request(Request(url, meta={SOURCE_META: source})) is None, url
    assert counts == []
    refused = [(local, "http://127.0.0.1:9000/x"), (news, "https://example.com:8443/a"),
               (news, "http://feeds.example.com/rss"), (news, "https://example.org/a"),
               (local, "https://example.com/2024/outage"), (news, "http://127.0.0.1:8000/x")]
    for source, url in refused:
        with pytest.raises(IgnoreRequest):
            check.process_request(Request(url, meta={SOURCE_META: source}))
    assert len(counts) == 2 * len(refused)  # the crawl's count and the source's
