"""The sources file: the shipped defaults load; every mistake names file, source and field."""

from __future__ import annotations

import pytest

from incident_archive.core.sources import SourcesError, load_sources, select_sources


def write(tmp_path, text):
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_defaults_cover_openai_its_providers_and_peers():
    sources = {s.id: s for s in load_sources()}
    kinds = {source_id: s.kind for source_id, s in sources.items() if s.kind != "news"}
    assert kinds == {"openai": "incidentio", "azure": "azure", "aws": "aws", "gcp": "gcp",
                     "cloudflare": "statuspage", "anthropic": "statuspage", "github": "statuspage"}
    assert sum(s.kind == "news" for s in sources.values()) >= 5
    assert sources["openai"].options["depends_on"][0] == "azure"
    assert "ChatGPT" in sources["openai"].options["aliases"]
    assert sources["github"].url == "https://www.githubstatus.com"
    assert sources["anthropic"].url == "https://status.claude.com"


def test_four_lines_add_a_source(tmp_path):
    path = write(tmp_path, '[[sources]]\nid = "x"\nkind = "statuspage"\nname = "X"\nurl = "https://status.x.com/"\n')
    [source] = load_sources(path)
    assert (source.id, source.kind, source.name, source.url) == ("x", "statuspage", "X", "https://status.x.com")


@pytest.mark.parametrize(
    "table, message",
    [
        ('id = "x"\nkind = "nope"\nname = "X"\nurl = "https://x.com"', "source #1 ('x'): field 'kind': unknown kind 'nope'"),
        ('id = "x"\nkind = "statuspage"\nurl = "https://x.com"', "source #1 ('x'): field 'name' is missing or empty"),
        ('id = "x"\nkind = "statuspage"\nname = "X"\nurl = "ftp://x.com"', "source #1 ('x'): field 'url': 'ftp://x.com' is not an http(s) URL"),
        ('id = "x"\nkind = "statuspage"\nname = "X"\nurl = "x.com"', "field 'url': 'x.com' is not an http(s) URL"),
        ('id = "X Y"\nkind = "statuspage"\nname = "X"\nurl = "https://x.com"', "field 'id': 'X Y' must be lower-case"),
        ('id = "x"\nkind = "statuspage"\nname = "X"\nurl = "https://x.com"\ncolour = "red"', "field 'colour' is not known for kind 'statuspage'"),
        ('id = "x"\nkind = "statuspage"\nname = "X"\nurl = "https://x.com"\nhistory = "no"', "field 'history' should be bool"),
        ('id = "x"\nkind = "statuspage"\nname = "X"\nurl = "https://x.com"\ndepends_on = ["nowhere"]', "source 'x': field 'depends_on': unknown source 'nowhere'"),
        ('id = "x"\nkind = "statuspage"\nname = "X"\nurl = "https://x.com"\npeers = ["nowhere"]', "source 'x': field 'peers': unknown source 'nowhere'"),
        ('id = "x"\nkind = "statuspage"\nname = "X"\nurl = "https://x.com"\npeers = ["x"]', "source 'x': field 'peers': names the source itself"),
        ('id = "x"\nkind = "statuspage"\nname = "X"\nurl = "https://x.com"\npeers = "y"', "field 'peers' should be list"),
    ],
)
def test_mistakes_name_the_file_the_source_and_the_field(tmp_path, table, message):
    path = write(tmp_path, "[[sources]]\n" + table + "\n")
    with pytest.raises(SourcesError) as error:
        load_sources(path)
    assert str(error.value).startswith(str(path))
    assert message in str(error.value)


def test_duplicate_ids_and_broken_toml(tmp_path):
    one = '[[sources]]\nid = "x"\nkind = "statuspage"\nname = "X"\nurl = "https://x.com"\n'
    with pytest.raises(SourcesError, match="source #2 \\('x'\\): field 'id': 'x' is used twice"):
        load_sources(write(tmp_path, one + one))
    with pytest.raises(SourcesError, match="not valid TOML"):
        load_sources(write(tmp_path, "[[sources]\n"))
    with pytest.raises(SourcesError, match="no such sources file"):
        load_sources(tmp_path / "missing.toml")


def test_select_sources_keeps_file_order_and_rejects_unknown():
    sources = load_sources()
    assert [s.id for s in select_sources(sources, ["github", "openai"])] == ["openai", "github"]
    with pytest.raises(SourcesError, match="unknown source"):
        select_sources(sources, ["nope"])


def test_cli_reports_a_bad_sources_file(tmp_path):
    from tests.conftest import run_cli

    path = write(tmp_path, '[[sources]]\nid = "x"\nkind = "nope"\nname = "X"\nurl = "https://x.com"\n')
    result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(path))
    assert result.returncode == 1
    assert f"Error: {path}: source #1 ('x'): field 'kind': unknown kind 'nope'" in result.stderr
