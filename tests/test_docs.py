"""The README documents every command, every option and every project setting."""

from __future__ import annotations

import pytest

from incident_archive.cli import cli
from incident_archive.crawl import settings
from tests.conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)
OPTIONS = sorted({(name, opt) for name, command in cli.commands.items() for param in command.params
                  if not getattr(param, "hidden", False) for opt in param.opts if opt.startswith("--")})
PROJECT_SETTINGS = sorted(name for name in vars(settings) if name.startswith("ARCHIVE_"))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented(command):
    assert f"incident-archive {command}" in README


@pytest.mark.parametrize("command, option", OPTIONS, ids=[f"{c} {o}" for c, o in OPTIONS])
def test_every_option_is_documented(command, option):
    assert option in README, f"{command} {option}"


@pytest.mark.parametrize("name", PROJECT_SETTINGS)
def test_every_project_setting_is_documented(name):
    assert name in README
