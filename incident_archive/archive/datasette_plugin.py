"""The archive's Datasette plugin: an incident's page shows what was down upstream at
the same time, the news about it, and the other ids it is known by; the whole archive
downloads as one consistent SQLite file; connections are bounded and can escape HTML."""

from __future__ import annotations

import asyncio
import hashlib
import html
import sqlite3
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import AsgiFileDownload, Response
from markupsafe import Markup

from incident_archive.archive.facets import CountedFacet
from incident_archive.archive.search import fts_terms, match_counts, search_redirect
from incident_archive.archive.prefixes import prefixes_as_ranges
from incident_archive.archive.uncounted import without_counts

# The longest text or blob any query may make or return: far above any article or review,
# far below what would take the server's memory (select zeroblob(300000000)).
MAX_VALUE_BYTES = 4 * 1024 * 1024


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: search_redirect(without_counts(prefixes_as_ranges(app), datasette), datasette)


@hookimpl
def register_facet_classes():
    return [CountedFacet]


@hookimpl
def prepare_connection(conn):
    """Every connection Datasette opens: values bounded in size, and ``html_escape()`` for
    SQL whose results a page inserts as HTML (the dashboard's tables)."""
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.create_function("html_escape", 1, lambda text: html.escape(text) if isinstance(text, str) else text,
                         deterministic=True)
    conn.create_function("fts_terms", 1, fts_terms, deterministic=True)


# Columns that hold an incident's or an article's id, wherever they appear (views,
# canned queries, the dashboard's queries): each is a link to its page.
LINKED_COLUMNS = {"incident_id": "incidents", "upstream_incident_id": "incidents", "article_id": "articles"}


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    target = LINKED_COLUMNS.get(column)
    if column == "id" and table == "incident_overview":
        target = "incidents"
    if column == "id" and table is None and "source" in row.keys() and str(value).startswith(f"{row['source']}:"):
        target = "incidents"  # a canned query's incident ids (what_was_down, ...)
    if column == "id" and table is None and "kind" in row.keys():  # the search query's hits
        target = "articles" if row["kind"] == "article" else "incidents"
    if not target or not isinstance(value, str) or table == target:
        return None
    href = datasette.urls.row(database, target, tilde_encode(value))
    return Markup(f'<a href="{html.escape(href)}">{html.escape(value)}</a>')



def duration_in_words(seconds) -> str | None:
    """``34680`` -> ``9 h 38 min``."""
    if seconds is None:
        return None
    minutes = int(seconds) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours or days else []
    return " ".join(parts + [f"{minutes} min"])


def paragraphs(text: str | None) -> list[str]:
    """An update's text as paragraphs (blank lines apart), each shown as escaped text."""
    return [part.strip() for part in (text or "").replace("\r\n", "\n").split("\n\n") if part.strip()]


async def incident_page(db, incident_id: str) -> dict:
    """Everything the incident page shows, read in a few queries."""
    async def rows(sql, params=()):
        return [dict(r) for r in (await db.execute(sql, list(params))).rows]

    found = await rows(
        "select i.*, s.name as source_name from incidents i join sources s on s.id = i.source where i.id = ?",
        [incident_id])
    if not found:
        return {}
    incident = found[0]
    incident["duration"] = duration_in_words(incident["duration_s"])
    updates = await rows("select status, body, posted_at from incident_updates where incident_id = ? "
                         "order by posted_at desc, rowid desc", [incident_id])
    for update in updates:
        update["paragraphs"] = paragraphs(update["body"])
    return {
        "incident": incident,
        "updates": updates,
        "components": await rows(
            "select c.name, c.group_name from incident_components ic join components c on c.id = ic.component_id "
            "where ic.incident_id = ? order by c.group_name, c.name", [incident_id]),
        "regions": await rows("select region, region_name from incident_regions where incident_id = ?", [incident_id]),
        "windows": await rows(
            "select c.name, ci.status, ci.start_at, ci.end_at, ci.duration_s from component_impacts ci "
            "join components c on c.id = ci.component_id where ci.incident_id = ? order by ci.start_at",
            [incident_id]),
        "upstream": await rows(
            "select upstream_incident_id, upstream_source, upstream_title, upstream_started_at, upstream_resolved_at, "
            "overlap_minutes from upstream_overlaps where incident_id = ? order by overlap_minutes desc",
            [incident_id]),
        "causes": [dict(row, evidence=(row["evidence"] or "").splitlines()) for row in await rows(
            "select candidate_id, candidate_source, candidate_title, score, verdict, evidence from attributions "
            "where incident_id = ? order by score desc", [incident_id])],
        "acknowledgement": next(iter(await rows(
            "select * from acknowledgement_lag where incident_id = ?", [incident_id])), None),
        "news": await rows(
            "select a.id, a.title, a.outlet, a.published_at, ai.score, ai.reason from article_incidents ai "
            "join articles a on a.id = ai.article_id where ai.incident_id = ? order by ai.score desc", [incident_id]),
        "aliases": await rows("select alias_id, reason from incident_aliases where incident_id = ?", [incident_id]),
        "dependents": [r["id"] for r in await rows("select id from sources where depends_on is not null")],
        "versions": await rows(
            "select version, observed_at, changed, title, impact, status, started_at, resolved_at, removed "
            "from incident_versions where incident_id = ? order by version", [incident_id]),
    }


