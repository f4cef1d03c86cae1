"""Views that are slow to run whole are served without a total row count.

Datasette counts a view's rows by running the view whole: at a million incidents,
incident_stages took 6 s to count and acknowledgement_lag and upstream_overlaps timed
out, while their first page of rows takes milliseconds; the all-time time_to_resolve ran
twice, for the rows and again for the count. Their pages are served as with
``?_nocount=1`` (the rows, and a link to the next page); ``?_nocount=`` (empty) asks for
the count.
"""

from __future__ import annotations

UNCOUNTED_VIEWS = {"incident_stages", "incident_services", "acknowledgement_lag", "time_to_resolve",
                   "upstream_overlaps"}


def without_counts(app, datasette):
    """An ASGI wrapper adding ``_nocount=1`` to the pages of ``UNCOUNTED_VIEWS``."""
    async def wrapped(scope, receive, send):
        if scope["type"] == "http":
            parts = scope["path"].strip("/").split("/")
            query = scope.get("query_string", b"")
            if len(parts) == 2 and parts[1].split(".")[0] in UNCOUNTED_VIEWS and parts[0] in datasette.databases \
                    and b"_nocount=" not in query:
                scope = dict(scope, query_string=query + (b"&" if query else b"") + b"_nocount=1")
        await app(scope, receive, send)

    return wrapped
