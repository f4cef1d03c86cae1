"""The published side: read-only, a SQL time limit, no tokens, scraped markup shown as text."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest

from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.archive.web import DATASETTE_SETTINGS, datasette_instance
from incident_archive.core.items import ComponentItem, IncidentItem, UpdateItem

SCRIPT = "<script>alert('pwned')</script>"
IMAGE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def hostile_archive(tmp_path):
    db_path = tmp_path / "archive.db"
    writer = ArchiveWriter(open_archive(db_path))
    writer.save_source("evil", "statuspage", "Evil <b>Corp</b>", "https://evil.example")
    writer.save_incident(IncidentItem(
        source="evil", native_id="x1", title=f"Outage {SCRIPT}", impact="major", impact_raw="major",
        status="resolved", started_at="2024-12-26T19:00:00Z", resolved_at="2024-12-26T20:00:00Z",
        updates=[UpdateItem("u1", "resolved", f"Fixed. {SCRIPT} {IMAGE}", "2024-12-26T20:00:00Z")],
    ))
    writer.db.close()
    return db_path


def get(ds, path):
    return asyncio.run(ds.client.get(path))


@pytest.mark.parametrize("path", [
    "/archive/incidents", "/archive/incidents/evil:x1", "/archive/incident_updates",
    "/archive/incident_updates?_search=Fixed&_nocount=1", "/archive/search?q=Fixed", "/archive?sql=select+body+from+incident_updates",
])
def test_scraped_markup_is_escaped(hostile_archive, path):
    page = get(datasette_instance(hostile_archive), path)
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert" in page.text


def test_no_writes_through_the_web(hostile_archive):
    ds = datasette_instance(hostile_archive)
    for sql in ("delete from incidents", "insert into sources (id) values ('x')", "drop table incidents",
                "update incidents set title = 'x'"):
        answer = get(ds, "/archive.json?" + urlencode({"sql": sql}))
        assert answer.status_code == 400
    posted = asyncio.run(ds.client.post("/archive/incidents/-/insert", json={"row": {"id": "x"}}))
    assert posted.status_code in (403, 404, 405), posted.status_code
    assert get(ds, "/archive/incidents.json?_shape=array").json()[0]["title"].startswith("Outage")
    assert get(ds, "/-/create-token").status_code in (403, 404)
    assert get(ds, "/-/actor.json").json() == {"actor": None}


def test_sql_time_limit(hostile_archive):
    assert 0 < DATASETTE_SETTINGS["sql_time_limit_ms"] <= 5000
    ds = datasette_instance(hostile_archive)
    endless = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
    answer = get(ds, "/archive.json?" + urlencode({"sql": endless}))
    assert answer.status_code == 400 and "too long" in answer.text
    assert get(ds, "/-/settings.json").json()["sql_time_limit_ms"] == DATASETTE_SETTINGS["sql_time_limit_ms"]


@pytest.fixture
def hostile_upstream(tmp_path):
    """A provider and its upstream, the upstream's title and component names hostile."""
    db_path = tmp_path / "archive.db"
    writer = ArchiveWriter(open_archive(db_path))
    writer.save_source("cloud", "statuspage", "Cloud", "https://cloud.example")
    writer.save_source("app", "statuspage", "App", "https://app.example", depends_on=["cloud"])
    for source, title, url in (("cloud", f"Power {IMAGE}", "javascript:alert(document.domain)"),
                               ("app", "Errors", "https://app.example/incidents/a1")):
        writer.save_incident(IncidentItem(
            source=source, native_id="a1", title=title, impact="major", impact_raw="major", status="resolved",
            started_at="2024-12-26T19:00:00Z", resolved_at="2024-12-26T21:00:00Z", url=url,
            updates=[UpdateItem("u1", "investigating", "Looking", "2024-12-26T19:00:00Z"),
                     UpdateItem("u2", "resolved", "Fixed", "2024-12-26T21:00:00Z")],
            components=[ComponentItem(source, "c1", f"API {SCRIPT}")],
        ))
    writer.db.close()
    return db_path


def test_the_dashboards_tables_get_escaped_text(hostile_upstream):
    """datasette-dashboards puts a table chart's cells into the page with innerHTML: its
    SQL escapes every crawled text, so the page shows the markup and runs none of it."""
    from incident_archive.archive.web import load_metadata

    ds = datasette_instance(hostile_upstream)
    charts = load_metadata(hostile_upstream)["plugins"]["datasette-dashboards"]["reliability"]["charts"]
    tables = {name: chart for name, chart in charts.items() if chart.get("library") == "table"}
    assert set(tables) == {"time-to-resolve-per-service", "upstream-overlaps", "who-spoke-first"}
    seen = []
    for chart in tables.values():
        sql = chart["query"].replace("[[", "/*").replace("]]", "*/")
        rows = get(ds, "/archive.json?" + urlencode({"sql": sql, "_shape": "array"})).json()
        seen += [value for row in rows for value in row.values() if isinstance(value, str)]
    assert "Power &lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in seen
    assert any("API &lt;script&gt;" in value for value in seen)
    # The only markup is the project's own links to incident pages.
    assert '<a href="/archive/incidents/cloud~3Aa1">cloud:a1</a>' in seen
    assert not any("<" in value.replace('<a href="/archive/incidents/', "").replace("</a>", "") for value in seen)


