"""``make bench``: measure crawl, recrawl, ingest and queries, and write docs/BENCHMARKS.md.

Everything runs on this machine against 127.0.0.1, on seeded synthetic data, so two runs
measure the same work. ``--scale`` picks the sizes: ``quick`` (minutes) or ``full``
(the issue's sizes: 5,000 sites, 1,000,000 incidents; much longer).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import sqlite_utils

from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.archive.overlaps import rebuild_overlaps
from incident_archive.archive.summaries import rebuild_service_times
from incident_archive.archive.views import VIEWS
from incident_archive.archive.web import load_metadata
from incident_archive.core.sources import duration_seconds
from incident_archive.core.times import ISO_FORMAT
from incident_archive.archive.incidents import STAGE_TIMES_SELECT, IncidentWriter
from incident_archive.core.items import ComponentItem, IncidentItem, UpdateItem
from incident_archive.testing.replay import serving, serving_many_hosts
from incident_archive.crawl.settings import ARCHIVE_BATCH_SIZE
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage

SCALES = {
    # Crawls are (sites, incidents per site): pages as most status pages are (20 incidents
    # in their history), and the backfill case (a few hundred each).
    # Ingest is (incidents, batches, runs of each side).
    "quick": {"crawls": [(100, 20), (300, 20), (100, 300)],
              "ingest": [(10_000, "pipeline", 3), (50_000, "pipeline", 1), (10_000, "mixed", 1)],
              "archive": 100_000, "latency": [100], "capacity": [300]},
    "full": {"crawls": [(100, 20), (1000, 20), (5000, 20), (1000, 300)],
             "ingest": [(100_000, "pipeline", 3), (1_000_000, "pipeline", 1), (100_000, "mixed", 3)],
             "archive": 1_000_000, "latency": [100, 1000, 6000], "capacity": [1000, 6000]},
}
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "ARCHIVE_PROGRESS_INTERVAL=0", "-s", "ROBOTSTXT_OBEY=False"]


def peak_rss_kb(pid: int, args: list[str]) -> int:
    """The high-water mark of a process's resident memory since it started ``args``.

    Not ``ru_maxrss``: Linux counts in it the memory the child inherited from this
    process before exec, so the recrawl of 1,000 backfilled sources, started by a
    benchmark whose HTTP server's request log had grown to 430 MB, reported 437 MB; read
    this way it peaks at 126 MB. Read before exec (the command line is still ours), it
    counts for nothing.
    """
    proc = Path(f"/proc/{pid}")
    try:
        if proc.joinpath("cmdline").read_bytes().split(b"\0")[:-1] != [a.encode() for a in args]:
            return 0
        status = proc.joinpath("status").read_text()
    except OSError:  # exited between two looks
        return 0
    _, found, rest = status.partition("VmHWM:")
    return int(rest.split()[0]) if found else 0  # none once it has exited


def run_measured(args: list[str]) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall time and peak memory (MB) of one child process."""
    # Output goes to files: thousands of sources print more than a pipe holds before wait4 returns.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        process = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        peak_kb, pause = 0, 0.002
        while True:
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = max(peak_kb, peak_rss_kb(process.pid, args))  # a high-water mark: sampling misses no peak
            time.sleep(pause)
            pause = min(0.05, pause * 2)
        elapsed = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        return elapsed, peak_kb // 1024, subprocess.CompletedProcess(args, status >> 8, out.read(), err.read())


def scrapy_bench_rate(seconds: int = 10) -> float:
    """Scrapy's own ceiling here: pages per second of ``scrapy bench``."""
    result = subprocess.run([sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMECOUNT={seconds}",
                             "-s", "LOG_LEVEL=INFO"], capture_output=True, text=True, cwd=tempfile.gettempdir())
    pages = int(re.search(r"'response_received_count': (\d+)", result.stderr).group(1))
    elapsed = float(re.search(r"'elapsed_time_seconds': ([\d.]+)", result.stderr).group(1))
    return pages / elapsed


def crawl_bench(folder: Path, sites: int, incidents: int, bench_seconds: int = 10) -> dict:
    root = folder / f"sites-{sites}-{incidents}"
    for number in range(sites):
        SyntheticStatuspage(SiteSpec(f"Site {number}", incidents=incidents, seed=number)).site().write(root / f"s{number}")
    db_path = folder / f"crawl-{sites}-{incidents}.db"
    # Scrapy's ceiling just before the crawl: this machine's speed moves by up to a quarter
    # between minutes, and one figure at the start of the run judged the last crawl by it.
    ceiling = scrapy_bench_rate(bench_seconds)
    with serving_many_hosts(root, sites) as server:  # a host per site, as on the web
        sources = folder / f"sources-{sites}-{incidents}.toml"
        sources.write_text("".join(
            f'[[sources]]\nid = "s{n}"\nkind = "statuspage"\nname = "Site {n}"\nurl = "{server.url_of(n)}/s{n}"\n\n'
            for n in range(sites)))
        command = [sys.executable, "-m", "incident_archive.cli", "crawl", "--db", str(db_path), "--sources", str(sources), *FAST]
        first_s, first_mb, first = run_measured(command)
        db = sqlite_utils.Database(db_path)
        counts = {t: db[t].count for t in ("incidents", "incident_updates")}
        db.close()
        again_s, again_mb, again = run_measured(command)
    db = sqlite_utils.Database(db_path)
    runs = list(db.query("select crawl_id, sum(requests) r, sum(responses_not_modified) nm, sum(incidents_new) n, "
                         "sum(incidents_updated) u from crawl_runs group by crawl_id order by min(id)"))
    unchanged = all(db[t].count == c for t, c in counts.items())
    db.close()
    shutil.rmtree(root, ignore_errors=True)  # thousands of sites take gigabytes
    return {
        "sites": sites, "incidents_per_site": incidents, "incidents": counts["incidents"], "first_s": first_s, "first_mb": first_mb,
        "first_requests": runs[0]["r"], "pages_per_s": runs[0]["r"] / first_s, "scrapy_bench": ceiling,
        "incidents_per_s": counts["incidents"] / first_s, "again_s": again_s, "again_mb": again_mb,
        "again_requests": runs[1]["r"], "again_not_modified": runs[1]["nm"],
        "again_written": runs[1]["n"] + runs[1]["u"], "rows_same": unchanged,
        "exit": (first.returncode, again.returncode),
    }


