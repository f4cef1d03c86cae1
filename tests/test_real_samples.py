"""Every real sample in ../shared/realdata crawled as its site serves it, not only parsed.

Each site here is served in the real shape the sample came from (its endpoint, its
encoding, its validators or their absence, its robots.txt), from the sample's own bytes
or objects, and crawled by the real spider. The GitHub incidents of 2022, the Google
Cloud feed, the Azure items and AWS's legacy events are crawled in test_crawl_real_github,
test_completeness, test_gcp and test_azure.
"""

from __future__ import annotations

import json
import shutil

import sqlite_utils

from incident_archive.testing.demo import RECORDED
from incident_archive.testing.incidentio_site import IncidentioSite
from incident_archive.testing.replay import serving, write_response
from incident_archive.testing.statuspage_site import StatuspageSite
from tests.conftest import FAST, run_cli, write_sources


def crawl(tmp_path, source: dict, db: str = "a.db"):
    sources = write_sources(tmp_path / "s.toml", [source])
    return run_cli("crawl", "--db", str(tmp_path / db), "--sources", str(sources), *FAST)


def test_anthropic_incidents_json_behind_a_robots_txt_that_forbids_the_api(realdata, tmp_path):
    """status.claude.com: the classic Statuspage format, /api/ disallowed by robots.txt."""
    excerpt = json.loads((realdata / "anthropic" / "incidents.json.backfill_2026-09-15_EXCERPT_1of50.json").read_text())
    [incident] = excerpt["incidents"]
    page = {"id": incident["page_id"], "name": "Anthropic", "url": "https://status.claude.com", "time_zone": "Etc/UTC"}
    site = StatuspageSite(page, incident["components"], [incident])
    with serving(site.write(tmp_path / "site", robots_txt="User-agent: *\nDisallow: /api/\n")) as server:
        result = crawl(tmp_path, {"id": "anthropic", "kind": "statuspage", "name": "Anthropic", "url": server.base_url})
        asked = [r.path for r in server.log]
    assert result.returncode == 0, result.stdout
    assert not any(p.startswith("/api/") for p in asked) and f"/incidents/{incident['id']}.json" in asked
    db = sqlite_utils.Database(tmp_path / "a.db")
    row = db["incidents"].get(f"anthropic:{incident['id']}")
    assert (row["title"], row["impact"]) == (incident["name"], incident["impact"])
    assert db["incident_updates"].count == len(incident["incident_updates"])
    assert db["incident_components"].count == len(incident["components"])


def test_github_history_atom_at_three_dates(realdata, tmp_path):
    """githubstatus.com's /history.atom as it changed over four years; incidents.json is
    down, so the feed is what the crawl reads, and every entry of every date is kept."""
    page = {"id": "kctbh9vrtdwd", "name": "GitHub", "url": "https://www.githubstatus.com", "time_zone": "Etc/UTC"}
    root = tmp_path / "site"
    write_response(root, "/api/v2/summary.json", json.dumps(StatuspageSite(page, [], []).summary()))
    feeds = sorted((realdata / "github").glob("github-status-history.atom.*.xml"))
    with serving(root) as server:
        source = {"id": "github", "kind": "statuspage", "name": "GitHub", "url": server.base_url, "history": False}
        for feed in feeds:
            write_response(root, "/history.atom", feed.read_bytes())
            result = crawl(tmp_path, source)
            assert result.returncode == 0, result.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    from incident_archive.crawl.parsers.statuspage import parse_history_atom

    every = {i.native_id for f in feeds for i in parse_history_atom(f.read_bytes(), "github", server.base_url)}
    assert {r["native_id"] for r in db["incidents"].rows} == every and len(every) == 75
    assert "used /history.atom" in db.execute("SELECT notes FROM crawl_runs").fetchone()[0]


