"""Faults: a source whose pages misbehave is named with a reason, the other sources
complete, the exit status says something failed, and nothing archived is lost or altered."""

from __future__ import annotations

import json
import time

import pytest
import sqlite_utils

from incident_archive.testing.replay import path_for, serving
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage
from tests.conftest import FAST, copy_archive, dump, run_cli, write_sources
from tests.faults import Fault, fault_serving

# Fail fast: one retry, short waits, small limits.
QUICK = [*FAST, "-s", "RETRY_TIMES=1", "-s", "ARCHIVE_RETRY_BACKOFF_BASE=0.05", "-s", "DOWNLOAD_TIMEOUT=2",
         "-s", "DOWNLOAD_MAXSIZE=1048576", "-s", "ARCHIVE_RETRY_AFTER_MAX=5"]
SUMMARY, LISTING, HISTORY = "/api/v2/summary.json", "/api/v2/incidents.json", "/history.json?page=1"


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    """Two Statuspage sites crawled once, cleanly: 'alpha' (faults injected) and 'beta'."""
    root = tmp_path_factory.mktemp("faults")
    alpha = SyntheticStatuspage(SiteSpec("Alpha", incidents=60, seed=5)).site()
    beta = SyntheticStatuspage(SiteSpec("Beta", incidents=20, seed=6)).site()
    with fault_serving(alpha.write(root / "alpha")) as faulty, serving(beta.write(root / "beta")) as healthy, \
            serving(root / "elsewhere") as elsewhere:
        sources = write_sources(root / "sources.toml", [
            {"id": "alpha", "kind": "statuspage", "name": "Alpha", "url": faulty.base_url},
            {"id": "beta", "kind": "statuspage", "name": "Beta", "url": healthy.base_url},
        ])
        base = root / "base.db"
        run_cli("crawl", "--db", str(base), "--sources", str(sources), *QUICK, check_exit=0)
        yield {"faulty": faulty, "elsewhere": elsewhere, "sources": sources, "base": base, "alpha": alpha}


def crawl_with_fault(sites, tmp_path, path, fault):
    db_path = copy_archive(sites["base"], tmp_path / "archive.db")
    before = dump(db_path)
    sites["faulty"].faults = {path: fault}
    sites["faulty"].log.clear()
    try:
        started = time.monotonic()
        result = run_cli("crawl", "--db", str(db_path), "--sources", str(sites["sources"]), *QUICK)
        elapsed = time.monotonic() - started
    finally:
        sites["faulty"].faults = {}
    return db_path, before, result, elapsed


FAULTS = [
    ("HTTP 500", SUMMARY, Fault("status", 500), "/api/v2/summary.json: HTTP 500"),
    ("HTTP 502", SUMMARY, Fault("status", 502), "/api/v2/summary.json: HTTP 502"),
    ("HTTP 503", SUMMARY, Fault("status", 503), "/api/v2/summary.json: HTTP 503"),
    ("429 with Retry-After", SUMMARY, Fault("retry-after", 1), "HTTP 429 (Retry-After: 1)"),
    ("truncated body", SUMMARY, Fault("truncated"), "the connection broke before the whole response arrived"),
    ("connection reset", SUMMARY, Fault("reset"), "the HTTP cache's last good copy was used instead"),
    ("invalid JSON", SUMMARY, Fault("body", body=b'{"components": [}'), "summary is not valid JSON"),
    ("wrong types", SUMMARY, Fault("body", body=b'{"components": "none", "status": 3}'), "components should be list"),
    ("redirect loop", SUMMARY, Fault("redirect-loop"), "redirect"),
    ("huge body", SUMMARY, Fault("huge"), "larger than allowed"),
    ("endless body", SUMMARY, Fault("endless"), "larger than allowed"),
    ("slow byte by byte", SUMMARY, Fault("slow"), "timed out"),
    ("no answer", SUMMARY, Fault("stall", 8), "timed out"),
]


