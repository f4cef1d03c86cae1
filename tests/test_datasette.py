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


def test_facets_read_the_kept_counts_unfiltered_and_count_rows_when_filtered(ds, crawled_archive):
    """The default facets of an unfiltered page come from the counts the archive keeps;
    once a value is picked, Datasette counts the rows shown. Both agree with the rows."""
    import sqlite_utils

    db = sqlite_utils.Database(crawled_archive)

    def counts(facet):
        return {r["value"]: r["count"] for r in facet["results"]}

    page = get(ds, "/archive/incidents.json?_size=0").json()["facet_results"]
    assert counts(page["impact"]) == dict(db.execute("select impact, count(*) from incidents group by impact").fetchall())
    assert page["impact"]["type"] == "counted"
    minor = get(ds, "/archive/incidents.json?_size=0&impact=minor").json()["facet_results"]
    assert counts(minor["status"]) == dict(db.execute(
        "select status, count(*) from incidents where impact = 'minor' group by status").fetchall())
    assert counts(minor["impact"]) == {"minor": db.execute("select count(*) from incidents where impact = 'minor'"
                                                          ).fetchone()[0]}
    overview = get(ds, "/archive/incident_overview.json?_size=0").json()["facet_results"]
    assert counts(overview["year"]) == dict(db.execute(
        "select substr(started_at, 1, 4), count(*) from incidents group by 1").fetchall())
    searched = get(ds, "/archive/incident_updates.json?_size=0&_search=monitoring").json()["facet_results"]
    assert counts(searched["status"]) == dict(db.execute(
        "select u.status, count(*) from incident_updates u join incident_updates_fts f on f.rowid = u.rowid "
        "where incident_updates_fts match 'monitoring' group by 1").fetchall())
