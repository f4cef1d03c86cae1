"""Links from news articles to the incidents they report, each with a score and a reason.

An article is linked to an incident of a provider it names (by name or alias) when it
was published near the incident's window; products it names that the incident affected
raise the score. When an article blames an upstream provider ("an upstream provider",
"a power event in a data center"), the incidents of the providers the named one depends
on (the sources file's ``depends_on``) that overlapped the linked incident are linked
too, with the overlap in the reason. An article with no matching incident keeps no link
and stays findable by search: that is news too.
"""

from __future__ import annotations

import json
from datetime import timedelta

import sqlite_utils

from incident_archive.core.times import ISO_FORMAT, parse_time, utc_now
from incident_archive.core.words import UPSTREAM_WORDS, mentioned

BEFORE = timedelta(hours=6)  # an article may report an incident before the page posts it
AFTER = timedelta(hours=48)  # or follow it by a day or two
OPEN_INCIDENT_SPAN = timedelta(days=3)
MIN_SCORE = 0.5


def _window(incident: dict) -> tuple:
    start = parse_time(incident["started_at"])
    end = parse_time(incident["resolved_at"]) if incident["resolved_at"] else start + OPEN_INCIDENT_SPAN
    return start, end


class ArticleLinker:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.sources = {r["id"]: r for r in db["sources"].rows_where("kind != 'news'")}
        self.names = {
            sid: [s["name"], *json.loads(s["aliases"] or "[]")] for sid, s in self.sources.items()
        }
        self.depends_on = {sid: json.loads(s["depends_on"] or "[]") for sid, s in self.sources.items()}

    def candidates(self, article: dict) -> dict[str, tuple[float, str]]:
        text = "\n".join(filter(None, (article["title"], article["summary"], article["body"])))
        when = parse_time(article["published_at"] or article["first_seen_at"])
        links: dict[str, tuple[float, str]] = {}
        for sid, names in self.names.items():
            named = mentioned(text, names)
            if not named:
                continue
            for incident in self.db.query(
                "SELECT id, title, started_at, resolved_at FROM incidents WHERE source = ? AND started_at <= ? "
                "AND coalesce(resolved_at, datetime(started_at, '+3 days')) >= ?",
                [sid, (when + BEFORE).strftime(ISO_FORMAT), (when - AFTER).strftime(ISO_FORMAT)],
            ):
                start, end = _window(incident)
                products = [
                    r["name"]
                    for r in self.db.query(
                        "SELECT c.name FROM incident_components ic JOIN components c ON c.id = ic.component_id "
                        "WHERE ic.incident_id = ?",
                        [incident["id"]],
                    )
                ]
                hit = mentioned(text, products)
                during = start - BEFORE <= when <= end
                score = 0.5 + 0.1 * min(3, len(hit)) + (0.2 if during else 0.1)
                timing = "during the incident" if during else "within two days of its end"
                reason = (
                    f"names {', '.join(dict.fromkeys(named + hit))}; published {when.strftime(ISO_FORMAT)}, "
                    f"{timing} ({incident['started_at']} to {incident['resolved_at'] or 'open'})"
                )
                links[incident["id"]] = (round(min(score, 1.0), 2), reason)
        blame = UPSTREAM_WORDS.search(text)
        if blame:
            for incident_id in list(links):
                links.update(self.upstream_links(incident_id, blame.group(0), text, links))
        return {k: v for k, v in links.items() if v[0] >= MIN_SCORE}

    def upstream_links(self, incident_id: str, phrase: str, text: str, links: dict) -> dict:
        incident = self.db["incidents"].get(incident_id)
        start, end = _window(incident)
        found = {}
        for upstream in self.depends_on.get(incident["source"], []):
            for other in self.db.query(
                "SELECT id, started_at, resolved_at FROM incidents WHERE source = ? AND started_at < ? "
                "AND coalesce(resolved_at, datetime(started_at, '+3 days')) > ?",
                [upstream, end.strftime(ISO_FORMAT), start.strftime(ISO_FORMAT)],
            ):
                if other["id"] in links:
                    continue
                other_start, other_end = _window(other)
                overlap = (min(end, other_end) - max(start, other_start)).total_seconds() // 60
                named = mentioned(text, self.names.get(upstream, []))
                score = 0.5 + (0.3 if named else 0.0) + (0.1 if overlap >= 60 else 0.0)
                source_name = self.sources[incident["source"]]["name"]
                found[other["id"]] = (
                    round(score, 2),
                    f"upstream of {source_name} (the article says '{phrase}'"
                    + (f" and names {', '.join(named)}" if named else "")
                    + f"); overlapped {incident_id} by {int(overlap)} min",
                )
        return found

    def link_all(self) -> int:
        """(Re)link every article; writes only links that are new or changed."""
        written = 0
        now = utc_now()
        articles = list(self.db.query("SELECT id, title, summary, body, published_at, first_seen_at FROM articles"))
        for article in articles:
            for incident_id, (score, reason) in self.candidates(article).items():
                existing = self.db.execute(
                    "SELECT score, reason FROM article_incidents WHERE article_id = ? AND incident_id = ?",
                    [article["id"], incident_id],
                ).fetchone()
                if existing == (score, reason):
                    continue
                with self.db.atomic():
                    self.db["article_incidents"].upsert(
                        {"article_id": article["id"], "incident_id": incident_id, "score": score,
                         "reason": reason, "linked_at": now},
                        pk=("article_id", "incident_id"),
                    )
                written += 1
        return written
