"""Shared test helpers: the real data folder, recorded sites on a local server, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from incident_archive.testing.replay import serving
from incident_archive.core.sources import toml_value
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage

PROJECT = Path(__file__).resolve().parents[1]
REALDATA = PROJECT.parent / "shared" / "realdata"

# OpenAI moved from Atlassian Statuspage to incident.io: declared, as the shipped sources file does.
OPENAI_MOVE = {"from": "statuspage", "on": "2025-06-01"}

# Crawl recorded sites at full speed: politeness delays only slow the tests down.
FAST = ["--setting", "AUTOTHROTTLE_ENABLED=False", "--setting", "PROGRESS_INTERVAL=0"]


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
