"""A tiny run of the benchmark code, so `make bench` does not rot between runs."""

import sys

from bench.run import crawl_bench, ingest_bench, run_measured, write_report


def test_benchmark_code_runs_at_tiny_sizes(tmp_path):
    crawl = crawl_bench(tmp_path, sites=2, incidents=3)
    assert crawl["incidents"] == 6 and crawl["exit"] == (0, 0)
    assert crawl["again_written"] == 0 and crawl["rows_same"] and crawl["again_not_modified"] > 0
    ingest = ingest_bench(tmp_path, 200)
    assert ingest["ours_per_s"] > 0 and ingest["bare_per_s"] > 0
    report = tmp_path / "BENCHMARKS.md"
    startup = crawl["again_s"] / 2
    write_report(report, "tiny", {"scrapy_bench": 100.0, "startup_s": startup, "crawl": [crawl], "ingest": [ingest],
                                  "queries": {"incidents": 0, "updates": 0, "timings": {}}})
    text = report.read_text()
    assert "| 2 | 3 | 6 |" in text
    assert f"**{startup:.1f} s**, paid by every crawl" in text
    marginal = (crawl["again_s"] - startup) / (crawl["first_s"] - startup)
    assert f"{100 * crawl['again_s'] / crawl['first_s']:.0f}% | {100 * marginal:.0f}% |" in text
    assert "| a recrawl of unchanged sources writes no row | 0 rows | met |" in text


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
