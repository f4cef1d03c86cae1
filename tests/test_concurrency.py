"""Concurrency: Datasette reads the archive while a crawl writes it (WAL), and two crawls
started at once do not interleave."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlencode

import pytest

from incident_archive.archive.store import open_archive
from incident_archive.testing.replay import serving
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage
from tests.conftest import FAST, run_cli, write_sources

POLL_LIMIT_S = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def big_site(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Big", incidents=150, seed=31, days_between=3.0)).site()
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "big", "kind": "statuspage", "name": "Big",
                                                       "url": server.base_url}])
        yield site, sources


def crawl_process(db_path, sources, *settings):
    return subprocess.Popen([sys.executable, "-m", "incident_archive.cli", "crawl", "--db", str(db_path),
                             "--sources", str(sources), *FAST, *settings], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_readers_never_see_half_an_incident_while_a_crawl_writes(tmp_path, big_site):
    site, sources = big_site
    expected = {i["id"]: len(i["incident_updates"]) for i in site.incidents}
    db_path = tmp_path / "archive.db"
    open_archive(db_path).close()  # serve needs an archive; the crawl fills it while it serves
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "incident_archive.cli", "serve", "--db", str(db_path), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sql = ("select i.native_id, count(u.id) as n from incidents i "
           "left join incident_updates u on u.incident_id = i.id group by i.id")
    url = f"http://127.0.0.1:{port}/archive.json?" + urlencode({"sql": sql, "_shape": "array", "_size": "max"})
    try:
        deadline = time.monotonic() + 30
        while True:  # wait for Datasette to answer
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "Datasette did not start"
                time.sleep(0.2)
        # Paced (one request at a time, 0.05 s apart) and written 10 incidents per
        # transaction, so the readers have time to poll between many commits.
        crawl = crawl_process(db_path, sources, "-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                              "-s", "ARCHIVE_BATCH_SIZE=10")
        polls, seen_counts, started = 0, set(), time.monotonic()
        while crawl.poll() is None and time.monotonic() - started < POLL_LIMIT_S:
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
                rows = json.load(response)
            for row in rows:
                assert row["n"] == expected[row["native_id"]], f"half-written incident {row}"
            seen_counts.add(len(rows))
            polls += 1
        crawl.wait(timeout=60)
        assert crawl.returncode == 0, crawl.stdout.read() + crawl.stderr.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert polls >= 5
    assert len(seen_counts) >= 3, seen_counts  # the readers saw the archive grow


LOCK_HOLDER = """
import sys, time
from incident_archive.archive.lock import exclusive
with exclusive(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_second_crawl_refuses_or_waits(tmp_path, big_site):
    _, sources = big_site
    db_path = tmp_path / "archive.db"
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(db_path), "4"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"  # as a crawl holds it while it writes
    refused = run_cli("crawl", "--db", str(db_path), "--sources", str(sources), *FAST)
    started = time.monotonic()
    waited = run_cli("crawl", "--db", str(db_path), "--sources", str(sources), *FAST, "--wait", "120")
    holder.wait(timeout=30)
    assert refused.returncode == 75  # EX_TEMPFAIL: distinct from a usage error (2)
    assert f"Error: another crawl is writing to {db_path} (pid {holder.pid}" in refused.stderr
    assert waited.returncode == 0 and "150 new" in waited.stdout  # it ran once the lock was free
    assert time.monotonic() - started > 1.0  # ... and not before
