"""The package works installed from its wheel, outside the checkout: the demo crawls its
recorded sites (shipped as package data) into an archive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path

import sqlite_utils

from tests.conftest import dump

PROJECT = Path(__file__).resolve().parents[1]


def test_demo_runs_from_a_wheel_installed_outside_the_checkout(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(PROJECT),
                    "-w", str(tmp_path / "dist")], check=True, capture_output=True, timeout=120)
    [wheel] = (tmp_path / "dist").glob("incident_archive-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies come from the test run's own environment (no download); its
    # editable install of this checkout does not, since a path added by a .pth file is
    # not a site directory and its own .pth files are not read.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=120)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([str(python), "-c", "import incident_archive; print(incident_archive.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site)), where
    with socket.socket() as probe:  # a free port for the recorded sites, fixed across the two runs
        probe.bind(("127.0.0.1", 0))
        replay_port = str(probe.getsockname()[1])
    run_demo = [str(python), "-m", "incident_archive.cli", "demo", "--no-serve", "--db", "demo.db",
                "--replay-port", replay_port]
    demo = subprocess.run(run_demo, cwd=work, env=env, capture_output=True, text=True, timeout=240)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    first = dump(work / "demo.db")
    # A second demo changes no row: the recorded sites are served at the same address.
    again = subprocess.run(run_demo, cwd=work, env=env, capture_output=True, text=True, timeout=240)
    assert again.returncode == 0 and dump(work / "demo.db") == first, again.stdout + again.stderr
    db = sqlite_utils.Database(work / "demo.db")
    assert db["sources"].get("acme-ai")["name"] == "Acme AI (invented demo site)"
    assert db["incidents"].get("openai:01JG5C0WQ8R4ZP6H3M2N7K9D1F")["title"] == "High error rates for ChatGPT, APIs, and Sora"
    assert db["incidents"].get("azure:CNF4-N_0")["started_at"] == "2024-12-26T18:40:00Z"
    assert db["articles"].count > 0
