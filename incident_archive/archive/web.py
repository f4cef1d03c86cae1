"""Datasette for the archive: the metadata file and the arguments it is served with."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

import yaml

from incident_archive.archive.search import SEARCH_SQL
from incident_archive.archive.views import QUERIES

# Long SQL must not tie up a public server; the archive is read-only on the web.
DATASETTE_SETTINGS = {
    "sql_time_limit_ms": 3000,
    "max_returned_rows": 1000,
    "facet_time_limit_ms": 500,
    # Suggesting facets runs a GROUP BY per column on every table page, most of a large
    # page's time. The useful facets are configured per table.
    "suggest_facets": False,
}


# Every chart says so where a selection has no rows, instead of drawing a blank chart: its
# query gains one row of nulls with a no_data text then, which a text layer shows.
NO_DATA_LAYER = {
    "transform": [{"filter": "datum.no_data"}],
    "mark": {"type": "text", "fontSize": 14, "color": "#666"},
    "encoding": {"text": {"field": "no_data", "type": "nominal"}},
}


def with_no_data_row(query: str) -> str:
    """``query``, plus a row of nulls saying 'No data for this selection' when it has none
    (a left join on nothing gives one row of the query's columns, all null)."""
    return (f"with t as (\n{query}\n)\nselect t.*, null as no_data from t\n"
            "union all select t.*, 'No data for this selection' from (select 1) left join t on 0\n"
            "where not exists (select 1 from t)")


def templates_path() -> Path:
    """Template overrides: an incident's page shows its upstream, news and aliases."""
    return Path(str(resources.files("incident_archive.archive") / "templates"))


def metadata_path() -> Path:
    return Path(str(resources.files("incident_archive.archive") / "metadata.yaml"))


def load_metadata(db_path: str | Path, public: bool = False) -> dict:
    """The metadata, with its database section named after the archive file. ``public``:
    no arbitrary SQL, since one query can make an answer of gigabytes; the canned queries,
    the tables, views, facets and exports stay."""
    metadata = yaml.safe_load(metadata_path().read_text(encoding="utf-8"))
    if public:
        metadata["allow_sql"] = False
    queries = metadata["databases"]["archive"]["queries"]
    for query, sql in {**QUERIES, "search": SEARCH_SQL}.items():
        queries[query]["sql"] = sql.strip()
    name = Path(db_path).stem
    metadata["databases"][name] = metadata["databases"].pop("archive")
    feed = metadata["databases"][name]["queries"]["incident_feed"]
    feed["sql"] = feed["sql"].replace("{database}", name)
    metadata["description_html"] += (
        f'\n<form action="/{name}/search" method="get"><label>Search incidents, updates and news '
        '<input type="search" name="q"></label> <input type="submit" value="Search"></form>')
    metadata["description_html"] += (
        f'\n<p><a href="/-/download/{name}.db">Download the whole archive</a>: one SQLite file, a consistent '
        "copy at most five minutes old (open it with sqlite3, Datasette or any SQLite tool).</p>")
    providers = source_ids(db_path)
    for dashboard in metadata.get("plugins", {}).get("datasette-dashboards", {}).values():
        for part in [*dashboard.get("charts", {}).values(), *dashboard.get("filters", {}).values()]:
            if part.get("db") == "archive":
                part["db"] = name
            if "query" in part:
                part["query"] = part["query"].replace("{database}", name)
                for query, sql in QUERIES.items():  # the dated queries, bounded by the dashboard's dates
                    part["query"] = part["query"].replace(
                        "{" + query + "}", sql.replace(":since", ":date_start").replace(":until", ":date_end"))
            color = part.get("display", {}).get("encoding", {}).get("color", {})
            if color.get("field") == "source" and providers:
                # Every chart maps the same provider to the same colour.
                color["scale"] = {"domain": providers, "scheme": "tableau10"}
            if part.get("library") == "vega-lite":
                part["query"] = with_no_data_row(part["query"])
                part["display"] = {"layer": [part["display"], NO_DATA_LAYER]}
    return metadata


def source_ids(db_path: str | Path) -> list[str]:
    """The archive's sources, in order (none when the file is not there yet)."""
    if not Path(db_path).exists():
        return []
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        return [row[0] for row in conn.execute("select id from sources order by id")]
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def serve_arguments(db_path: str | Path, metadata_file: str | Path, host: str, port: int) -> list[str]:
    """Command-line arguments for ``datasette serve``."""
    args = ["serve", str(db_path), "--metadata", str(metadata_file), "--host", host, "--port", str(port),
            "--template-dir", str(templates_path())]
    for name, value in DATASETTE_SETTINGS.items():
        args += ["--setting", name, str(value).lower() if isinstance(value, bool) else str(value)]
    return args


def datasette_instance(db_path: str | Path, public: bool = False):
    """A Datasette object for the archive, as ``serve`` configures it (for tests and scripts)."""
    from datasette.app import Datasette

    return Datasette([str(db_path)], metadata=load_metadata(db_path, public), settings=DATASETTE_SETTINGS,
                     template_dir=str(templates_path()))