async def archive_overview(datasette) -> list[dict]:
    """Each archive Datasette serves, with what it holds per source."""
    archives = []
    for name, db in datasette.databases.items():
        if name.startswith("_") or "source_overview" not in await db.view_names():
            continue
        rows = [dict(r) for r in (await db.execute("select * from source_overview order by source")).rows]
        archives.append({"name": name, "sources": rows, "download": f"/-/download/{name}.db"})
    return archives


@hookimpl
def extra_template_vars(template, database, table, view_name, request, datasette):
    if template == "index.html":
        async def archives():
            return await archive_overview(datasette)

        return {"archives": archives}
    if template.startswith("query") and request is not None and request.url_vars.get("table") == "search" \
            and "q" in request.args:  # the search canned query
        async def search_counts():
            return await match_counts(datasette.get_database(database), request.args.get("q", ""),
                                      request.args.get("kind", ""))

        return {"search_counts": search_counts}
    if view_name != "row" or table != "incidents" or request is None:
        return {}

    async def incident_context():
        incident_id = tilde_decode(request.url_vars.get("pks", ""))
        return await incident_page(datasette.get_database(database), incident_id)

    return {"incident_context": incident_context}


# A snapshot is made at most this often: a download is a copy of the archive as it was at
# most this long ago, and many downloads do not each copy the file.
SNAPSHOT_SECONDS = 300
SNAPSHOTS = Path(tempfile.gettempdir()) / "incident-archive-snapshots"


def snapshot(source: str, name: str) -> Path:
    """A consistent copy of the archive (``VACUUM INTO`` reads one transaction's view, so a
    crawl writing meanwhile neither blocks it nor shows through half done)."""
    SNAPSHOTS.mkdir(exist_ok=True)
    target = SNAPSHOTS / f"{name}-{hashlib.sha1(str(Path(source).resolve()).encode()).hexdigest()[:12]}.db"
    if target.exists() and time.time() - target.stat().st_mtime < SNAPSHOT_SECONDS:
        return target
    partial = target.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        conn.execute("VACUUM INTO ?", [str(partial)])
    finally:
        conn.close()
    partial.replace(target)
    return target


@hookimpl
def register_routes(datasette):
    async def download(request):
        name = request.url_vars["database"]
        try:
            db = datasette.get_database(name)
        except KeyError:
            return Response.text("no such database", status=404)
        if not db.path:
            return Response.text("this database has no file", status=404)
        path = await asyncio.get_running_loop().run_in_executor(None, snapshot, db.path, name)
        return AsgiFileDownload(path, filename=f"{name}.db", content_type="application/vnd.sqlite3")

    async def search(request):
        """The search box in every page's header: the first archive's search."""
        for name, db in datasette.databases.items():
            if not name.startswith("_") and "source_overview" in await db.view_names():
                query = urlencode({"q": request.args.get("q", "")})
                return Response.redirect(f"{datasette.urls.database(name)}/search?{query}")
        return Response.text("no archive served", status=404)

    return [(r"^/-/download/(?P<database>[^/]+)\.db$", download), (r"^/-/search$", search)]
