"""A Datasette facet that reads the counts the archive keeps, when the page is unfiltered.

Datasette counts a facet with a GROUP BY over every row the page could show: on a
million incidents, each default facet of the incidents page cost about a hundred
milliseconds. The archive keeps those counts (``facet_counts``, by triggers: see
``schema.COUNTED_FACETS``), so an unfiltered page reads a few rows instead. A filtered
page (a value picked, a search) is counted by Datasette's own SQL, as before.

In metadata.yaml a counted facet is written ``{counted: source}`` instead of ``source``.
"""

from __future__ import annotations

import re

from datasette.facets import ColumnFacet
from datasette.utils import path_with_added_args, path_with_removed_args

from incident_archive.archive.schema import COUNTED_FACETS

# The views whose rows are one table's rows, one each: their facets count the same values.
ROWS_OF = {"incident_overview": "incidents"}


class CountedFacet(ColumnFacet):
    type = "counted"

    def counted_table(self) -> str | None:
        """The table whose kept counts answer this page, or None when the page is filtered."""
        table = ROWS_OF.get(self.table, self.table)
        if table not in COUNTED_FACETS or self.params or re.search(r"\bwhere\b", self.sql, re.IGNORECASE):
            return None
        return table

    async def facet_results(self):
        table = self.counted_table()
        if table is None:
            return await super().facet_results()
        results, size = [], self.get_facet_size()
        for config in self.get_configs():
            column = config["config"].get("column") or config["config"]["simple"]
            if column not in COUNTED_FACETS[table]:
                return await super().facet_results()
            rows = await self.ds.execute(
                self.database,
                "select value, count from facet_counts where table_name = ? and column_name = ? and count > 0 "
                "order by count desc, value limit ?", [table, column, size + 1])
            results.append({
                "name": column,
                "type": self.type,
                "hideable": config["source"] != "metadata",
                "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet": column})),
                "results": [self.value(column, row["value"], row["count"]) for row in rows.rows[:size]],
                "truncated": len(rows.rows) > size,
            })
        return results, []

    def value(self, column: str, value, count: int) -> dict:
        """One value of a facet, with the link that picks it (none is picked yet: the page
        is unfiltered)."""
        toggle = path_with_added_args(self.request, {column: value})
        return {"value": value, "label": value, "count": count, "selected": False,
                "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(toggle))}
