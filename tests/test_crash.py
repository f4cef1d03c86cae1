"""Crash safety: a crawl killed with SIGKILL at random points leaves a sound archive, and
a re-run completes it to exactly what an uninterrupted crawl makes."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import sqlite_utils

from scraper.replay import serving
from scraper.synthetic import SiteSpec, SyntheticStatuspage
from tests.conftest import FAST, run_cli, write_sources

# Columns that record when the archive saw something, which differ between two runs.
WHEN = {"first_seen_at", "last_seen_at", "backfilled_at", "linked_at"}
TABLES = ["sources", "components", "incidents", "incident_updates", "incident_components"]
KILLS = 4


def content(db_path) -> dict[str, list]:
    db = sqlite_utils.Database(db_path)
    state = {
        table: sorted(json.dumps({k: v for k, v in row.items() if k not in WHEN}, sort_keys=True)
                      for row in db[table].rows)
        for table in TABLES
    }
    db.close()
    return state


def sound(db_path) -> None:
    db = sqlite_utils.Database(db_path)
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    db.close()


def test_killed_crawls_leave_a_sound_archive_that_a_rerun_completes(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Big", incidents=400, seed=21, days_between=3.0)).site()
    rng = random.Random(2024)
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "big", "kind": "statuspage", "name": "Big",
                                                       "url": server.base_url}])
        args = ["--sources", str(sources), *FAST]
        run_cli("crawl", "--db", str(tmp_path / "reference.db"), *args, check_exit=0)
        reference = content(tmp_path / "reference.db")

        crashed = tmp_path / "crashed.db"
        killed_with_rows = []
        for _ in range(KILLS):
            process = subprocess.Popen([sys.executable, "-m", "archive.cli", "crawl", "--db", str(crashed), *args],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(1.0, 2.5))
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


def test_a_cache_entry_cut_short_by_a_kill_is_never_served(tmp_path):
    """The cache writes an entry as several files; a crawl killed between them must not
    leave an entry whose body is a stub (the next crawl, told 304, would parse it)."""
    from types import SimpleNamespace

    from scrapy import Request
    from scrapy.http import Response
    from scrapy.utils.request import RequestFingerprinter

    from scraper.httpcache import TolerantFilesystemCacheStorage
    from scraper.runner import crawl_settings

    storage = TolerantFilesystemCacheStorage(crawl_settings(tmp_path / "a.db"))
    spider = SimpleNamespace(name="s", crawler=SimpleNamespace(stats=SimpleNamespace(inc_value=lambda *a: None)))
    storage._fingerprinter = RequestFingerprinter()
    request = Request("http://127.0.0.1/api/v2/incidents/x.json")
    body = b'{"incident": {"id": "x", "name": "whole"}}'
    storage.store_response(spider, request, Response(request.url, body=body, headers={"ETag": '"1"'}))
    assert storage.retrieve_response(spider, request).body == body

    class Killed(BaseException):
        pass

    real_open = storage._open

    def open_then_die(path, mode="rb"):
        handle = real_open(path, mode)
        if str(path).endswith("response_body") and "w" in mode:
            handle.write(b'{"incid')  # half the body, then the process dies
            handle.flush()
            raise Killed
        return handle

    storage._open = open_then_die
    try:
        storage.store_response(spider, request, Response(request.url, body=b'{"incident": {"id": "x", "name": "new"}}'))
    except Killed:
        pass
    storage._open = real_open
    cached = storage.retrieve_response(spider, request)
    assert cached is None or cached.body == body  # absent or the old whole copy, never the stub