def synthetic_incidents(n: int, seed: int = 1):
    rng = random.Random(seed)
    start = datetime(2021, 1, 1, tzinfo=timezone.utc)
    for i in range(n):
        begin = start + timedelta(minutes=rng.randint(0, 6 * 365 * 24 * 60))
        # The first post some minutes after the start (median 7, a few over an hour).
        posted = begin + timedelta(seconds=round(60 * rng.lognormvariate(2, 1)))
        end = posted + timedelta(minutes=rng.randint(5, 600))
        updates = [UpdateItem(f"u{i}-{k}", status, f"Update {k} of incident {i}: {status} elevated error rates",
                              (posted + (end - posted) * k / 4).strftime(ISO_FORMAT))
                   for k, status in enumerate(["investigating", "identified", "monitoring", "resolved", "postmortem"])]
        yield IncidentItem(source=f"p{i % 50}", native_id=f"i{i}", title=f"Elevated errors on service {i % 97}",
                           impact=rng.choice(["minor", "major", "critical", "none"]), impact_raw="major",
                           status="resolved", started_at=begin.strftime(ISO_FORMAT), started_at_basis="page",
                           resolved_at=end.strftime(ISO_FORMAT), updates=updates,
                           components=[ComponentItem(f"p{i % 50}", f"c{i % 7}", f"Component {i % 7}")])


def save_bench_sources(writer: ArchiveWriter) -> None:
    """The 50 sources of the synthetic incidents, related as a sources file would relate
    them (provider_cooccurrence counts only related pairs): p0-p4 are providers, peers of
    one another; every other source depends on two of them and is a peer of the four
    others in its group of five (p5-p9, p10-p14 ...). 380 related pairs, both ways round:
    each source has 6 to 22 (OpenAI in the shipped sources file has 5)."""
    for p in range(50):
        if p < 5:
            depends_on, peers = None, [f"p{q}" for q in range(5) if q != p]
        else:
            group = p - p % 5
            depends_on = [f"p{p % 5}", f"p{(p + 2) % 5}"]
            peers = [f"p{q}" for q in range(group, group + 5) if q != p]
        writer.save_source(f"p{p}", "statuspage", f"P{p}", "https://p.example", depends_on, peers=peers)


def pipeline_batches(items: list[IncidentItem], size: int = ARCHIVE_BATCH_SIZE) -> list[list[IncidentItem]]:
    """The batches a crawl writes: the pipeline keeps a batch per source
    (crawl/pipelines.py SourceRun), filled in the order the source's history lists its
    incidents, newest first; the sources' batches arrive in turn, as concurrent crawls
    fill them."""
    by_source: dict[str, list[IncidentItem]] = {}
    for item in items:
        by_source.setdefault(item.source, []).append(item)
    queues = []
    for listed in by_source.values():
        listed.sort(key=lambda item: item.started_at, reverse=True)
        queues.append([listed[start:start + size] for start in range(0, len(listed), size)])
    return [queue[turn] for turn in range(max(map(len, queues))) for queue in queues if turn < len(queue)]


def mixed_batches(items: list[IncidentItem], size: int = ARCHIVE_BATCH_SIZE) -> list[list[IncidentItem]]:
    """Batches no crawl writes, the writer's worst case: every batch holds all 50 sources
    in turn, at random times over six years, so each touches a different month of
    nearly every kept figure."""
    return [items[start:start + size] for start in range(0, len(items), size)]


INGEST_ORDERS = {"pipeline": pipeline_batches, "mixed": mixed_batches}


def ingest_bench(folder: Path, n: int, order: str = "pipeline", repeats: int = 1) -> dict:
    """The writer's rate and the bare floor's on the same rows, into fresh archives,
    ``repeats`` times. The two take turns batch by batch (the writer commits a batch, the
    floor puts the same rows in one transaction), so both meet the same moments of this
    machine, whose speed moves by up to a quarter between minutes. The ratio is of the
    medians, with every run's ratio kept beside it."""
    batches = INGEST_ORDERS[order](list(synthetic_incidents(n)))
    ours, bare = [], []
    db_path, bare_path = folder / f"ingest-{order}-{n}.db", folder / f"bare-{order}-{n}.db"
    for _ in range(repeats):
        for path in folder.glob(f"*-{order}-{n}.db*"):
            path.unlink()
        db = open_archive(db_path)
        writer = ArchiveWriter(db)
        save_bench_sources(writer)
        floor = BareFloor(db_path, bare_path)
        writing = 0.0
        for batch in batches:
            started = time.monotonic()
            writer.save_incidents(batch, "2026-01-01T00:00:00Z")
            writing += time.monotonic() - started
            floor.put([f"{item.source}:{item.native_id}" for item in batch])
        ours.append(writing)
        bare.append(floor.finish())
        db.close()
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    return {"n": n, "order": order, "ours_per_s": n / ours_s, "bare_per_s": n / bare_s, "ratio": bare_s / ours_s,
            "ratios": [b / o for o, b in zip(ours, bare)], "floor": "executemany", "turns": "batch"}


