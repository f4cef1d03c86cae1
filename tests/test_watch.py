"""The watch service: each source polled at its own interval, a failing one backed off,
SIGTERM ending it cleanly, and the archive's health view saying how current each is."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import sqlite_utils

from incident_archive.core.sources import duration_seconds
from incident_archive.testing.replay import serving
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage
from incident_archive.watch import Schedule
from tests.conftest import FAST, write_sources


def test_durations_and_the_schedule_back_off_a_failing_source():
    assert [duration_seconds(d) for d in ("30s", "5m", "1h", "90")] == [30, 300, 3600, 90]
    schedule = Schedule({"a": 60, "b": 60})
    schedule.start(0.0)
    assert sorted(schedule.due(10.0)) == ["a", "b"]
    waits = [schedule.polled("b", ok=False, now=0.0) for _ in range(8)]
    assert 108 <= waits[0] <= 132 and 216 <= waits[1] <= 264  # doubled, give or take a tenth
    assert max(waits) <= 3600 * 1.1  # capped
    assert 54 <= schedule.polled("b", ok=True, now=0.0) <= 66  # back to its interval once it works


def watch(db, sources, *args):
    return subprocess.Popen([sys.executable, "-m", "incident_archive.cli", "watch", "--db", str(db),
                             "--sources", str(sources), *FAST, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_each_source_at_its_interval_and_a_failing_one_backed_off(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Quick", incidents=12, seed=50)).site()
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [
            {"id": "quick", "kind": "statuspage", "name": "Quick", "url": server.base_url, "every": "2s"},
            {"id": "gone", "kind": "statuspage", "name": "Gone", "url": "http://127.0.0.1:9", "every": "2s"},
        ])
        process = watch(tmp_path / "a.db", sources, "--for", "12s")
        stdout, stderr = process.communicate(timeout=90)
    assert process.returncode == 0, stdout + stderr
    db = sqlite_utils.Database(tmp_path / "a.db")
    runs = {source: [r["outcome"] for r in db["crawl_runs"].rows_where("source = ?", [source], order_by="id")]
            for source in ("quick", "gone")}
    assert len(runs["quick"]) >= 3 and set(runs["quick"]) == {"ok"}, runs
    assert 1 <= len(runs["gone"]) < len(runs["quick"]) and set(runs["gone"]) == {"failed"}, runs
    assert db["incidents"].count == 12
    health = {row["source"]: row for row in db.query("select * from source_health")}
    assert health["quick"]["interval_s"] == 2 and health["quick"]["consecutive_failures"] == 0
    assert health["gone"]["consecutive_failures"] == len(runs["gone"]) and health["gone"]["stale"] == 1
    assert "connection refused" in health["gone"]["failing_because"]
    assert "quick        ok" in stdout and "next in" in stdout


def test_a_source_that_never_answers_delays_no_other_in_its_poll(tmp_path):
    """Sources due together share one poll process; each is rescheduled when it ends,
    so a quick source polls again and again while a stuck one waits out its timeout."""
    import socket

    stuck = socket.socket()
    stuck.bind(("127.0.0.1", 0))
    stuck.listen(8)  # the kernel accepts connections; nothing ever answers them
    site = SyntheticStatuspage(SiteSpec("Quick", incidents=3, seed=53)).site()
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [
            {"id": "quick", "kind": "statuspage", "name": "Quick", "url": server.base_url, "every": "1s"},
            {"id": "stuck", "kind": "statuspage", "name": "Stuck", "url": f"http://127.0.0.1:{stuck.getsockname()[1]}",
             "every": "1s"},
        ])
        process = watch(tmp_path / "a.db", sources, "--for", "9s", "-s", "DOWNLOAD_TIMEOUT=4",
                        "-s", "RETRY_TIMES=0")
        stdout, stderr = process.communicate(timeout=90)
    stuck.close()
    assert process.returncode == 0, stdout + stderr
    db = sqlite_utils.Database(tmp_path / "a.db")
    stuck_run = next(db["crawl_runs"].rows_where("source = 'stuck'", order_by="id"))
    quick_during = [r for r in db["crawl_runs"].rows_where("source = 'quick' and finished_at < ?",
                                                           [stuck_run["finished_at"]])]
    assert stuck_run["outcome"] == "failed" and "timed out" in stuck_run["error"].lower(), stuck_run
    assert len(quick_during) >= 3 and {r["outcome"] for r in quick_during} == {"ok"}, quick_during


def test_sigterm_ends_the_service_cleanly(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Paced", incidents=150, seed=51, days_between=2.0)).site()
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [
            {"id": "paced", "kind": "statuspage", "name": "Paced", "url": server.base_url}])
        process = watch(tmp_path / "a.db", sources, "-s", "DOWNLOAD_DELAY=0.05",
                        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "ARCHIVE_BATCH_SIZE=10")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # a poll in flight, part written
            try:
                if sqlite_utils.Database(tmp_path / "a.db")["incidents"].count > 50:
                    break
            except sqlite3.OperationalError:
                pass  # not made yet
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stdout + stderr
    assert "Traceback" not in stderr and "Stopped by SIGTERM" in stderr
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert [r["outcome"] for r in db["crawl_runs"].rows] == ["interrupted"]
    assert db["source_walks"].get("paced")["open_top"] is not None  # the next poll goes on from there


class Receiver:
    """A webhook on 127.0.0.1 that keeps every JSON body posted to it (Apprise's json://)."""

    def __init__(self, port: int = 0):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_alerts_reach_a_webhook_once_across_restarts_and_a_failing_receiver(tmp_path):
    from datetime import datetime, timezone

    site = SyntheticStatuspage(SiteSpec("Alerting", incidents=8, seed=52)).site()
    receiver = Receiver()
    port = receiver.port
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [
            {"id": "acme", "kind": "statuspage", "name": "Acme", "url": server.base_url, "every": "1s"}])
        sources.write_text(sources.read_text() + f'\n[[notify]]\nurl = "json://127.0.0.1:{port}/hook"\n'
                           'archive_url = "http://archive.example"\n')

        def run(seconds="4s"):
            process = watch(tmp_path / "a.db", sources, "--for", seconds)
            stdout, stderr = process.communicate(timeout=90)
            assert process.returncode == 0, stdout + stderr

        run()
        open_incident = site.incidents[0]
        assert [m["title"] for m in receiver.received] == [f"Acme: {open_incident['name']} (major, identified)"
                                                           .replace("major", open_incident["impact"])]
        body = receiver.received[0]["message"]
        assert f"In the archive: http://archive.example/a/incidents/acme~3A{open_incident['id']}" in body
        assert "Latest update: The issue has been identified" in body
        run("3s")  # a restart, the same state: nothing sent twice
        assert len(receiver.received) == 1

        # The incident is resolved while the receiver is down: the alert waits for it.
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        open_incident["incident_updates"].insert(0, dict(open_incident["incident_updates"][0], id="resolvedupd1",
                                                         status="resolved", body="This incident has been resolved.",
                                                         created_at=now, display_at=now, updated_at=now))
        open_incident.update(status="resolved", resolved_at=now, updated_at=now)
        site.write(tmp_path / "site")
        receiver.close()
        run("3s")
        receiver = Receiver(port)
        run("3s")
        receiver.close()
    assert len(receiver.received) == 1
    assert receiver.received[0]["title"].endswith(", resolved)")
    assert "This incident has been resolved." in receiver.received[0]["message"]
