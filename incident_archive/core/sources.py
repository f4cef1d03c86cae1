"""The sources file: which status pages to crawl, one TOML table per source.

    [[sources]]
    id = "github"
    kind = "statuspage"
    name = "GitHub"
    url = "https://www.githubstatus.com"

Every mistake is reported with the file, the source and the field, because a user who
added a fifth source at midnight should not have to read a traceback.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

from incident_archive.core.kinds import KINDS, Kind

REQUIRED_FIELDS = ("id", "kind", "name", "url")
# Fields any source may set: the providers it runs on, the sources it is compared with,
# and the other names it goes by.
COMMON_OPTIONS = {"depends_on": list, "peers": list, "aliases": list, "migrated": dict, "every": str, "runs_in": dict}
SOURCE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class SourcesError(ValueError):
    """A sources file that cannot be used, with the place and the reason."""


@dataclass(frozen=True)
class Source:
    id: str
    kind: str
    name: str
    url: str
    options: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class NotifyTarget:
    """Where the watch service sends alerts (an Apprise URL: Slack, Discord, Teams, email,
    ntfy, JSON webhooks ...) and which incidents it wants."""

    url: str
    sources: tuple[str, ...] = ()
    min_impact: str | None = None
    components: tuple[str, ...] = ()
    upstream_of: str | None = None
    archive_url: str = "http://127.0.0.1:8001"


IMPACT_ORDER = ("none", "minor", "major", "critical")


def load_notify(path: str | Path | None = None, known: set[str] | None = None) -> list[NotifyTarget]:
    """The ``[[notify]]`` tables of a sources file, checked."""
    path = Path(path) if path else default_sources_path()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    targets = []
    for number, table in enumerate(data.get("notify") or [], start=1):
        label = f"{path}: notify #{number}"
        if not isinstance(table, dict) or not isinstance(table.get("url"), str) or "://" not in table["url"]:
            raise SourcesError(f"{label}: field 'url' should be an Apprise URL (json://host/path, slack://...)")
        unknown = set(table) - {"url", "sources", "min_impact", "components", "upstream_of", "archive_url"}
        if unknown:
            raise SourcesError(f"{label}: field '{sorted(unknown)[0]}' is not known")
        if table.get("min_impact") not in (None, *IMPACT_ORDER):
            raise SourcesError(f"{label}: field 'min_impact' should be one of {', '.join(IMPACT_ORDER)}")
        for name in ("sources", "components"):
            if not isinstance(table.get(name, []), list):
                raise SourcesError(f"{label}: field '{name}' should be a list")
        for source in [*table.get("sources", []), *([table["upstream_of"]] if table.get("upstream_of") else [])]:
            if known is not None and source not in known:
                raise SourcesError(f"{label}: unknown source {source!r}")
        targets.append(NotifyTarget(table["url"], tuple(table.get("sources", [])), table.get("min_impact"),
                                    tuple(table.get("components", [])), table.get("upstream_of"),
                                    table.get("archive_url", "http://127.0.0.1:8001").rstrip("/")))
    return targets


def default_sources_path() -> Path:
    """The sources file shipped with the project (OpenAI, its providers and peers)."""
    return Path(str(resources.files("incident_archive.core") / "sources.toml"))


def known_kinds() -> dict[str, Kind]:
    return KINDS


def load_sources(path: str | Path | None = None) -> list[Source]:
    """Read and validate a sources file (the shipped defaults when ``path`` is None)."""
    path = Path(path) if path else default_sources_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(f"{path}: no such sources file") from None
    except tomllib.TOMLDecodeError as error:
        raise SourcesError(f"{path}: not valid TOML: {error}") from None
    tables = data.get("sources")
    if not isinstance(tables, list) or not tables:
        raise SourcesError(f"{path}: no [[sources]] tables")
    kinds = known_kinds()
    sources, seen = [], set()
    for number, table in enumerate(tables, start=1):
        label = f"{path}: source #{number}" + (f" ({table['id']!r})" if isinstance(table.get("id"), str) else "")
        for name in REQUIRED_FIELDS:
            value = table.get(name)
            if not isinstance(value, str) or not value.strip():
                raise SourcesError(f"{label}: field '{name}' is missing or empty")
        source_id, kind, url = table["id"], table["kind"], table["url"].rstrip("/")
        if not SOURCE_ID_PATTERN.match(source_id):
            raise SourcesError(f"{label}: field 'id': {source_id!r} must be lower-case letters, digits, - or _")
        if source_id in seen:
            raise SourcesError(f"{label}: field 'id': {source_id!r} is used twice")
        seen.add(source_id)
        if kind not in kinds:
            raise SourcesError(f"{label}: field 'kind': unknown kind {kind!r} (known: {', '.join(sorted(kinds))})")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise SourcesError(f"{label}: field 'url': {url!r} is not an http(s) URL")
        options = {k: v for k, v in table.items() if k not in REQUIRED_FIELDS}
        allowed = COMMON_OPTIONS | kinds[kind].options
        for option, value in options.items():
            if option not in allowed:
                raise SourcesError(f"{label}: field '{option}' is not known for kind {kind!r}")
            if not isinstance(value, allowed[option]):
                raise SourcesError(f"{label}: field '{option}' should be {allowed[option].__name__}")
        if "migrated" in options:
            options["migrated"] = check_migration(options["migrated"], kinds, label)
        if "every" in options:
            try:
                options["every_s"] = duration_seconds(options["every"])
            except ValueError:
                raise SourcesError(f"{label}: field 'every': {options['every']!r} should be like 30s, 5m or 1h") from None
        sources.append(Source(id=source_id, kind=kind, name=table["name"], url=url, options=options))
    known = {s.id for s in sources}
    for source in sources:
        for field_name in ("depends_on", "peers"):
            for other in source.options.get(field_name, []):
                if other not in known:
                    raise SourcesError(f"{path}: source {source.id!r}: field '{field_name}': unknown source {other!r}")
                if other == source.id:
                    raise SourcesError(f"{path}: source {source.id!r}: field '{field_name}': names the source itself")
        for upstream, regions in source.options.get("runs_in", {}).items():
            if upstream not in source.options.get("depends_on", []):
                raise SourcesError(f"{path}: source {source.id!r}: field 'runs_in': {upstream!r} is not in depends_on")
            if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
                raise SourcesError(f"{path}: source {source.id!r}: field 'runs_in': {upstream!r} should be a list "
                                   "of region names")
    return sources


def duration_seconds(text: str) -> int:
    """``30s``, ``5m``, ``1h``, ``1d`` (or a number of seconds) as seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(text))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r}")
    return round(float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)])


def check_migration(migrated: dict, kinds: dict, label: str) -> dict:
    """``migrated = { from = "statuspage", on = 2025-06-01 }``: the platform the page moved
    from and the day it moved, the only grounds on which two ids become one incident."""
    moved_from, moved_on = migrated.get("from"), str(migrated.get("on") or "")
    if moved_from not in kinds or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", moved_on) or set(migrated) - {"from", "on"}:
        raise SourcesError(f"{label}: field 'migrated' should be {{ from = \"<kind>\", on = YYYY-MM-DD }}")
    return {"from": moved_from, "on": moved_on}


def toml_value(value) -> str:
    """A value as a sources file writes it (strings, booleans, numbers, lists, inline tables)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def select_sources(sources: list[Source], wanted: list[str]) -> list[Source]:
    """Only the sources named on the command line, in the file's order."""
    if not wanted:
        return sources
    known = {s.id for s in sources}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise SourcesError(f"unknown source(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return [s for s in sources if s.id in wanted]