def test_only_web_links_are_stored_or_published(hostile_upstream):
    ds = datasette_instance(hostile_upstream)
    assert get(ds, "/archive/incidents/cloud:a1.json?_shape=array").json()[0]["url"] is None
    feed = get(ds, "/archive/incident_feed.atom")
    assert feed.status_code == 200 and "javascript:" not in feed.text
    # Each entry links to the incident's page in the archive and names the provider's page.
    assert 'href="/archive/incidents/app~3Aa1"' in feed.text
    assert "On the provider's page: https://app.example/incidents/a1" in feed.text
    assert "On the provider's page: https://cloud.example)" in feed.text  # its own link was not a web page


def test_one_value_cannot_take_the_server_over_its_memory(hostile_archive):
    """select zeroblob(300000000) took Datasette from 58 MB to 1.8 GB: every value a query
    makes or reads is bounded (SQLITE_LIMIT_LENGTH), and refused with a clear error."""
    import resource

    ds = datasette_instance(hostile_archive)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer = get(ds, "/archive.json?" + urlencode({"sql": "select zeroblob(300000000)"}))
    assert answer.status_code == 400 and "too big" in answer.text
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KB


def test_a_public_server_runs_no_arbitrary_sql_but_every_canned_query(hostile_upstream):
    """Many values of up to the bound across a thousand rows still make an answer of
    gigabytes: ``serve --public`` turns arbitrary SQL off; everything else stays."""
    ds = datasette_instance(hostile_upstream, public=True)
    assert get(ds, "/archive.json?" + urlencode({"sql": "select zeroblob(1000000)"})).status_code == 403
    upstream = get(ds, "/archive/upstream_for_incident.json?" + urlencode({"incident_id": "app:a1", "_shape": "array"}))
    assert upstream.status_code == 200 and upstream.json()[0]["upstream_incident_id"] == "cloud:a1"
    assert get(ds, "/archive/incidents.csv").status_code == 200
    assert get(datasette_instance(hostile_upstream), "/archive.json?sql=select+1").status_code == 200


def test_one_search_finds_incidents_updates_and_articles_and_links_them(hostile_upstream):
    """'upstream' in the incidents' own search box found nothing while updates and an
    article held it: one search reads titles, update text and articles together."""
    from incident_archive.archive.store import ArchiveWriter, open_archive
    from incident_archive.core.items import ArticleItem

    writer = ArchiveWriter(open_archive(hostile_upstream))
    writer.save_source("news", "news", "News", "https://news.example")
    writer.save_incident(IncidentItem(
        source="app", native_id="b2", title="Degraded logins", impact="minor", impact_raw="minor",
        status="resolved", started_at="2024-12-27T01:00:00Z", resolved_at="2024-12-27T02:00:00Z",
        updates=[UpdateItem("u1", "identified", "Caused by an upstream provider's power event.",
                            "2024-12-27T01:10:00Z")]))
    writer.save_article(ArticleItem(
        source="news", url="https://news.example/a", canonical_url="https://news.example/a",
        title="App down: an upstream provider failed", published_at="2024-12-27T03:00:00Z", author=None,
        outlet="News", summary=None, body="The upstream provider lost power.", extraction="feed"))
    writer.db.close()
    ds = datasette_instance(hostile_upstream)
    hits = get(ds, "/archive/search.json?" + urlencode({"q": "upstream provider", "_shape": "array"})).json()
    assert {(h["kind"], h["title"]) for h in hits} == {
        ("update", "Degraded logins"), ("article", "App down: an upstream provider failed")}
    assert next(h["id"] for h in hits if h["kind"] == "update") == "app:b2"
    page = get(ds, "/archive/search?" + urlencode({"q": 'upstream "provider'}))  # stray quote: no error
    assert page.status_code == 200
    assert 'href="/archive/incidents/app~3Ab2"' in page.text and 'href="/archive/articles/' in page.text
    assert 'action="/archive/search"' in get(ds, "/").text
    # Incident ids link to their page wherever they appear.
    overlaps = get(ds, "/archive/upstream_overlaps")
    assert 'href="/archive/incidents/cloud~3Aa1"' in overlaps.text


def test_every_page_has_the_search_box_and_canned_queries_link_ids(hostile_upstream):
    ds = datasette_instance(hostile_upstream)
    for path in ("/", "/archive", "/archive/incidents", "/archive/incidents/app~3Aa1"):
        assert 'action="/-/search"' in get(ds, path).text, path
    answer = get(ds, "/-/search?q=upstream+provider")
    assert answer.status_code == 302 and answer.headers["location"] == "/archive/search?q=upstream+provider"
    down = get(ds, "/archive/what_was_down?" + urlencode({"at": "2024-12-26T20:00:00Z"}))
    assert 'href="/archive/incidents/app~3Aa1"' in down.text and 'href="/archive/incidents/cloud~3Aa1"' in down.text
