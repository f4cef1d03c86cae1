"""A tiny run of the benchmark code, so `make bench` does not rot between runs."""

import sys

import sqlite_utils

from bench.run import (INGESTED_TABLES, KEPT_TABLES, crawl_bench, ingest_bench, pipeline_batches, run_measured,
                       synthetic_incidents, write_report)


def test_benchmark_code_runs_at_tiny_sizes(tmp_path):
    crawl = crawl_bench(tmp_path, sites=2, incidents=3, bench_seconds=2)
    assert crawl["incidents"] == 6 and crawl["exit"] == (0, 0)
    assert crawl["again_written"] == 0 and crawl["rows_same"] and crawl["again_not_modified"] > 0
    ingest = ingest_bench(tmp_path, 200)
    assert ingest["ours_per_s"] > 0 and ingest["bare_per_s"] > 0
    # The floor, put batch by batch between the writer's, holds every row the writer wrote.
    written, floor = (sqlite_utils.Database(tmp_path / f"{side}-pipeline-200.db") for side in ("ingest", "bare"))
    assert written["incidents"].count == 200 and written["incident_updates"].count == 1000
    assert {t: floor[t].count for t in INGESTED_TABLES + KEPT_TABLES} == \
        {t: written[t].count for t in INGESTED_TABLES + KEPT_TABLES}
    assert floor.execute("select count(*) from incident_updates_fts").fetchone()[0] == 1000
    mixed = ingest_bench(tmp_path, 200, "mixed", repeats=2)
    assert mixed["order"] == "mixed" and len(mixed["ratios"]) == 2 and mixed["turns"] == "batch"
    report = tmp_path / "BENCHMARKS.md"
    startup = crawl["again_s"] / 2
    write_report(report, "tiny", {"scrapy_bench": 100.0, "startup_s": startup, "crawl": [crawl], "ingest": [ingest],
                                  "queries": {"incidents": 0, "updates": 0, "timings": {}}})
    text = report.read_text()
    assert "| 2 | 3 | 6 |" in text
    assert f"**{startup:.1f} s**, paid by every crawl" in text
    marginal = (crawl["again_s"] - startup) / (crawl["first_s"] - startup)
    assert f"{100 * crawl['again_s'] / crawl['first_s']:.0f}% | {100 * marginal:.0f}% |" in text
    # Each crawl is judged against the `scrapy bench` measured just before it, not the run's first.
    ceiling = crawl["scrapy_bench"]
    assert ceiling > 0 and f"| {ceiling:.0f} | {100 * crawl['pages_per_s'] / ceiling:.0f}% |" in text
    assert "| a recrawl of unchanged sources writes no row | 0 rows | met |" in text
    assert f"| 4. ingest at least 70% of a bare executemany of the same rows into the same tables, indexes and " \
           f"full-text indexes | {100 * ingest['ratio']:.1f}% (lowest size, batches as crawls write them; single runs " \
           "from" in text
    # The targets by number first; the earlier crawl targets in a table after them.
    assert text.index("| 4. ingest") < text.index("| 5. peak memory") < text.index("The earlier crawl targets") \
        < text.index("| crawl at least 80%") < text.index("## Crawl")


def test_ingest_batches_are_what_the_pipeline_writes():
    """One source a batch, newest first, each source's batches in turn: every incident once."""
    items = list(synthetic_incidents(2600))
    batches = pipeline_batches(items, size=20)
    assert sorted(i.native_id for b in batches for i in b) == sorted(i.native_id for i in items)
    assert all(len({i.source for i in b}) == 1 and len(b) <= 20 for b in batches)
    assert all([i.started_at for i in b] == sorted((i.started_at for i in b), reverse=True) for b in batches)
    assert [b[0].source for b in batches[:3]] == ["p0", "p1", "p2"] and len(batches) == 50 * 3
    first, second = batches[0], batches[50]
    assert first[-1].started_at >= second[0].started_at


ALLOCATE_AND_WAIT = "import time; block = bytearray(120 * 2**20); time.sleep(0.5)"


def test_peak_memory_is_the_childs_own_not_what_it_inherited():
    """Linux's ru_maxrss counts the parent's memory a child inherited before exec; the
    benchmark reads the child's own high-water mark instead."""
    _, own_mb, done = run_measured([sys.executable, "-c", ALLOCATE_AND_WAIT])
    assert done.returncode == 0 and 120 <= own_mb < 200
    inherited = bytearray(400 * 2**20)  # this process grows as the benchmark's server did
    _, small_mb, _ = run_measured([sys.executable, "-c", "import time; time.sleep(0.5)"])
    del inherited
    assert 0 < small_mb < 60


def test_latency_benchmark_runs_at_a_tiny_size(tmp_path):
    from bench.run import latency_bench

    run = latency_bench(tmp_path, 2, posts=1, every="3s")
    assert run["archive"]["detected"] == run["feed"]["detected"] == run["webhook"]["detected"] == 1
    assert all(0 < run[channel]["median_s"] < 30 for channel in ("archive", "feed", "webhook"))
