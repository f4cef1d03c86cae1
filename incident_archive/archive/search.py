"""Full-text search at any size: matches counted through the index, never row by row.

Datasette's table search counts, facets and pages its matches through ``rowid in (select
rowid from <table>_fts where ... match ...)``, which looks every match up in the table:
on a million matching updates, 1.4 s for the count alone. Counting in the full-text
index takes a millisecond per 10,000 matches, so the archive's search page (the
``search`` canned query) counts there, up to a bound, and a table page searched with
nothing else (the search box on incidents, incident_updates or articles) goes to it.
A table searched together with a filter or facet is still Datasette's own page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

# What the search page finds, as (kind, table, full-text index).
SEARCHED = [("incident", "incidents", "incidents_fts"), ("update", "incident_updates", "incident_updates_fts"),
            ("article", "articles", "articles_fts")]

# Matches are counted up to this many; past it the page says "more than", and the
# search no longer ranks them (bm25() scores a match against every document holding the
# words: on a million matches it took 2 s, the newest 200 take 1 ms).
COUNT_BOUND = 10_000
# Each kind's candidates: its most recently archived matches, read from the end of the index.
CANDIDATES = 200


def hits(kind: str, index: str) -> str:
    """A CTE of a kind's candidates, ranked only when the kind has at most COUNT_BOUND matches."""
    return f"""
          {kind}_hits as (
            select rowid, case when (select count(*) from (select 1 from {index}
                                     where {index} match fts_terms(:q) limit {COUNT_BOUND + 1})) <= {COUNT_BOUND}
                               then bm25({index}) end as rank
            from {index}
            where {index} match fts_terms(:q) and :kind in ('', '{kind}')
            order by rowid desc limit {CANDIDATES}
          )"""


# The search canned query: the best 100 of every kind's candidates.
SEARCH_SQL = f"""
          with {", ".join(hits(kind, index).strip() for kind, _, index in SEARCHED)}
          select kind, id, title, snippet, published from (
            select 'incident' as kind, i.id as id, i.title as title, i.title as snippet, i.started_at as published,
                   h.rank as rank, h.rowid as archived
            from (select * from incident_hits order by rank is null, rank, rowid desc limit 100) h
            join incidents i on i.rowid = h.rowid
            union all
            select 'update', u.incident_id, i.title, snippet(incident_updates_fts, 0, '«', '»', '…', 16), u.posted_at,
                   h.rank, h.rowid
            from (select * from update_hits order by rank is null, rank, rowid desc limit 100) h
            join incident_updates_fts on incident_updates_fts.rowid = h.rowid
            join incident_updates u on u.rowid = h.rowid
            join incidents i on i.id = u.incident_id
            where incident_updates_fts match fts_terms(:q)
            union all
            select 'article', a.id, a.title, snippet(articles_fts, -1, '«', '»', '…', 16), a.published_at,
                   h.rank, h.rowid
            from (select * from article_hits order by rank is null, rank, rowid desc limit 100) h
            join articles_fts on articles_fts.rowid = h.rowid
            join articles a on a.rowid = h.rowid
            where articles_fts match fts_terms(:q)
          ) order by rank is null, rank, published desc, archived desc limit 100
"""


def fts_terms(text):
    """What a person typed, as an FTS5 query of quoted words (all must match): no query
    syntax to get wrong, nothing a search box could break."""
    words = [word.replace('"', "") for word in str(text or "").split()]
    return " ".join(f'"{word}"' for word in words if word) or '""'


async def match_counts(db, text: str, kind: str = "") -> list[dict]:
    """How many of each kind hold all the words, counted in the full-text index (at most
    ``COUNT_BOUND`` + 1, so a word in every update costs as little as a rare one)."""
    counts = []
    for name, table, index in SEARCHED:
        if kind not in ("", name) or not await db.table_exists(index):
            continue
        found = (await db.execute(
            f"select count(*) from (select 1 from [{index}] where [{index}] match ? limit {COUNT_BOUND + 1})",
            [fts_terms(text)])).rows[0][0]
        counts.append({"kind": name, "table": table, "count": min(found, COUNT_BOUND),
                       "more": found > COUNT_BOUND})
    return counts


def search_redirect(app, datasette):
    """An ASGI wrapper: a table page searched with nothing else (``/archive/incidents?_search=``)
    answers with the archive's search page for that kind."""
    kinds = {table: kind for kind, table, _ in SEARCHED}

    async def wrapped(scope, receive, send):
        if scope["type"] == "http" and scope.get("method") == "GET":
            parts = scope["path"].strip("/").split("/")
            args = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            if len(parts) == 2 and parts[1] in kinds and [key for key, _ in args] == ["_search"] \
                    and parts[0] in datasette.databases:
                query = urlencode({"q": args[0][1], "kind": kinds[parts[1]]})
                location = f"{datasette.urls.database(parts[0])}/search?{query}"
                await send({"type": "http.response.start", "status": 302,
                            "headers": [(b"location", location.encode("latin-1")),
                                        (b"content-type", b"text/plain; charset=utf-8")]})
                await send({"type": "http.response.body", "body": b""})
                return
        await app(scope, receive, send)

    return wrapped
