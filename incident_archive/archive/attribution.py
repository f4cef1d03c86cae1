"""Which upstream incident was behind a provider's outage: candidates ranked with evidence.

For an incident of a source that depends on others (the sources file's ``depends_on``),
every incident of those providers that overlapped it is a candidate. Its score adds
small, named pieces of evidence, each kept as a sentence the reader can check:

- time: the upstream began before (or within minutes of) the dependent and covered it;
  worth less the busier that provider is (the chance that any interval of the
  dependent's length overlaps one of its incidents by coincidence);
- the dependent's own words: blaming an upstream ("upstream provider", "power failure",
  the provider's name) for, a cause of its own ("a new telemetry service") against;
- shared words: what the two texts have in common beyond words either page uses often;
- place: the upstream incident names a region the dependent runs in (``runs_in``);
- the news: an article linked to both.

Time alone never makes a candidate ``likely``: a busy cloud has an incident open
somewhere most days, so an overlap needs a second, independent piece of evidence.

Also here: the start as later stated (a window or a start in an update's prose, a
postmortem's "Starting at 10:40am"), which the ``acknowledgement_lag`` view compares
with the first post of the provider, of the attributed upstream and of the news.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlite_utils

from incident_archive.core.times import ISO_FORMAT, parse_time, utc_now
from incident_archive.core.windows import find_start, find_window
from incident_archive.core.words import INTERNAL_WORDS, UPSTREAM_WORDS, mentioned

# The weights of each piece of evidence; a score is their sum, kept between 0 and 1.
TIME_WEIGHT = 0.35
BLAME_UPSTREAM = 0.20
NAMES_PROVIDER = 0.15
OWN_CAUSE = -0.30
SHARED_WORD = 0.05
SHARED_MAX = 0.20
PLACE_MATCH = 0.15
PLACE_ELSEWHERE = -0.10
NEWS_BOTH = 0.15
NEWS_NAMES = 0.10
LIKELY, POSSIBLE = 0.6, 0.3

EARLY = timedelta(minutes=15)  # an upstream may be posted as starting a little after the dependent
LATE = timedelta(hours=2)  # beyond this after the dependent's start, it cannot be the cause
CHANCE_WINDOW = timedelta(days=365)
OPEN_SPAN = timedelta(days=3)  # an incident never resolved counts as open this long
COMMON_SHARE = 0.10  # a word in more than this share of a source's incidents is common for it
COMMON_MIN_INCIDENTS = 30

WORD = re.compile(r"[a-z][a-z0-9]{3,}")
DATACENTER = re.compile(r"\bdata ?cent(?:er|re)s?\b", re.IGNORECASE)
# Words of any status update: they say nothing about a cause.
STOPWORDS = frozenset("""
    about above after again against also among approximately around available back been before began being
    below between both cause caused causing could currently customers degraded degradation during each
    elevated error errors experience experienced experiencing fail failed failing fully further have having
    here identified impact impacted impacting incident incidents investigating investigation issue issues
    just latency minutes mitigate mitigated mitigation monitor monitoring more most next other ours over
    performance please post posted provide rates recover recovered recovery resolve resolved resolution
    restore restored service services should since some still subset such than that their them then there
    these they this those through time times today under until update updates users using were what when
    where which while will with within working would your team teams started starting some affected
    affecting continue continuing additional following further apologize inconvenience root increased
    high higher intermittent report reports reported details information status page confirm confirmed
    only multiple several many applications application availability available product products approximately
    january february march april june july august september october november december monday tuesday wednesday
    thursday friday saturday sunday morning evening hours hour days week
    """.split())


@dataclass
class Incident:
    id: str
    source: str
    started_at: datetime
    resolved_at: datetime | None
    text: str = ""
    regions: list[str] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)

    @property
    def end(self) -> datetime:
        return self.resolved_at or self.started_at + OPEN_SPAN


def words_of(text: str) -> set[str]:
    """The distinctive words of a text: lower case, four letters or more, no status boilerplate."""
    text = DATACENTER.sub(" datacenter ", text.lower())
    return {w for w in WORD.findall(text) if w not in STOPWORDS}


def normalized(region: str) -> str:
    return re.sub(r"[^a-z0-9]", "", region.lower())


def region_pattern(region: str) -> re.Pattern:
    """A region's name in prose: "South Central US", "south-central us"."""
    parts = [re.escape(p) for p in re.split(r"[\s_-]+", region.strip()) if p]
    return re.compile(r"(?<!\w)" + r"[\s_-]*".join(parts) + r"(?!\w)", re.IGNORECASE)