# What the writer writes for a new incident, table by table, in the order it writes them.
INGESTED_TABLES = ["incidents", "incident_updates", "incident_versions", "update_versions", "incident_stage_times",
                   "incident_components", "component_impacts", "incident_regions", "service_stage_times",
                   "acknowledgement_lags"]
# The figures the writer keeps (per month, the overlaps between sources, the median lags),
# put once, as they stand after the last batch (source_month_impacts and
# source_month_speakers are kept by triggers, in both archives).
KEPT_TABLES = ["service_months", "service_month_hours", "service_quarter_hours", "service_year_hours", "service_hours",
               "source_relations", "source_islands", "source_overlaps", "source_year_lags"]


class BareFloor:
    """The floor under the writer: the very rows it wrote, put with ``executemany`` into a
    fresh archive (the same tables, indexes and full-text indexes), a transaction for each
    of the writer's, the text indexed as the writer indexes it. Only the inserts are
    timed, not reading the rows back."""

    def __init__(self, written: Path, target: Path):
        self.source = sqlite3.connect(written)
        self.db = open_archive(target)
        self.db.execute("PRAGMA foreign_keys = OFF")  # the rows were checked when the writer wrote them
        self.seconds = 0.0
        self.copied: dict[str, int] = {}  # per table, the last rowid copied
        self._copy("sources")

    def _copy(self, table: str) -> None:
        """Untimed: the rows the writer added since the last copy to a table it names rather
        than ingests (sources, components). Only new ones: rewriting them all every batch
        would grow the WAL that the next timed commit checkpoints."""
        rows = self.source.execute(f"select rowid, * from [{table}] where rowid > ? order by rowid",
                                   [self.copied.get(table, 0)]).fetchall()
        if rows:
            self.copied[table] = rows[-1][0]
            with self.db.conn:
                self.db.conn.executemany(f"insert into [{table}] values ({', '.join('?' * (len(rows[0]) - 1))})",
                                         [row[1:] for row in rows])

    def put(self, ids: list[str]) -> None:
        """One transaction of the writer's: the rows of the incidents ``ids``."""
        self._copy("components")
        marks = ", ".join("?" * len(ids))
        rows = {table: self.source.execute(f"select * from [{table}] where "
                                           f"{'id' if table == 'incidents' else 'incident_id'} in ({marks})",
                                           ids).fetchall() for table in INGESTED_TABLES}
        began = time.monotonic()
        self.db.conn.execute("BEGIN IMMEDIATE")
        for table in INGESTED_TABLES:
            if rows[table]:
                self.db.conn.executemany(f"insert into [{table}] values ({', '.join('?' * len(rows[table][0]))})",
                                         rows[table])
        for table, column in IncidentWriter.WRITER_INDEXED_TEXT:
            self.db.conn.execute(f"INSERT INTO [{table}_fts] (rowid, [{column}]) SELECT rowid, [{column}] FROM [{table}] "
                                 f"WHERE rowid > (SELECT coalesce(max(id), 0) FROM [{table}_fts_docsize])")
        self.db.conn.execute("COMMIT")
        self.seconds += time.monotonic() - began

    def finish(self) -> float:
        """The kept figures, once, as they stand after the writer's last batch; the time in all."""
        kept = {table: self.source.execute(f"select * from [{table}]").fetchall() for table in KEPT_TABLES}
        began = time.monotonic()
        with self.db.conn:
            for table, rows in kept.items():
                if rows:
                    self.db.conn.executemany(f"insert into [{table}] values ({', '.join('?' * len(rows[0]))})", rows)
        self.seconds += time.monotonic() - began
        self.source.close()
        self.db.close()
        return self.seconds


# A dashboard with dates chosen: months and a year cut at both ends.
DASHBOARD_DATES = {"date_start": "2024-03-15", "date_end": "2025-09-30"}


def dashboard_chart_queries(db_path: Path) -> dict[str, str]:
    """The SQL each chart and filter of the dashboards asks for (datasette-dashboards
    fetches it from the database's JSON API): with no filter chosen (its ``[[ ... ]]``
    parts dropped), and, for those that take dates, with ``DASHBOARD_DATES`` chosen (the
    parts that name only dates kept)."""
    metadata = load_metadata(db_path)
    paths = {}
    for dashboard in metadata["plugins"]["datasette-dashboards"].values():
        parts = [("chart", name, chart) for name, chart in dashboard["charts"].items()]
        parts += [("filter", name, part) for name, part in dashboard["filters"].items() if "query" in part]
        for kind, name, part in parts:
            sql = re.sub(r"\[\[.*?\]\]", "", part["query"], flags=re.S)
            paths[f"dashboard {kind} {name}"] = ".json?" + urlencode({"sql": sql, "_shape": "array"})
            if ":date_start" in part["query"]:
                def dated(block: re.Match) -> str:
                    named = set(re.findall(r":(\w+)", block.group(1)))
                    return block.group(1) if named <= set(DASHBOARD_DATES) else ""
                sql = re.sub(r"\[\[(.*?)\]\]", dated, part["query"], flags=re.S)
                paths[f"dashboard {kind} {name}, dated"] = ".json?" + urlencode(
                    {"sql": sql, "_shape": "array", **DASHBOARD_DATES})
    return paths