@pytest.mark.parametrize("name, path, fault, reason", FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_is_named_and_nothing_is_lost(sites, tmp_path, name, path, fault, reason):
    db_path, before, result, _ = crawl_with_fault(sites, tmp_path, path, fault)
    assert result.returncode == 1, result.stdout + result.stderr
    alpha, beta = result.stdout.splitlines()
    assert alpha.startswith("alpha        FAILED") and reason in alpha, alpha
    assert beta.startswith("beta         ok")
    after = dump(db_path)
    for table, rows in before.items():
        assert set(rows) <= set(after[table]), f"{table}: rows lost or altered"
    run = sqlite_utils.Database(db_path)["crawl_runs"].get(3)
    assert run["source"] == "alpha" and run["outcome"] == "failed" and reason in run["error"]


HISTORY_FAULTS = [
    ("HTTP 502", Fault("status", 502), "/history.json?page=1: HTTP 502"),
    ("JSON of the wrong shape", Fault("body", body=b'{"pages": []}'), "history page has no 'months'"),
]


@pytest.mark.parametrize("name, fault, reason", HISTORY_FAULTS, ids=[f[0] for f in HISTORY_FAULTS])
def test_a_broken_history_walk_is_named_and_not_taken_for_the_end(sites, tmp_path, name, fault, reason):
    """Later crawls of a backfilled source skip the walk, so the first crawl's is faulted."""
    sites["faulty"].faults = {HISTORY: fault}
    try:
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sites["sources"]), *QUICK)
    finally:
        sites["faulty"].faults = {}
    assert result.returncode == 1
    alpha, beta = result.stdout.splitlines()
    assert alpha.startswith("alpha        FAILED") and reason in alpha, alpha
    assert beta.startswith("beta         ok      20 new")
    db = sqlite_utils.Database(tmp_path / "a.db")
    # The 50 newest came from incidents.json; the walk to the older ten must be retried.
    assert db["incidents"].count_where("source = 'alpha'") == 50
    assert db["sources"].get("alpha")["backfilled_at"] is None
    assert db["sources"].get("beta")["backfilled_at"] is not None


def test_redirect_to_another_host_is_refused(sites, tmp_path):
    fault = Fault("redirect-offsite", sites["elsewhere"].server_address[1])
    sites["elsewhere"].log.clear()
    _, _, result, _ = crawl_with_fault(sites, tmp_path, SUMMARY, fault)
    assert result.returncode == 1
    assert "refused to leave the configured hosts" in result.stdout
    assert sites["elsewhere"].log == []  # no request reached the other host


def test_retry_after_is_honoured(sites, tmp_path):
    _, _, result, elapsed = crawl_with_fault(sites, tmp_path, SUMMARY, Fault("retry-after", 2, times=1))
    assert result.returncode == 0, result.stdout
    asked = [r for r in sites["faulty"].log if r.path == SUMMARY]
    assert len(asked) == 2 and elapsed >= 2.0


def test_a_malformed_incident_is_skipped_and_its_neighbours_kept(sites, tmp_path):
    listing = json.loads((sites["faulty"].root / path_for(LISTING)).read_text())
    broken = listing["incidents"][3]
    listing["incidents"][3] = dict(broken, name=None, incident_updates="nope")
    db_path = tmp_path / "fresh.db"
    detail = {"incident": dict(broken, name=None)}
    sites["faulty"].faults = {LISTING: Fault("body", body=json.dumps(listing).encode()),
                              f"/api/v2/incidents/{broken['id']}.json": Fault("body", body=json.dumps(detail).encode())}
    try:
        result = run_cli("crawl", "alpha", "--db", str(db_path), "--sources", str(sites["sources"]), *QUICK)
    finally:
        sites["faulty"].faults = {}
    assert result.returncode == 1
    assert f"incident {broken['id']} has no name" in result.stdout
    db = sqlite_utils.Database(db_path)
    # Its 59 neighbours are archived; the broken one is not half-archived. It was
    # malformed in two places (the listing and its own page): both are reported.
    assert db["incidents"].count == 59
    assert db["crawl_runs"].get(1)["items_skipped"] == 2


