"""A real browser (Debian's chromium, driven by Playwright) uses the published archive:
home page, a search, the 2024-12-26 incident with Azure beside it, a CSV download."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from incident_archive.testing.azure_site import write_azure_site
from incident_archive.testing.demo import RECORDED, azure_reviews
from incident_archive.testing.news_site import write_news_site
from incident_archive.testing.replay import serving
from incident_archive.testing.statuspage_site import StatuspageSite
from tests.conftest import FAST, PROJECT, run_cli, write_sources

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium as root, offline: no sandbox, no background network (see the env notes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = PROJECT / "docs" / "screenshots"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Debian's chromium is not installed (make test installs it with apt-get when run as root)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served(db_path):
    """``incident-archive serve`` on a free port, as a user runs it: yields its address."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "incident_archive.cli", "serve", "--db", str(db_path),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=2)
            break
        except OSError:
            assert time.monotonic() < deadline, "Datasette did not start"
            time.sleep(0.2)
    yield base
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def served_archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    statuspage = json.loads((RECORDED / "openai-statuspage-2024-12.json").read_text())
    openai = StatuspageSite(statuspage["page"], statuspage["components"], statuspage["incidents"])
    db_path = root / "archive.db"
    with serving(openai.write(root / "openai")) as openai_server, \
            serving(write_azure_site(root / "azure", azure_reviews())) as azure_server, \
            serving(root / "news") as news_server:
        write_news_site(root / "news", news_server.base_url)
        sources = write_sources(root / "sources.toml", [
            {"id": "openai", "kind": "statuspage", "name": "OpenAI", "url": openai_server.base_url},
            {"id": "azure", "kind": "azure", "name": "Microsoft Azure", "url": azure_server.base_url},
            {"id": "techdaily", "kind": "news", "name": "Tech Daily", "url": news_server.base_url + "/techdaily-feed.xml"},
        ])
        sources.write_text(sources.read_text().replace(
            'name = "OpenAI"', 'name = "OpenAI"\naliases = ["ChatGPT", "Sora"]\ndepends_on = ["azure"]'))
        run_cli("crawl", "--db", str(db_path), "--sources", str(sources), *FAST, check_exit=0)
    yield from served(db_path)


def shot(page, name: str, tmp_path) -> None:
    """Screenshots go to tmp; UPDATE_SCREENSHOTS=1 refreshes the ones in docs/."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=False)


def test_a_person_finds_the_upstream_incident_and_downloads_csv(served_archive, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)

        page.goto(served_archive + "/")
        expect(page.locator("h1").first).to_contain_text("Incident archive")
        health = page.locator("section.source-overview table")
        expect(health).to_contain_text("OpenAI")
        expect(health).to_contain_text("Microsoft Azure")
        shot(page, "home", tmp_path)

        # The whole archive, from the home page's link, opens with sqlite3.
        with page.expect_download() as download_info:
            page.click("section.source-overview a[href='/-/download/archive.db']")
        copy = tmp_path / "downloaded.db"
        download_info.value.save_as(copy)
        import sqlite3

        with sqlite3.connect(copy) as conn:
            assert conn.execute("select count(*) from incidents where id = 'openai:6bwlxnvdncnm'").fetchone() == (1,)

        # One search box: incident titles, update text and the news together.
        page.fill("input[name=q]", "upstream")
        page.press("input[name=q]", "Enter")
        results = page.locator("table.rows-and-columns")
        expect(results).to_contain_text("caused by an «upstream» provider")  # the hit marked
        expect(results).to_contain_text("article")
        shot(page, "search", tmp_path)

        page.click("table.rows-and-columns a[href$='/incidents/openai~3A6bwlxnvdncnm']")
        incident = page.locator("article.incident")
        expect(incident.locator("h1")).to_contain_text("High error rates for ChatGPT, APIs, and Sora")
        expect(incident.locator(".badge").first).to_contain_text("critical")
        expect(incident.locator("ol.timeline li")).to_have_count(4)
        expect(incident).to_contain_text("azure:CNF4-N_0")
        expect(incident.locator("ol.causes li .badge").first).to_have_text("likely")
        expect(incident.locator("ol.causes")).to_contain_text("words: OpenAI blames an upstream")
        expect(incident).to_contain_text("ChatGPT and Sora down")
        shot(page, "incident", tmp_path)

        page.goto(served_archive + "/archive/incidents")
        page.check("input[name=_dl]")  # Datasette's advanced export: "download file"
        with page.expect_download() as download_info:
            page.click("input[value='Export CSV']")
        csv_path = tmp_path / "incidents.csv"
        download_info.value.save_as(csv_path)
        text = csv_path.read_text()
        assert text.startswith("id,") and "openai:6bwlxnvdncnm" in text and "azure:CNF4-N_0" in text
        browser.close()


def test_the_reliability_dashboard_draws_its_charts(served_archive, tmp_path):
    """The pre-built charts render in a real browser, with vega loaded from the plugin's own
    static files (the test machine has no network)."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(served_archive + "/-/dashboards/reliability")
        expect(page.locator("h1")).to_contain_text("Reliability at a glance")
        monthly = page.locator("#chart-incidents-per-month")
        expect(monthly.locator("canvas, svg").first).to_be_visible(timeout=15000)
        count_url = served_archive + "/archive.json?_shape=array&sql=select+count(*)+as+n+from+incidents"
        incidents = json.load(urllib.request.urlopen(count_url))[0]["n"]
        assert incidents >= 3
        expect(page.locator("#chart-incidents-total")).to_have_text(str(incidents))
        expect(page.locator("#chart-upstream-overlaps")).to_contain_text("azure:CNF4-N_0")
        expect(page.locator("#chart-time-to-resolve-distribution canvas, "
                            "#chart-time-to-resolve-distribution svg").first).to_be_visible()
        expect(page.locator("#chart-acknowledgement-lag canvas, #chart-acknowledgement-lag svg").first).to_be_visible()
        expect(page.locator("#chart-who-spoke-first")).to_contain_text("openai")
        assert not errors, errors
        shot(page, "dashboard", tmp_path)
        # A selection with no rows says so, in the tables and over the charts.
        page.goto(served_archive + "/-/dashboards/reliability?source=nobody")
        for chart in ("time-to-resolve-per-service", "upstream-overlaps", "who-spoke-first"):
            expect(page.locator(f"#chart-{chart}")).to_contain_text("No data for this selection")
        expect(page.locator("#chart-mean-hours-to-resolve")).to_contain_text("no data")
        for chart in ("incidents-per-month", "time-to-resolve-distribution", "availability-per-month",
                      "acknowledgement-lag"):
            expect(page.locator(f"#chart-{chart} svg text", has_text="No data for this selection")).to_have_count(1)
        assert not errors, errors
        browser.close()


