"""Crash safety: a crawl killed with SIGKILL at random points leaves a sound archive, and
a re-run completes it to exactly what an uninterrupted crawl makes."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlite_utils

from incident_archive.testing.replay import serving
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage
from tests.conftest import FAST, content, run_cli, write_sources

# Columns that record when the archive saw something, which differ between two runs.
KILLS = 4


def sound(db_path) -> None:
    db = sqlite_utils.Database(db_path)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


def incidents(db_path) -> int:
    """Incidents archived so far (0 before the archive has its tables)."""
    if not Path(db_path).exists():
        return 0
    db = sqlite_utils.Database(db_path)
    try:
        return db.execute("select count(*) from incidents").fetchone()[0]
    except Exception:  # its tables not made yet
        return 0
    finally:
        db.close()


def test_killed_crawls_leave_a_sound_archive_that_a_rerun_completes(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Big", incidents=400, seed=21, days_between=3.0)).site()
    rng = random.Random(2024)
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "big", "kind": "statuspage", "name": "Big",
                                                       "url": server.base_url}])
        # Paced and written 10 incidents per transaction, so that kills land mid-crawl.
        args = ["--sources", str(sources), *FAST, "-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                "-s", "ARCHIVE_BATCH_SIZE=10"]
        # The reference need not be paced: only its content is compared.
        run_cli("crawl", "--db", str(tmp_path / "reference.db"), "--sources", str(sources), *FAST, check_exit=0)
        reference = content(tmp_path / "reference.db")

        crashed = tmp_path / "crashed.db"
        killed_with_rows = []
        for _ in range(KILLS):
            before = incidents(crashed)
            process = subprocess.Popen([sys.executable, "-m", "incident_archive.cli", "crawl", "--db", str(crashed), *args],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Killed at a random moment once this crawl has begun writing (not after a fixed
            # time: on a busy machine that could land before its first write).
            deadline = time.monotonic() + 60
            while process.poll() is None and incidents(crashed) == before and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 1.0))
            still_running = process.poll() is None
            process.send_signal(signal.SIGKILL)
            process.wait()
            if crashed.exists():
                sound(crashed)
                killed_with_rows.append((still_running, sqlite_utils.Database(crashed)["incidents"].count))
        final = run_cli("crawl", "--db", str(crashed), *args)

    assert final.returncode == 0, final.stdout + final.stderr
    sound(crashed)
    assert content(crashed) == reference
    assert len(reference["incidents"]) == 400
    # The kills landed mid-crawl, with part of the archive written.
    assert any(running and 0 < rows < 400 for running, rows in killed_with_rows), killed_with_rows
    runs = [r["outcome"] for r in sqlite_utils.Database(crashed)["crawl_runs"].rows]
    assert runs[-1] == "ok" and "interrupted" in runs


CACHE_WRITER = """
import sys, hashlib
from types import SimpleNamespace
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.request import RequestFingerprinter
from incident_archive.crawl.httpcache import SqliteCacheStorage
from incident_archive.crawl.runner import crawl_settings

storage = SqliteCacheStorage(crawl_settings(sys.argv[1]))
storage.open_spider(SimpleNamespace(crawler=SimpleNamespace(request_fingerprinter=RequestFingerprinter())))
print("ready", flush=True)
for round in range(10**9):
    for n in range(50):
        body = (f"entry {n} round {round} " * 20000).encode()
        request = Request(f"http://127.0.0.1/api/v2/incidents/{n}.json")
        storage.store_response(None, request, Response(request.url, body=body, headers={"ETag": f'"{round}"'}))
"""


def test_a_cache_entry_written_when_the_crawl_is_killed_is_whole_or_absent(tmp_path):
    """A crawl killed while the HTTP cache writes must never leave a stub entry (the next
    crawl, told 304, would parse it): a process storing 400 KB responses in a loop is
    killed at random moments, and every entry then reads back whole."""
    from types import SimpleNamespace

    from scrapy import Request
    from scrapy.utils.request import RequestFingerprinter

    from incident_archive.crawl.httpcache import SqliteCacheStorage
    from incident_archive.crawl.runner import crawl_settings

    rng = random.Random(5)
    spider = SimpleNamespace(crawler=SimpleNamespace(request_fingerprinter=RequestFingerprinter(),
                                                     stats=SimpleNamespace(inc_value=lambda *a: None)))
    for kill in range(3):
        writer = subprocess.Popen([sys.executable, "-c", CACHE_WRITER, str(tmp_path / "a.db")],
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.3, 1.5))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        storage = SqliteCacheStorage(crawl_settings(tmp_path / "a.db"))
        storage.open_spider(spider)
        whole = 0
        for n in range(50):
            cached = storage.retrieve_response(spider, Request(f"http://127.0.0.1/api/v2/incidents/{n}.json"))
            if cached is not None:
                round_ = cached.headers[b"ETag"].decode().strip('"')
                assert cached.body == (f"entry {n} round {round_} " * 20000).encode()
                whole += 1
        storage.close_spider(spider)
        assert whole > 0  # the kills landed after some writes