def minutes(delta: timedelta) -> str:
    total = abs(int(delta.total_seconds() // 60))
    return f"{total // 60} h {total % 60} min" if total >= 60 else f"{total} min"


class Attributor:
    """Scores the candidate upstream incidents of every dependent incident in scope and
    writes ``attribution_scores``; records stated starts in ``stated_starts``."""

    def __init__(self, db: sqlite_utils.Database):
        self.db = db
        self.sources = {r["id"]: r for r in db.query("select * from sources where kind != 'news'")}
        self.names = {sid: [s["name"], *json.loads(s["aliases"] or "[]")] for sid, s in self.sources.items()}
        self._busy: dict[str, tuple[list[datetime], list[datetime]]] = {}
        self._common: dict[str, set[str]] = {}

    # -- reading ---------------------------------------------------------------------
    def incident(self, row: dict) -> Incident:
        updates = list(self.db.query(
            "select body, posted_at from incident_updates where incident_id = ? order by posted_at", [row["id"]]))
        regions = [r["region_name"] or r["region"] for r in self.db.query(
            "select region, region_name from incident_regions where incident_id = ?", [row["id"]])]
        text = "\n".join([row["title"] or "", *(u["body"] or "" for u in updates)])
        return Incident(row["id"], row["source"], parse_time(row["started_at"]),
                        parse_time(row["resolved_at"]) if row["resolved_at"] else None, text, regions, updates)

    @staticmethod
    def stated_start(updates: list[dict], started_at: str) -> tuple[str, str | None] | None:
        """The earliest start an update states in prose, when earlier than the archived start."""
        earliest = None
        for update in updates:
            for found in (find_window(update["body"], update["posted_at"]), find_start(update["body"], update["posted_at"])):
                if found and found.start < started_at and (earliest is None or found.start < earliest[0]):
                    earliest = (found.start, found.text)
        return earliest

    def busy_share(self, source: str, before: datetime) -> float:
        """The share of the year before ``before`` during which ``source`` had an incident open."""
        if source not in self._busy:
            spans = sorted((parse_time(r["started_at"]), parse_time(r["resolved_at"]) if r["resolved_at"] else None)
                           for r in self.db.query("select started_at, resolved_at from incidents where source = ? "
                                                  "and started_at is not null and removed_at is null", [source]))
            merged: list[list[datetime]] = []
            for start, end in spans:
                end = end if end and end >= start else start + OPEN_SPAN
                if merged and start <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], end)
                else:
                    merged.append([start, end])
            self._busy[source] = ([m[0] for m in merged], [m[1] for m in merged])
        starts, ends = self._busy[source]
        window_start = before - CHANCE_WINDOW
        covered = 0.0
        first = bisect.bisect_right(ends, window_start)
        last = bisect.bisect_left(starts, before)
        for k in range(first, last):
            covered += (min(ends[k], before) - max(starts[k], window_start)).total_seconds()
        return max(0.0, min(1.0, covered / CHANCE_WINDOW.total_seconds()))

    def common_words(self, source: str) -> set[str]:
        """Words in more than a tenth of a source's incidents: common on that page, not evidence."""
        if source not in self._common:
            counts, n = Counter(), 0
            for row in self.db.query("select title, (select group_concat(body, ' ') from incident_updates u "
                                     "where u.incident_id = i.id) as body from incidents i where source = ?", [source]):
                counts.update(words_of(f"{row['title'] or ''} {row['body'] or ''}"))
                n += 1
            self._common[source] = ({w for w, c in counts.items() if c > COMMON_SHARE * n}
                                    if n >= COMMON_MIN_INCIDENTS else set())
        return self._common[source]

    # -- the evidence ----------------------------------------------------------------
    def score(self, dependent: Incident, candidate: Incident) -> dict:
        provider = self.sources[candidate.source]["name"]
        own_name = self.sources[dependent.source]["name"]
        pieces: dict[str, float] = {}
        evidence: list[str] = []

        lead = dependent.started_at - candidate.started_at
        span = max((dependent.end - dependent.started_at).total_seconds(), 60.0)
        overlap = (min(dependent.end, candidate.end) - max(dependent.started_at, candidate.started_at)).total_seconds()
        coverage = max(0.0, min(1.0, overlap / span))
        if lead >= -EARLY:
            timing, began = 1.0, (f"began {minutes(lead)} before it" if lead > timedelta(0)
                                  else f"began {minutes(lead)} after it (within {minutes(EARLY)})" if lead < timedelta(0)
                                  else "began at the same minute")
        else:
            timing = max(0.0, 1 - (-lead - EARLY) / (LATE - EARLY))
            began = f"began {minutes(lead)} after it"
        chance = self.busy_share(candidate.source, dependent.started_at)
        pieces["time"] = TIME_WEIGHT * coverage * timing * (1 - chance)
        evidence.append(f"time: {began}, covering {coverage:.0%} of it ({pieces['time']:+.2f})")
        evidence.append(f"chance: {provider} had an incident open {chance:.0%} of the year before, "
                        f"so an overlap alone is coincidence that often (time counted ×{1 - chance:.2f})")

        blame = list(dict.fromkeys(m.group(0).lower() for m in UPSTREAM_WORDS.finditer(dependent.text)))
        own = list(dict.fromkeys(m.group(0).lower() for m in INTERNAL_WORDS.finditer(dependent.text)))
        named = mentioned(dependent.text, self.names.get(candidate.source, []))
        words = 0.0
        if blame:
            words += BLAME_UPSTREAM
            evidence.append(f"words: {own_name} blames an upstream: {', '.join(map(repr, blame[:4]))} ({BLAME_UPSTREAM:+.2f})")
        if named:
            words += NAMES_PROVIDER
            evidence.append(f"words: {own_name} names {', '.join(named)} ({NAMES_PROVIDER:+.2f})")
        if own:
            words += OWN_CAUSE
            evidence.append(f"words: {own_name} names a cause of its own: {', '.join(map(repr, own[:4]))} ({OWN_CAUSE:+.2f})")
        pieces["words"] = words

        common = self.common_words(dependent.source) | self.common_words(candidate.source)
        shared = sorted((words_of(dependent.text) & words_of(candidate.text)) - common
                        - {normalized(n) for n in self.names.get(candidate.source, []) + self.names.get(dependent.source, [])})
        pieces["shared"] = min(SHARED_MAX, SHARED_WORD * len(shared))
        if shared:
            evidence.append(f"shared words: {', '.join(shared[:8])} ({pieces['shared']:+.2f})")

        runs_in = json.loads(self.sources[dependent.source].get("runs_in") or "{}").get(candidate.source, [])
        pieces["place"] = 0.0
        if runs_in:
            wanted = {normalized(r): r for r in runs_in}
            hits = [wanted[normalized(r)] for r in candidate.regions if normalized(r) in wanted]
            hits += [r for r in runs_in if r not in hits and region_pattern(r).search(candidate.text)]
            if hits:
                pieces["place"] = PLACE_MATCH
                evidence.append(f"place: {provider}'s incident names {', '.join(hits)}, where {own_name} runs "
                                f"({PLACE_MATCH:+.2f})")
            elif candidate.regions:
                pieces["place"] = PLACE_ELSEWHERE
                evidence.append(f"place: {provider}'s incident was in {', '.join(candidate.regions[:5])}, not where "
                                f"{own_name} runs ({', '.join(runs_in)}) ({PLACE_ELSEWHERE:+.2f})")

        both = self.db.execute(
            "select count(*) from article_incidents a join article_incidents b on a.article_id = b.article_id "
            "where a.incident_id = ? and b.incident_id = ?", [dependent.id, candidate.id]).fetchone()[0]
        pieces["news"] = 0.0
        if both:
            pieces["news"] = NEWS_BOTH
            evidence.append(f"news: {both} article(s) linked to both ({NEWS_BOTH:+.2f})")
        else:
            naming = [r["title"] for r in self.db.query(
                "select a.title, a.summary, a.body from article_incidents ai join articles a on a.id = ai.article_id "
                "where ai.incident_id = ?", [dependent.id])
                if mentioned(" ".join(filter(None, (r["title"], r["summary"], r["body"]))),
                             self.names.get(candidate.source, []))]
            if naming:
                pieces["news"] = NEWS_NAMES
                evidence.append(f"news: an article about it names {provider}: {naming[0]!r} ({NEWS_NAMES:+.2f})")

        score = round(max(0.0, min(1.0, sum(pieces.values()))), 2)
        verdict = "likely" if score >= LIKELY else "possible" if score >= POSSIBLE else "unlikely"
        return {"incident_id": dependent.id, "candidate_id": candidate.id, "score": score, "verdict": verdict,
                **{f"{name}_score": round(value, 3) for name, value in pieces.items()}, "chance": round(chance, 3),
                "evidence": "\n".join(evidence)}

    # -- writing ---------------------------------------------------------------------
    def attribute(self, since: str | None = None) -> int:
        """Score the candidates of every dependent incident started on or after ``since``
        (all when None); returns the number of rows written or changed."""
        written = 0
        now = utc_now()
        dependents = {sid: json.loads(s["depends_on"]) for sid, s in self.sources.items() if s["depends_on"]}
        for source, upstreams in dependents.items():
            upstreams = [u for u in upstreams if u in self.sources]
            rows = self.db.query(
                "select * from incidents where source = ? and started_at is not null and removed_at is null"
                + (" and coalesce(resolved_at, started_at) >= ?" if since else ""), [source] + ([since] if since else []))
            for row in list(rows):
                written += self.attribute_one(row, upstreams, now)
        return written

    def attribute_one(self, row: dict, upstreams: list[str], now: str) -> int:
        dependent = self.incident(row)
        stated = self.stated_start(dependent.updates, row["started_at"])
        if stated:
            dependent.started_at = parse_time(stated[0])
        # Candidates began at most LATE after it (and before it ended), at most a year before
        # it (the bound the index reads from), and were still open when it began.
        latest = min(dependent.end, dependent.started_at + LATE + timedelta(seconds=1))
        results = []
        for upstream in upstreams:
            for candidate in self.db.query(
                "select * from incidents where source = ? and removed_at is null and started_at >= ? "
                "and started_at < ? and coalesce(resolved_at, datetime(started_at, '+3 days')) > ?",
                [upstream, (dependent.started_at - CHANCE_WINDOW).strftime(ISO_FORMAT), latest.strftime(ISO_FORMAT),
                 dependent.started_at.strftime(ISO_FORMAT)]):
                results.append(self.score(dependent, self.incident(candidate)))
        with self.db.atomic():
            changed = self.write_stated_start(row["id"], stated, now)
            existing = {r["candidate_id"]: r for r in self.db.query(
                "select * from attribution_scores where incident_id = ?", [row["id"]])}
            for result in results:
                old = existing.pop(result["candidate_id"], None)
                if old and all(old[k] == v for k, v in result.items()):
                    continue
                self.db["attribution_scores"].upsert({**result, "scored_at": now}, pk=("incident_id", "candidate_id"))
                changed += 1
            for gone in existing:  # the candidate no longer overlaps (its times were corrected)
                self.db["attribution_scores"].delete((row["id"], gone))
                changed += 1
        return changed

    def write_stated_start(self, incident_id: str, stated: tuple[str, str | None] | None, now: str) -> int:
        table = self.db["stated_starts"]
        old = next(table.rows_where("incident_id = ?", [incident_id]), None)
        if stated is None:
            if old:
                table.delete(incident_id)
                return 1
            return 0
        record = {"incident_id": incident_id, "stated_start": stated[0], "quote": stated[1]}
        if old and old["stated_start"] == stated[0] and old["quote"] == stated[1]:
            return 0
        table.upsert({**record, "found_at": now}, pk="incident_id")
        return 1


NOTHING_CHANGED = "9999"  # a ``since`` after every incident: nothing to score again


def changed_since(db: sqlite_utils.Database, crawl_id: str) -> str:
    """The earliest start among the incidents a crawl wrote (a new version, a new update)
    or linked news to: every dependent incident that could overlap them ended after it."""
    began = db.execute("select min(started_at) from crawl_runs where crawl_id = ?", [crawl_id]).fetchone()[0]
    if began is None:
        return NOTHING_CHANGED
    earliest = db.execute(
        """select min(i.started_at) from incidents i where i.id in (
               select incident_id from incident_versions where observed_at >= :began
               union select incident_id from update_versions where observed_at >= :began
               union select incident_id from article_incidents where linked_at >= :began)""",
        {"began": began}).fetchone()[0]
    return earliest or NOTHING_CHANGED