HOSTILE = '<img src=x onerror="window.__pwned=1">'
SCRIPTED = "<script>window.__pwned=1</script>"


@pytest.fixture(scope="module")
def hostile_served(tmp_path_factory):
    """An archive whose provider, upstream, components, updates and article carry markup."""
    from incident_archive.archive.store import ArchiveWriter, open_archive
    from incident_archive.core.items import ArticleItem, ComponentItem, IncidentItem, UpdateItem

    db_path = tmp_path_factory.mktemp("hostile") / "archive.db"
    writer = ArchiveWriter(open_archive(db_path))
    writer.save_source("cloud", "statuspage", f"Cloud {HOSTILE}", "https://cloud.example")
    writer.save_source("app", "statuspage", "App", "https://app.example", depends_on=["cloud"])
    writer.save_source("news", "news", "News", "https://news.example")
    for source in ("cloud", "app"):
        writer.save_incident(IncidentItem(
            source=source, native_id="h1", title=f"Outage {HOSTILE} {SCRIPTED}", impact="major", impact_raw="major",
            status="resolved", started_at="2024-12-26T19:00:00Z", resolved_at="2024-12-26T21:00:00Z",
            url="javascript:window.__pwned=1",
            updates=[UpdateItem("u1", "investigating", f"Upstream trouble {HOSTILE}", "2024-12-26T19:00:00Z"),
                     UpdateItem("u2", "resolved", f"Fixed {SCRIPTED}", "2024-12-26T21:00:00Z")],
            components=[ComponentItem(source, "c1", f"API {HOSTILE}")]))
    writer.save_article(ArticleItem(
        source="news", url="https://news.example/a", canonical_url="https://news.example/a",
        title=f"Upstream outage {HOSTILE}", published_at="2024-12-26T22:00:00Z", author=None, outlet="News",
        summary=None, body=f"An upstream provider {SCRIPTED} failed.", extraction="feed"))
    writer.db.close()
    yield from served(db_path)


def test_no_script_from_crawled_text_runs_anywhere(hostile_served):
    """Hostile titles, bodies, component names and article text on the home page, the
    incident page, the dashboard, the search and every canned query: shown, never run."""
    from urllib.parse import urlencode

    from playwright.sync_api import sync_playwright

    from incident_archive.archive.web import load_metadata

    queries = load_metadata("archive.db")["databases"]["archive"]["queries"]
    params = {"q": "upstream", "incident_id": "app:h1", "at": "2024-12-26T20:00:00Z", "source": "app",
              "since": "", "until": ""}
    pages = ["/", "/archive/incidents/app~3Ah1", "/archive/incidents/cloud~3Ah1", "/-/dashboards/reliability",
             "/archive/incident_overview", "/archive/upstream_overlaps", "/archive/articles"]
    pages += [f"/archive/{name}?" + urlencode({k: v for k, v in params.items() if f":{k}" in query["sql"]})
              for name, query in queries.items()]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        dialogs = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        shown = 0
        for path in pages:
            page.goto(hostile_served + path)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__pwned") is None, path
            shown += "onerror=" in page.content().replace("&lt;img src=x onerror=", "onerror=")
        for link in page.locator("a[href^='javascript:']").all():
            raise AssertionError(f"a javascript: link on the page: {link.get_attribute('href')}")
        browser.close()
    assert dialogs == [] and shown >= 3  # the markup was on the pages, as text
