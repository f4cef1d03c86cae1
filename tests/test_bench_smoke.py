"""A tiny run of the benchmark code, so `make bench` does not rot between runs."""

from bench.run import crawl_bench, ingest_bench, write_report


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