def test_openai_statuspage_compatible_shim_samples(realdata, tmp_path):
    """status.openai.com's shim: two summary snapshots (component order changed between
    them), components.json and incidents.json, served without validators, the native API
    unavailable."""
    excerpt = json.loads((realdata / "openai" / "incidents.json.backfill_2026-09-15_EXCERPT_7of25.json").read_text())
    summaries = sorted((realdata / "openai").glob("summary.json.*.json"))
    root = tmp_path / "site"
    with serving(root, validators="none") as server:
        source = {"id": "openai", "kind": "incidentio", "name": "OpenAI", "url": server.base_url,
                  "proxy_host": "status.openai.com"}
        write_response(root, "/api/v2/components.json",
                       (realdata / "openai" / "components.json.TRIMMED_2026-07.json").read_bytes())
        for summary in summaries:
            write_response(root, "/api/v2/summary.json", summary.read_bytes())
            write_response(root, "/api/v2/incidents.json", json.dumps({"incidents": excerpt["incidents"]}))
            result = crawl(tmp_path, source)
            assert result.returncode == 0, result.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert {r["native_id"] for r in db["incidents"].rows} == {i["id"] for i in excerpt["incidents"]}
    listed = {c["id"] for f in [*summaries, realdata / "openai" / "components.json.TRIMMED_2026-07.json"]
              for c in json.loads(f.read_text())["components"]}
    assert {r["native_id"] for r in db["components"].rows} == listed and len(listed) >= 25
    assert "the same body as last time" in db.execute(
        "SELECT notes FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0]


def test_openai_native_incidents_sample(realdata, tmp_path):
    """/proxy/status.openai.com/incidents as a public client recorded it (5 of 93)."""
    real = json.loads((realdata / "openai" / "proxy_incidents.TRIMMED_5of93.json").read_text())["incidents"]
    recorded = IncidentioSite.from_file(RECORDED / "openai-incidentio.json")
    site = IncidentioSite("status.openai.com", recorded.summary, real)
    with serving(site.write(tmp_path / "site")) as server:
        result = crawl(tmp_path, {"id": "openai", "kind": "incidentio", "name": "OpenAI", "url": server.base_url,
                                  "proxy_host": "status.openai.com"})
    assert result.returncode == 0, result.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert {r["native_id"] for r in db["incidents"].rows} == {i["id"] for i in real}
    assert db["component_impacts"].count == sum(len(i["component_impacts"]) for i in real)
    assert db["incident_updates"].count == sum(len(i["updates"]) for i in real)


def test_an_incidentio_page_html_gives_the_summary(realdata, tmp_path):
    """The Perplexity page's HTML, whose summary sits in Next.js chunks: read when the
    native summary endpoint fails."""
    site = IncidentioSite.from_file(RECORDED / "openai-incidentio.json", host="status.perplexity.com")
    root = site.write(tmp_path / "site")
    (root / "proxy" / "status.perplexity.com" / "_index").unlink()
    shutil.copy(realdata / "incidentio" / "incidentio-perplexity.html", root / "index.html")
    with serving(root) as server:
        result = crawl(tmp_path, {"id": "perplexity", "kind": "incidentio", "name": "Perplexity",
                                  "url": server.base_url})
    assert result.returncode == 0, result.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    names = {r["name"] for r in db["components"].rows_where("native_id LIKE '01KZ%' OR native_id LIKE '01M0T%'")}
    assert names == {"Website", "App", "Computer"}
    assert "used the page's HTML" in db.execute("SELECT notes FROM crawl_runs").fetchone()[0]


def test_aws_current_events_rss_and_legacy_data(realdata, tmp_path):
    """health.aws.amazon.com sends current events as UTF-16 (big-endian, with a BOM);
    the RSS samples and the pre-2023 data.json come from their own URLs."""
    from incident_archive.crawl.parsers.aws import parse_events, parse_legacy, parse_rss

    root = tmp_path / "site"
    events = (realdata / "aws" / "aws-currentevents.json").read_text(encoding="utf-8")
    write_response(root, "/public/currentevents", b"\xfe\xff" + events.encode("utf-16-be"))
    write_response(root, "/data.json", (realdata / "aws" / "legacy-data.json").read_bytes())
    rss = sorted((realdata / "aws").glob("*rss_sample*.xml"))
    for number, feed in enumerate(rss):
        write_response(root, f"/rss/{number}.rss", feed.read_bytes())
    expected = set()
    with serving(root) as server:
        for number, feed in enumerate(rss):
            result = crawl(tmp_path, {"id": "aws", "kind": "aws", "name": "AWS", "url": server.base_url,
                                      "legacy_url": f"{server.base_url}/data.json",
                                      "rss_url": f"{server.base_url}/rss/{number}.rss"})
            assert result.returncode == 0, result.stdout
            expected |= {i.native_id for i in parse_rss(feed.read_bytes(), "aws", server.base_url)}
        expected |= {i.native_id for i in parse_events(b"\xfe\xff" + events.encode("utf-16-be"), "aws", "x")[0]}
        expected |= {i.native_id for i in parse_legacy((realdata / "aws" / "legacy-data.json").read_bytes(),
                                                      "aws", "x")[0]}
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert {r["native_id"] for r in db["incidents"].rows} == expected
    assert db["incident_aliases"].count == 0 and len(expected) > 80
