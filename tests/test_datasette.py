"""Datasette publishes the archive: HTML, JSON and CSV of the incidents, with the metadata."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest



@pytest.fixture(scope="session")
def crawled_archive(crawled_site):
    return crawled_site[1]


def get(ds, path):
    return asyncio.run(ds.client.get(path))


def test_incidents_as_html_json_and_csv(ds, crawled_site):
    newest = crawled_site[0].incidents[0]

    html = get(ds, "/archive/incidents")
    assert html.status_code == 200
    assert "80 rows" in html.text
    assert newest["name"] in html.text
    # Default facets from the metadata.
    facets = get(ds, "/archive/incidents.json?_size=0").json()["facet_results"]
    assert {"source", "impact", "status"} <= set(facets)
    assert sum(f["count"] for f in facets["source"]["results"]) == 80

    data = get(ds, "/archive/incidents.json?_shape=array&_size=max")
    assert data.status_code == 200
    rows = data.json()
    assert len(rows) == 80
    assert rows[0]["id"] == f"acme:{newest['id']}"  # sorted newest first
    assert all(r["started_at"].endswith("Z") for r in rows)

    exported = get(ds, "/archive/incidents.csv?_size=max")
    assert exported.status_code == 200
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(table) == 80 and {"id", "title", "impact", "started_at", "resolved_at"} <= set(table[0])


def test_full_text_search_and_metadata(ds):
    found = get(ds, "/archive/incident_updates.json?_search=monitoring&_shape=array")
    assert found.status_code == 200 and found.json()
    assert all("monitoring" in r["body"].lower() for r in found.json())
    metadata = get(ds, "/-/metadata.json").json()
    columns = metadata["databases"]["archive"]["tables"]["incidents"]["columns"]
    assert columns["impact"].startswith("The common impact scale")


def test_every_table_and_column_is_documented(crawled_archive):
    import sqlite_utils

    from incident_archive.archive.web import load_metadata

    tables = load_metadata(crawled_archive)["databases"]["archive"]["tables"]
    db = sqlite_utils.Database(crawled_archive)
    for name in db.table_names():
        if "_fts" in name:
            continue
        assert name in tables, f"table {name} has no description"
        assert tables[name].get("description")
        missing = set(db[name].columns_dict) - set(tables[name]["columns"])
        assert not missing, f"{name}: undocumented columns {missing}"


def test_the_whole_archive_downloads_as_one_sqlite_file(ds, crawled_site, tmp_path):
    import sqlite3

    home = get(ds, "/")
    assert 'href="/-/download/archive.db"' in home.text
    download = get(ds, "/-/download/archive.db")
    assert download.status_code == 200 and download.content.startswith(b"SQLite format 3\x00")
    assert "archive.db" in download.headers["content-disposition"]
    copy = tmp_path / "copy.db"
    copy.write_bytes(download.content)
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM incidents").fetchone() == (len(crawled_site[0].incidents),)
    assert get(ds, "/-/download/nothing.db").status_code == 404


def test_the_home_page_says_what_each_source_holds(ds, crawled_site, tmp_path):
    home = get(ds, "/")
    table = home.text[home.text.index("What archive holds"):]
    assert "Acme AI" in table and ">80<" in table and "never" not in table
    assert 'href="/-/dashboards/reliability"' in table
    from incident_archive.archive.store import open_archive
    from incident_archive.archive.web import datasette_instance

    open_archive(tmp_path / "empty.db").close()
    empty = get(datasette_instance(tmp_path / "empty.db"), "/")
    assert "This archive is empty" in empty.text and "make demo" in empty.text


def test_the_dashboard_gives_each_provider_one_colour_and_says_no_data(crawled_archive, tmp_path):
    from incident_archive.archive.store import open_archive
    from incident_archive.archive.web import datasette_instance, load_metadata

    charts = load_metadata(crawled_archive)["plugins"]["datasette-dashboards"]["reliability"]["charts"]
    drawn = [c["display"]["layer"][0] for c in charts.values() if c.get("library") == "vega-lite"]
    scales = [d["encoding"]["color"]["scale"] for d in drawn if d["encoding"].get("color", {}).get("field") == "source"]
    assert scales and all(scale == {"domain": ["acme"], "scheme": "tableau10"} for scale in scales)
    open_archive(tmp_path / "empty.db").close()
    sql = charts["mean-hours-to-resolve"]["query"].replace("[[", "/*").replace("]]", "*/")
    empty = get(datasette_instance(tmp_path / "empty.db"), "/empty.json?" + __import__("urllib.parse").parse.urlencode(
        {"sql": sql, "_shape": "array"})).json()
    assert empty == [{"hours": "no data"}]
