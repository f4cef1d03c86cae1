"""Shared test helpers: the real data folder, recorded sites on a local server, the CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from incident_archive.testing.replay import serving
from incident_archive.core.sources import toml_value
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage

PROJECT = Path(__file__).resolve().parents[1]
REALDATA = PROJECT.parent / "shared" / "realdata"

# OpenAI moved from Atlassian Statuspage to incident.io: declared, as the shipped sources file does.
OPENAI_MOVE = {"from": "statuspage", "on": "2025-06-01"}

# Crawl recorded sites at full speed: politeness delays only slow the tests down.
FAST = ["--setting", "AUTOTHROTTLE_ENABLED=False", "--setting", "ARCHIVE_PROGRESS_INTERVAL=0"]


@pytest.fixture
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real recorded data not found at {REALDATA} (it lives in ../shared/realdata beside the project)")
    return REALDATA


def run_cli(*args: str, check_exit: int | None = None) -> subprocess.CompletedProcess:
    """Run ``incident-archive`` in a subprocess, as a user would."""
    result = subprocess.run(
        [sys.executable, "-m", "incident_archive.cli", *args], capture_output=True, text=True, timeout=240
    )
    if check_exit is not None:
        assert result.returncode == check_exit, result.stdout + result.stderr
    return result


def write_sources(path: Path, sources: list[dict]) -> Path:
    lines = []
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in source.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def statuspage_site(tmp_path):
    """A recorded Statuspage site of 80 incidents (9 history pages), served on 127.0.0.1."""
    site = SyntheticStatuspage(SiteSpec("Acme AI", incidents=80, seed=3)).site()
    root = site.write(tmp_path / "site")
    with serving(root) as server:
        server.site = site
        server.root_dir = root
        yield server


# Columns that say when, or in which run, the archive saw something: they differ between
# two crawls of the same pages, so comparisons leave them out.
WHEN = {"first_seen_at", "last_seen_at", "backfilled_at", "linked_at", "observed_at", "run_id", "pages"}
CONTENT_TABLES = ["sources", "components", "incidents", "incident_updates", "incident_components"]


def dump(db_path, tables=CONTENT_TABLES) -> dict[str, list]:
    """Every row of these tables, whole, to compare two states of one archive."""
    db = sqlite_utils.Database(db_path)
    state = {t: sorted(map(json.dumps, db[t].rows)) for t in tables}
    db.close()
    return state


def content(db_path, tables=CONTENT_TABLES) -> dict[str, list]:
    """What the archive holds, without when it saw it: equal for two archives of the same
    pages however each crawl went. Row numbers of version tables differ too."""
    db = sqlite_utils.Database(db_path)
    state = {}
    for table in tables:
        keep = [c for c in db[table].columns_dict if c not in WHEN and not (c == "id" and table.endswith("versions"))
                and not (c == "updated_at" and table == "source_walks")]
        state[table] = sorted(json.dumps([row[c] for c in keep]) for row in db[table].rows)
    db.close()
    return state


def copy_archive(source: Path, target: Path) -> Path:
    """An archive file with its WAL and its HTTP cache, copied."""
    for suffix in ("", "-wal", "-shm"):
        if (path := source.with_name(source.name + suffix)).exists():
            shutil.copy(path, target.with_name(target.name + suffix))
    cache = source.with_name(source.name + ".httpcache")
    if cache.exists():
        shutil.copytree(cache, target.with_name(target.name + ".httpcache"), dirs_exist_ok=True)
    return target


@pytest.fixture(scope="session")
def crawled_site(tmp_path_factory):
    """One 80-incident Statuspage site, crawled once for the session's read-only checks
    (datasette's own ``ds_client`` pattern): ``(site, archive path)``."""
    root = tmp_path_factory.mktemp("crawled")
    site = SyntheticStatuspage(SiteSpec("Acme AI", incidents=80, seed=3)).site()
    with serving(site.write(root / "site")) as server:
        sources = write_sources(root / "sources.toml", [{"id": "acme", "kind": "statuspage", "name": "Acme AI",
                                                         "url": server.base_url}])
        run_cli("crawl", "--db", str(root / "archive.db"), "--sources", str(sources), *FAST, check_exit=0)
    return site, root / "archive.db"


@pytest.fixture(scope="session")
def ds(crawled_site):
    """One Datasette over the session's crawled archive, as ``serve`` configures it."""
    from incident_archive.archive.web import datasette_instance

    return datasette_instance(crawled_site[1])