def build_query_archive(db_path: Path, n: int) -> None:
    """The query bench's archive: n synthetic incidents put in bulk around the writer (the
    writer's own rate is the ingest part's), then every kept figure computed."""
    db = open_archive(db_path)
    items = synthetic_incidents(n, seed=7)
    writer = ArchiveWriter(db)
    save_bench_sources(writer)
    rows, updates = [], []
    for item in items:
        rows.append({"id": f"{item.source}:{item.native_id}", "source": item.source, "native_id": item.native_id,
                     "title": item.title, "impact": item.impact, "impact_raw": item.impact_raw, "status": item.status,
                     "started_at": item.started_at, "started_at_basis": "page", "resolved_at": item.resolved_at,
                     "duration_s": 3600, "first_seen_at": "2026-01-01T00:00:00Z", "last_seen_at": "2026-01-01T00:00:00Z"})
        updates += [{"id": f"{item.source}:{item.native_id}:{u.native_id}", "incident_id": f"{item.source}:{item.native_id}",
                     "native_id": u.native_id, "status": u.status, "body": u.body, "posted_at": u.posted_at,
                     "first_seen_at": "2026-01-01T00:00:00Z"} for u in item.updates]
        if len(rows) >= 20_000:
            db["incidents"].insert_all(rows, batch_size=5000)
            db["incident_updates"].insert_all(updates, batch_size=5000)
            rows, updates = [], []
    db["incidents"].insert_all(rows, batch_size=5000)
    db["incident_updates"].insert_all(updates, batch_size=5000)
    with db.atomic():  # rows inserted around the writer: index their text, compute their stage times
        writer.index_new_text()
        db.execute("INSERT INTO incident_stage_times " + STAGE_TIMES_SELECT.format(where=""))
        rebuild_service_times(db)
        rebuild_overlaps(db)  # the acknowledgement lags were kept as each insert_all chunk committed
    db.execute("ANALYZE")
    db.close()