def test_a_wrong_charset_header_does_not_garble_text(sites, tmp_path):
    listing = json.loads((sites["faulty"].root / path_for(LISTING)).read_text())
    listing["incidents"][0]["name"] = "Café latency – Zürich région"
    body = json.dumps(listing, ensure_ascii=False).encode("utf-8")
    db_path, _, result, _ = crawl_with_fault(
        sites, tmp_path, LISTING, Fault("body", body=body, content_type="application/json; charset=iso-8859-1"))
    assert result.returncode == 0, result.stdout
    row = sqlite_utils.Database(db_path)["incidents"].get(f"alpha:{listing['incidents'][0]['id']}")
    assert row["title"] == "Café latency – Zürich région"
    (tmp_path / "no-charset").mkdir()
    db_path, _, result, _ = crawl_with_fault(sites, tmp_path / "no-charset", LISTING,
                                             Fault("body", body=body, content_type=None))
    assert result.returncode == 0
    row = sqlite_utils.Database(db_path)["incidents"].get(f"alpha:{listing['incidents'][0]['id']}")
    assert row["title"] == "Café latency – Zürich région"


def test_the_other_sources_complete_when_one_host_refuses(sites, tmp_path):
    sources = write_sources(tmp_path / "s.toml", [
        {"id": "gone", "kind": "statuspage", "name": "Gone", "url": "http://127.0.0.1:9"},
        {"id": "alpha", "kind": "statuspage", "name": "Alpha", "url": sites["faulty"].base_url},
    ])
    result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *QUICK)
    assert result.returncode == 1
    assert "gone         FAILED  could not reach 127.0.0.1:9 (connection refused)" in result.stdout
    assert "alpha        ok      60 new" in result.stdout


def test_changed_html_markup_is_reported_not_taken_for_the_end(tmp_path):
    from incident_archive.testing.azure_site import HISTORY_PATH, HISTORY_QUERY, write_azure_site
    from incident_archive.testing.demo import azure_reviews

    site = write_azure_site(tmp_path / "azure", azure_reviews())
    sources = write_sources(tmp_path / "s.toml", [{"id": "azure", "kind": "azure", "name": "Azure", "url": "x"}])
    with fault_serving(site) as server:
        sources.write_text(sources.read_text().replace('"x"', f'"{server.base_url}"'))
        redesigned = b'<main class="history-v2"><section class="event">Power event</section></main>'
        server.faults = {f"{HISTORY_PATH}?{HISTORY_QUERY.format(page=1)}": Fault("body", body=redesigned,
                                                                                 content_type="text/html")}
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *QUICK)
    assert result.returncode == 1
    assert "history page has neither incidents nor an empty history list: its markup changed" in result.stdout
    assert sqlite_utils.Database(tmp_path / "a.db")["sources"].get("azure")["backfilled_at"] is None


def test_utf16_without_a_bom_is_crawled(tmp_path):
    events = [{"arn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/U16", "summary": "Launch errors",
               "region_name": "N. Virginia", "status": "2", "date": "1735239600",
               "event_log": [{"status": 2, "timestamp": 1735239600, "message": "Investigating launch errors."}]}]
    (tmp_path / "aws").mkdir()
    with fault_serving(tmp_path / "aws") as server:
        server.faults = {"/public/currentevents": Fault("body", body=json.dumps(events).encode("utf-16-le"),
                                                        content_type="application/json")}
        sources = write_sources(tmp_path / "s.toml", [{"id": "aws", "kind": "aws", "name": "AWS", "url": server.base_url}])
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *QUICK)
    assert result.returncode == 0, result.stdout
    assert sqlite_utils.Database(tmp_path / "a.db")["incidents"].get("aws:us-east-1:U16")["title"] == "Launch errors"