def query_bench(folder: Path, n: int, repeat: int = 20) -> dict:
    """Datasette's response times on an archive of n incidents, 5 updates each."""
    db_path = folder / "archive.db"
    build_query_archive(db_path, n)
    port = 8600 + random.Random().randint(0, 300)
    server = subprocess.Popen([sys.executable, "-m", "incident_archive.cli", "serve", "--db", str(db_path), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/archive"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        pages = {
            "incidents page with facets": "/incidents",
            "incident_overview with facets": "/incident_overview",
            "full-text search of updates": "/incident_updates?_search=identified",  # its redirect too
            "search page (incidents, updates, news)": "/search?q=identified",
            "time_to_resolve_between": "/time_to_resolve_between?since=2024-01-01&until=2024-12-31",
            "time_to_resolve_between, dates cutting two years": "/time_to_resolve_between?" + urlencode(
                {"since": DASHBOARD_DATES["date_start"], "until": DASHBOARD_DATES["date_end"]}),
            "time_between_failures_between": "/time_between_failures_between?since=2024-01-01&until=2024-12-31",
            "incidents_by_impact_between": "/incidents_by_impact_between?since=2024-01-01&until=2024-12-31",
            "what_was_down": "/what_was_down?at=2024-06-01T12:00:00Z",
            "CSV export of a year": "/incidents.csv?" + urlencode({"started_at__startswith": "2024", "_size": "max"}),
            "CSV export of a year, by range": "/incidents.csv?" + urlencode(
                {"started_at__gte": "2024-01-01", "started_at__lt": "2025-01-01", "_size": "max"}),
            "an incident's page": "/incidents/p7~3Ai123457",
        }
        # Every other view and canned query, fewer times each: the archive here holds
        # incidents, updates and stage times, so the views over components, articles or
        # attributions read empty tables.
        others = {f"view {name}": f"/{name}" for name in VIEWS if f"/{name}" not in pages.values()}
        others.update({
            "incident_feed (Atom)": "/incident_feed.atom",
            "upstream_for_incident": "/upstream_for_incident?incident_id=p7:i123457",
            "articles_for_incident": "/articles_for_incident?incident_id=p7:i123457",
            "page_as_of": "/page_as_of?" + urlencode({"source": "p7", "at": "2024-06-01T12:00:00Z"}),
        })
        others.update(dashboard_chart_queries(db_path))
        timings = {}
        for name, path in [*pages.items(), *others.items()]:
            samples, status = [], None
            for _ in range(repeat if name in pages else max(3, repeat // 4)):
                started = time.monotonic()
                try:
                    with urllib.request.urlopen(base + path, timeout=60) as response:
                        response.read()
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
                samples.append((time.monotonic() - started) * 1000)
            samples.sort()
            timings[name] = {"median_ms": statistics.median(samples),
                             "p95_ms": samples[max(0, int(len(samples) * 0.95) - 1)], "status": status}
        return {"incidents": n, "updates": n * 5, "timings": timings}
    finally:
        server.terminate()
        server.wait(timeout=10)


def latency_bench(folder: Path, n: int, posts: int = 20, every: str = "1m") -> dict:
    """Detection latency of the watch service: ``n`` sources polled every minute with the
    shipped settings; ``posts`` of them post a new incident; how long until it is in the
    archive, in the Atom feed (served by the same command) and at a webhook (Apprise)."""
    import json as jsonlib
    import signal as signals
    import threading
    import urllib.request
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    root = folder / f"latency-{n}"
    sites = [SyntheticStatuspage(SiteSpec(f"Site {k}", incidents=5, seed=k)).site() for k in range(n)]
    for k, site in enumerate(sites):
        site.write(root / f"s{k}")
    received: list[tuple[float, dict]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append((time.time(), jsonlib.loads(self.rfile.read(int(self.headers["Content-Length"])))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    port = free_port()
    db_path = folder / "bench.db"
    with serving_many_hosts(root, n) as server:
        sources = folder / f"latency-{n}.toml"
        sources.write_text("".join(
            f'[[sources]]\nid = "s{k}"\nkind = "statuspage"\nname = "Site {k}"\nurl = "{server.url_of(k)}/s{k}"\n'
            f'every = "{every}"\n\n' for k in range(n))
            + f'[[notify]]\nurl = "json://127.0.0.1:{hook.server_address[1]}/hook"\n')

        def post(p: int) -> None:
            """A new incident on one site's page, as the site would publish it."""
            k = p * n // posts
            site = sites[k]
            new = dict(site.incidents[-1], id=f"benchpost{p:04d}", name=f"Bench post {p}", status="investigating",
                       resolved_at=None)
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            new.update(created_at=stamp, updated_at=stamp, started_at=stamp, incident_updates=[
                dict(site.incidents[-1]["incident_updates"][-1], id=f"benchupd{p:04d}", status="investigating",
                     body=f"Bench post {p}: investigating.", created_at=stamp, display_at=stamp, updated_at=stamp)])
            site.incidents.insert(0, new)
            site.write(root / f"s{k}")
            posted[f"s{k}:benchpost{p:04d}"] = (time.time(), f"Bench post {p}")

        watch = subprocess.Popen([sys.executable, "-m", "incident_archive.cli", "watch", "--db", str(db_path),
                                  "--sources", str(sources), "--serve", "--port", str(port)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            started = time.time()
            while time.time() - started < 3600:  # every source polled once
                time.sleep(2)
                try:
                    db = sqlite_utils.Database(db_path)
                    done = db.execute("select count(distinct source) from crawl_runs where outcome = 'ok'").fetchone()[0]
                    db.close()
                except Exception:
                    done = 0
                if done >= n:
                    break
            first_round_s = time.time() - started
            # Posts land at random moments spread over one interval (seeded), as real posts
            # do: posted right after a round, each would wait a whole interval.
            rng = random.Random(n)
            interval = duration_seconds(every)
            post_at = [time.time() + (p + rng.random()) * interval / posts for p in range(posts)]
            posted: dict[str, tuple[float, str]] = {}
            seen = {"archive": {}, "feed": {}, "webhook": {}}
            deadline = time.time() + 20 * 60
            while time.time() < deadline and (len(posted) < posts or any(len(v) < posts for v in seen.values())):
                for p in range(len(posted), posts):
                    if time.time() < post_at[p]:
                        break
                    post(p)
                now = time.time()
                try:
                    db = sqlite_utils.Database(db_path)
                    for (incident_id,) in db.execute(f"select id from incidents where id in "
                                                     f"({', '.join('?' * len(posted))})", list(posted)):
                        seen["archive"].setdefault(incident_id, now)
                    db.close()
                    feed = urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/incident_feed.atom", timeout=10)
                    text = feed.read().decode()
                    for incident_id, (_, title) in posted.items():
                        if title in text:
                            seen["feed"].setdefault(incident_id, now)
                except Exception:
                    pass
                for at, body in list(received):
                    for incident_id, (_, title) in posted.items():
                        if title in body.get("title", ""):
                            seen["webhook"].setdefault(incident_id, at)
                time.sleep(0.5)
            measured_from, measured_to = started + first_round_s, time.time()
        finally:
            watch.send_signal(signals.SIGTERM)
            watch.wait(timeout=120)
            hook.shutdown()
    shutil.rmtree(root, ignore_errors=True)

    def figures(found: dict) -> dict:
        delays = sorted(found[i] - posted[i][0] for i in found)
        if not delays:
            return {"detected": 0}
        return {"detected": len(delays), "median_s": statistics.median(delays),
                "p95_s": delays[min(len(delays) - 1, int(0.95 * len(delays)))], "max_s": delays[-1]}

    # How often each source was really polled while the posts were measured: the service
    # keeps up when this stays near the interval.
    db = sqlite_utils.Database(db_path)
    gaps = []
    last: dict[str, float] = {}
    for source, at in db.execute("select source, started_at from crawl_runs where outcome = 'ok' order by started_at"):
        moment = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        if source in last and moment >= measured_from:
            gaps.append(moment - last[source])
        last[source] = moment
    polls = db.execute("select count(*) from crawl_runs where outcome = 'ok' and started_at >= ?",
                       [datetime.fromtimestamp(measured_from, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")]).fetchone()[0]
    db.close()
    gaps.sort()
    polling = {"polls_per_s": polls / max(1.0, measured_to - measured_from),
               "interval_median_s": statistics.median(gaps) if gaps else None,
               "interval_p95_s": gaps[int(0.95 * (len(gaps) - 1))] if gaps else None}
    return {"sources": n, "every": every, "posts": posts, "first_round_s": first_round_s, **polling,
            **{channel: figures(found) for channel, found in seen.items()}}


def capacity_bench(folder: Path, n: int, seconds: int = 90) -> dict:
    """Poll capacity with the shipped settings: ``n`` unchanged Statuspage sites, each on a
    loopback address of its own (per-host politeness applies to each, as on the web).

    Measured twice: one ``crawl`` of all of them (one process), and the watch service with
    every source due every second, so it polls as fast as it can: the polls it finishes
    per second over ``seconds`` after its first round are its sustained capacity. The
    first crawl that fills the archive is preparation (FAST settings), not measured."""
    root = folder / f"capacity-{n}"
    for k in range(n):
        SyntheticStatuspage(SiteSpec(f"Site {k}", incidents=20, seed=k)).site().write(root / f"s{k}")
    db_path = folder / f"capacity-{n}.db"
    with serving_many_hosts(root, n) as server:
        sources = folder / f"capacity-{n}.toml"
        sources.write_text("".join(
            f'[[sources]]\nid = "s{k}"\nkind = "statuspage"\nname = "Site {k}"\nurl = "{server.url_of(k)}/s{k}"\n'
            f'every = "1s"\n\n' for k in range(n)))
        crawl = [sys.executable, "-m", "incident_archive.cli", "crawl", "--db", str(db_path), "--sources", str(sources)]
        run_measured(crawl + FAST)
        run_measured(crawl)  # robots.txt fetched and trusted from here on, as after any first poll of the day
        recrawl_s, recrawl_mb, recrawl = run_measured(crawl)
        db = sqlite_utils.Database(db_path)
        [requests, not_modified, written] = db.execute(
            "select sum(requests), sum(responses_not_modified), sum(incidents_new + incidents_updated) from crawl_runs "
            "where crawl_id = (select crawl_id from crawl_runs order by id desc limit 1)").fetchone()
        last_run = db.execute("select max(id) from crawl_runs").fetchone()[0]
        db.close()
        # This machine's speed now (a shared VM's varies by half within an hour): Scrapy's own
        # ceiling, measured beside the figures it qualifies.
        ceiling = scrapy_bench_rate()
        watch = subprocess.Popen([sys.executable, "-m", "incident_archive.cli", "watch", "--db", str(db_path),
                                  "--sources", str(sources)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            started = time.time()
            while time.time() - started < 1800:  # every source polled once: the service is up to speed
                time.sleep(2)
                db = sqlite_utils.Database(db_path)
                done = db.execute("select count(distinct source) from crawl_runs where id > ?", [last_run]).fetchone()[0]
                db.close()
                if done >= n:
                    break
            # Polls that finished within the window, whenever they started (counting those
            # started in it instead would miss the ones in flight at its end).
            window_start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=1)
            time.sleep(seconds + 2)
            window_end = window_start + timedelta(seconds=seconds)
            db = sqlite_utils.Database(db_path)
            polls, failed = db.execute(
                "select count(*), sum(outcome != 'ok') from crawl_runs where finished_at >= ? and finished_at < ?",
                [window_start.strftime(ISO_FORMAT), window_end.strftime(ISO_FORMAT)]).fetchone()
            db.close()
        finally:
            watch.send_signal(signal.SIGTERM)
            watch.wait(timeout=300)
    shutil.rmtree(root, ignore_errors=True)
    return {"sources": n, "recrawl_s": recrawl_s, "recrawl_mb": recrawl_mb, "recrawl_exit": recrawl.returncode,
            "crawl_sources_per_s": n / recrawl_s, "requests": requests, "not_modified": not_modified,
            "rows_written": written, "watch_polls_per_s": polls / seconds, "watch_failed": failed or 0,
            "watch_seconds": seconds, "scrapy_bench": ceiling}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PARTS = ["crawl", "capacity", "ingest", "queries", "latency"]
# Issue 18 restated the crawl targets in what a user runs: its five, numbered in its order.
ISSUE_TARGETS = {
    "capacity": "the watch service polls at least 100 unchanged sources per second (shipped settings, a host each)",
    "latency": "a new post in the archive at most 75 s after it appears, at p95 (sources polled every minute, the most measured)",
    "queries": "every page and canned query under 100 ms at p95",
    "ingest": "ingest at least 70% of a bare executemany of the same rows into the same tables, indexes and full-text indexes",
    "memory": "peak memory of a crawl under 300 MB",
}
# The earlier crawl targets, still measured and shown in a table after the issue's.
EARLIER_TARGETS = {
    "crawl": "crawl at least 80% of `scrapy bench`'s pages/s, parsing and storing",
    "recrawl_rows": "a recrawl of unchanged sources writes no row",
    "recrawl_time": "a recrawl takes at most 25% of the first crawl's time",
}
TARGETS = {**{key: f"{n}. {text}" for n, (key, text) in enumerate(ISSUE_TARGETS.items(), 1)}, **EARLIER_TARGETS}
ANALYSIS = Path(__file__).with_name("analysis.md")  # where the time goes: written by hand from profiles


def latency_row(runs: list[dict]) -> tuple[str, str, bool]:
    """The detection latency to the archive at the largest number of sources measured,
    every post counted (a post never detected misses the target)."""
    run = max(runs, key=lambda r: r["sources"])
    found = run["archive"]
    met = found["detected"] == run["posts"] and found["p95_s"] <= 75
    return ("latency", f"{found['p95_s']:.0f} s at {run['sources']} sources ({found['detected']}/{run['posts']} posts)", met)


def crawl_ceiling(crawl: dict, results: dict) -> float:
    """The `scrapy bench` a crawl is judged against: the one measured just before it (runs
    before 2026-12-07 measured one for the whole part)."""
    return crawl.get("scrapy_bench", results["scrapy_bench"])


def target_rows(results: dict) -> dict[str, str]:
    """One line per target, keyed by it: the worst measured figure against it."""
    crawls = results["crawl"]
    worst_crawl = min(c["pages_per_s"] / crawl_ceiling(c, results) for c in crawls)
    worst_recrawl = max(c["again_s"] / c["first_s"] for c in crawls)
    written = max(c["again_written"] for c in crawls)
    memory = max([max(c["first_mb"], c["again_mb"]) for c in crawls]
                 + [c["recrawl_mb"] for c in results.get("capacity", [])])
    # The target is judged on the batches crawls write; the mixed ones are shown beside.
    judged = [i for i in results["ingest"] if i.get("order") == "pipeline"]
    batches = "batches as crawls write them"
    if not judged:  # a results file from before the bench wrote pipeline batches
        judged, batches = results["ingest"], "batches that mix sources"
    ingest = min(i["ratio"] for i in judged)
    timings = results["queries"]["timings"]
    slowest = max(timings.items(), key=lambda kv: kv[1]["p95_ms"]) if timings else ("-", {"p95_ms": 0})
    rows = [
        ("crawl", f"{100 * worst_crawl:.0f}% (slowest crawl)", worst_crawl >= 0.8),
        ("recrawl_rows", f"{written} rows", written == 0),
        ("recrawl_time", f"{100 * worst_recrawl:.0f}% (worst crawl)", worst_recrawl <= 0.25),
        ("memory", f"{memory} MB", memory < 300),
        *([("capacity", f"{min(c['watch_polls_per_s'] for c in results['capacity']):.1f} sources/s (lowest)",
            min(c["watch_polls_per_s"] for c in results["capacity"]) >= 100)] if results.get("capacity") else []),
        *([latency_row(results["latency"])] if results.get("latency") else []),
        # One decimal: a ratio of 0.697 read "70%" beside "missed".
        ("ingest", f"{100 * ingest:.1f}% (lowest size, {batches}; single runs from "
                   f"{100 * min(min(i.get('ratios', [i['ratio']])) for i in judged):.1f}%)", ingest >= 0.7) if all(i.get("floor") for i in results["ingest"])
        else ("ingest", f"not measured against this floor yet ({100 * ingest:.0f}% of a bare insert into tables "
                        "without indexes, the old floor)", False),
        ("queries", f"{slowest[1]['p95_ms']:.0f} ms ({slowest[0]})", slowest[1]["p95_ms"] < 100),
    ]
    return {key: f"| {TARGETS[key]} | {figure} | {'met' if met else '**missed**'} |" for key, figure, met in rows}


def write_report(path: Path, scale: str, results: dict) -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    q = results["queries"]
    when = results.get("measured_at") or {}
    targets = target_rows(results)
    if len(set(when.values())) > 1:  # parts re-measured with --only
        measured = "; ".join(f"{part} {at}" for part, at in when.items())
    else:
        measured = next(iter(when.values()), datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    lines = [
        "# Benchmarks", "",
        f"Measured {measured} on {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, with `make bench` (scale `{scale}`: `python -m bench.run --scale {scale}`; "
        "`BENCH_SCALE=full make bench` for the issue's sizes). Everything runs against loopback addresses (127.0.0.1; a host of its own per site, 127.1.x.y, where a part says so) on seeded "
        "synthetic data (`incident_archive/testing/synthetic.py`), so two runs measure the same work.", "",
        "## Against the targets", "",
        "Issue 18's five, in its order:", "",
        "| target | measured | |", "|---|---|---|",
        *[targets[key] for key in ISSUE_TARGETS if key in targets], "",
        "The earlier crawl targets, which issue 18 restated as the five above, still measured:", "",
        "| target | measured | |", "|---|---|---|",
        *[targets[key] for key in EARLIER_TARGETS],
        "", "## Crawl", "",
        "Each site on a loopback address of its own (127.1.x.y), AutoThrottle and robots.txt off (`FAST`): "
        "this part measures parsing and storing, not the politeness delays.", "",
        f"Scrapy's own ceiling here (`scrapy bench`): **{results['scrapy_bench']:.0f} pages/s** at the start of the "
        "run. Each crawl is compared with `scrapy bench` measured just before it (this machine's speed moves by up "
        "to a quarter between minutes).", "",
        *([f"Start-up (the recrawl of one unchanged source: interpreter, imports, reactor, archive): "
           f"**{results['startup_s']:.1f} s**, paid by every crawl whatever its size.", ""]
          if results.get("startup_s") else []),
        "| sites | incidents/site | incidents | first crawl | pages/s | `scrapy bench` then | vs it | incidents/s | peak MB | "
        "recrawl | recrawl / first | same, start-up excluded | recrawl requests | 304s | rows written |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    startup = results.get("startup_s")
    for c in results["crawl"]:
        ceiling = crawl_ceiling(c, results)
        marginal = f"{100 * (c['again_s'] - startup) / (c['first_s'] - startup):.0f}%" if startup else "-"
        lines.append(
            f"| {c['sites']} | {c['incidents_per_site']} | {c['incidents']} | {c['first_s']:.1f} s | "
            f"{c['pages_per_s']:.0f} | {ceiling:.0f} | {100 * c['pages_per_s'] / ceiling:.0f}% | "
            f"{c['incidents_per_s']:.0f} | {max(c['first_mb'], c['again_mb'])} | {c['again_s']:.1f} s | "
            f"{100 * c['again_s'] / c['first_s']:.0f}% | {marginal} | {c['again_requests']} | {c['again_not_modified']} | "
            f"{c['again_written']} |")
    lines += ["", "## Ingest", "",
              "Batches of 500 (`ARCHIVE_BATCH_SIZE`). *As crawls write them*: one source's incidents a batch, newest "
              "first, as the pipeline keeps a batch per source and a history lists them (the target's figure). "
              "*Mixed*: every batch holds all 50 sources at random times over six years, the writer's worst case "
              "(each batch touches a different month of nearly every kept figure); no crawl writes these. The writer and "
              "the floor take turns batch by batch (the writer commits a batch, the floor puts the same rows in one "
              "transaction), so both meet the same moments of this machine; where a size is run more than once, the "
              "rates are the medians.", "",
              "| incidents (5 updates each) | batches | archive writer | "
              + ("bare executemany of the same rows (same indexes, full-text)"
                 if all(i.get("floor") for i in results["ingest"]) else "bare sqlite-utils insert (no indexes; the old floor)")
              + " | ratio (of the medians) | each run's ratio |",
              "|---|---|---|---|---|---|"]
    for i in results["ingest"]:
        order = {"pipeline": "as crawls write them", "mixed": "mixed"}[i.get("order", "mixed")]
        runs = i.get("ratios", [i["ratio"]])
        spread = (f"{100 * min(runs):.1f}-{100 * max(runs):.1f}% in {len(runs)} runs" if len(runs) > 1 else "one run")
        lines.append(f"| {i['n']:,} | {order} | {i['ours_per_s']:,.0f}/s | {i['bare_per_s']:,.0f}/s | "
                     f"{100 * i['ratio']:.1f}% | {spread} |")
    lines += ["", f"## Queries on {q['incidents']:,} incidents and {q['updates']:,} updates", "",
              "| page | median | p95 | status |", "|---|---|---|---|"]
    for name, t in q["timings"].items():
        lines.append(f"| {name} | {t['median_ms']:.0f} ms | {t['p95_ms']:.0f} ms | {t['status']} |")
    if results.get("capacity"):
        lines += ["", "## Poll capacity", "",
                  "Unchanged Statuspage sites of 20 incidents, each on a loopback address of its own (127.1.x.y), "
                  "with the shipped settings (robots.txt obeyed, AutoThrottle, 4 connections per host): one `crawl` "
                  "of them all, then the watch service with every source due every second, so that it polls as fast "
                  "as it can; `scrapy bench` measured just before the watch service, beside its figure (this "
                  "machine's speed varies by half within an hour).", "",
                  "| sources | one crawl | sources/s | peak MB | requests (304s) | rows written | watch service: polls/s "
                  "sustained | failed polls | `scrapy bench` then |", "|---|---|---|---|---|---|---|---|---|"]
        for c in results["capacity"]:
            lines.append(f"| {c['sources']} | {c['recrawl_s']:.1f} s | {c['crawl_sources_per_s']:.1f} | {c['recrawl_mb']} "
                         f"| {c['requests']} ({c['not_modified']}) | {c['rows_written']} | "
                         f"{c['watch_polls_per_s']:.1f} over {c['watch_seconds']} s | {c['watch_failed']} | "
                         f"{c.get('scrapy_bench', 0):.0f} pages/s |")
    if results.get("latency"):
        lines += ["", "## Detection latency of the watch service", "",
                  "From a new incident posted on a page to the incident in the archive, in the Atom feed and at a "
                  "webhook (Apprise's json://), sources polled every minute with the shipped settings, each site on a "
                  "loopback address of its own: the sources due together polled by one process (one Scrapy crawler for "
                  "all of them), at most 4 such processes at once.", "",
                  "| sources | first round of polls | polls/s after it | time between polls of a source (median, p95) "
                  "| posts | channel | median | p95 | max |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for run in results["latency"]:
            for channel in ("archive", "feed", "webhook"):
                f = run[channel]
                cells = (f"{f['median_s']:.0f} s | {f['p95_s']:.0f} s | {f['max_s']:.0f} s" if f.get("detected")
                         else "not detected | | ")
                polling = (f"{run['polls_per_s']:.1f} | {run['interval_median_s']:.0f} s, {run['interval_p95_s']:.0f} s"
                           if run.get("interval_median_s") else "not measured | not measured")
                lines.append(f"| {run['sources']} | {run['first_round_s']:.0f} s | {polling} | "
                             f"{f.get('detected', 0)}/{run['posts']} | {channel} | {cells} |")
    lines += ["", "Raw figures: `docs/benchmarks.json`.", ""]
    if ANALYSIS.exists():
        lines += [ANALYSIS.read_text(encoding="utf-8")]
    path.write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
    parser.add_argument("--out", default="docs/BENCHMARKS.md")
    parser.add_argument("--only", choices=PARTS, action="append",
                        help="measure only this part (repeatable); the others are kept from the last run's "
                             "benchmarks.json of the same scale, and the report says which run measured what")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    out = Path(args.out)
    results = {"scale": args.scale}
    if args.only:
        last = out.with_name("benchmarks.json")
        results = json.loads(last.read_text(encoding="utf-8"))
        written = datetime.fromtimestamp(last.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        results.setdefault("measured_at", dict.fromkeys(PARTS, written))  # a run from before --only
        if results["scale"] != args.scale:
            parser.error(f"the last run measured scale {results['scale']!r}, not {args.scale!r}")
    parts = args.only or PARTS
    measured_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with tempfile.TemporaryDirectory(prefix="incident-archive-bench-") as folder:
        folder = Path(folder)
        if "crawl" in parts:
            print("scrapy bench ...", file=sys.stderr)
            results["scrapy_bench"] = scrapy_bench_rate()
            # What every crawl pays whatever its size (start-up, imports, the reactor):
            # the recrawl of one unchanged source.
            results["startup_s"] = crawl_bench(folder, 1, 20)["again_s"]
            results["crawl"] = []
            for sites, incidents in scale["crawls"]:
                print(f"crawl {sites} sites of {incidents} incidents ...", file=sys.stderr)
                results["crawl"].append(crawl_bench(folder, sites, incidents))
        if "capacity" in parts:
            results["capacity"] = []
            for n in scale["capacity"]:
                print(f"poll capacity, {n} unchanged sources on hosts of their own ...", file=sys.stderr)
                results["capacity"].append(capacity_bench(folder, n))
        if "ingest" in parts:
            results["ingest"] = []
            for n, order, repeats in scale["ingest"]:
                print(f"ingest {n} in {order} batches, {repeats} run(s) each ...", file=sys.stderr)
                results["ingest"].append(ingest_bench(folder, n, order, repeats))
        if "queries" in parts:
            print(f"queries on {scale['archive']} incidents ...", file=sys.stderr)
            results["queries"] = query_bench(folder, scale["archive"])
        if "latency" in parts:
            results["latency"] = []
            for n in scale["latency"]:
                print(f"detection latency, {n} sources polled every minute ...", file=sys.stderr)
                results["latency"].append(latency_bench(folder / f"latency-run-{n}", n))
    results.setdefault("measured_at", {}).update(dict.fromkeys(parts, measured_at))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_name("benchmarks.json").write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    write_report(out, args.scale, results)
    print(out.read_text())


if __name__ == "__main__":
    main()
