"""incident.io: the native JSON on real samples, and OpenAI's move from Statuspage to
incident.io crawled end to end without archiving an incident twice."""

from __future__ import annotations

import json
import shutil

import pytest
import sqlite_utils

from incident_archive.testing.demo import RECORDED
from incident_archive.testing.incidentio_site import IncidentioSite
from incident_archive.crawl.parsers.incidentio import parse_incidents, parse_summary, summary_from_html
from incident_archive.testing.replay import serving
from incident_archive.testing.statuspage_site import StatuspageSite
from tests.conftest import FAST, OPENAI_MOVE, dump, run_cli, write_sources


def test_real_native_incidents(realdata):
    body = (realdata / "openai" / "proxy_incidents.TRIMMED_5of93.json").read_bytes()
    incidents, problems = parse_incidents(body, "openai", "https://status.openai.com")
    assert problems == [] and len(incidents) == 5
    logouts = next(i for i in incidents if i.native_id == "01M0JXWD740S0Y50DWJZS7SH75")
    # The component impact began before the incident was published: the window wins.
    assert (logouts.started_at, logouts.started_at_basis) == ("2026-08-21T17:57:00Z", "page")
    assert logouts.created_at == "2026-08-21T19:48:34Z"
    assert logouts.resolved_at == "2026-08-21T20:36:33Z"
    assert logouts.impact == "minor" and logouts.impact_raw == "degraded_performance"
    sora = next(i for i in incidents if i.native_id == "01KX7Y6ETMKP3ATQ85Z33J0EHN")
    assert (sora.title, sora.impact) == ("Elevated Errors for Sora API", "critical")
    codex = next(i for i in incidents if i.native_id == "01KXT44TAQQ2R0AZDDVSJGAC4H")
    assert [(c.component_native_id, c.start_at, c.end_at) for c in codex.component_impacts] == [
        ("01KMKFAMWKNQ84Z1766MV08ZDE", "2026-07-18T08:05:37Z", "2026-07-18T12:58:14Z"),
        ("01KMKFAMWKQ81YWSE1Z18R6VHR", "2026-07-18T08:05:37Z", "2026-07-18T12:58:14Z"),
    ]
    assert codex.updates[0].status == "identified" and codex.updates[0].body.startswith("We have identified")


def test_real_page_html_embeds_the_summary(realdata):
    html = (realdata / "incidentio" / "incidentio-perplexity.html").read_bytes()
    status, components = parse_summary(summary_from_html(html, "perplexity"), "perplexity")
    assert status.page_name == "Perplexity" and status.indicator == "none"
    assert [(c.name, c.native_id) for c in components] == [
        ("Website", "01KZSFD424KQ6VQYV4R0KCA30P"),
        ("App", "01KZSFD424NN3EYBS78TMVWNEK"),
        ("Computer", "01M0TRMC3ED1PG4GRRXXMVNNZ6"),
    ]


@pytest.fixture
def openai_sites(tmp_path):
    """OpenAI on Statuspage (December 2024) and on incident.io, each on its own server."""
    statuspage = json.loads((RECORDED / "openai-statuspage-2024-12.json").read_text())
    old = StatuspageSite(statuspage["page"], statuspage["components"], statuspage["incidents"])
    new = IncidentioSite.from_file(RECORDED / "openai-incidentio.json")
    with serving(old.write(tmp_path / "statuspage")) as old_server, serving(new.write(tmp_path / "incidentio")) as new_server:
        yield old_server, new_server


def crawl_as(tmp_path, kind, server, **options):
    sources = write_sources(tmp_path / f"{kind}.toml", [{"id": "openai", "kind": kind, "name": "OpenAI",
                                                        "url": server.base_url, **options}])
    return run_cli("crawl", "--db", str(tmp_path / "archive.db"), "--sources", str(sources), *FAST)


def test_openai_moves_platform_and_nothing_is_archived_twice(tmp_path, openai_sites):
    old_server, new_server = openai_sites
    first = crawl_as(tmp_path, "statuspage", old_server)
    assert first.returncode == 0 and "3 new" in first.stdout
    second = crawl_as(tmp_path, "incidentio", new_server, proxy_host="status.openai.com", migrated=OPENAI_MOVE)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "2 new, 2 updated, 0 unchanged incidents" in second.stdout

    db = sqlite_utils.Database(tmp_path / "archive.db")
    assert db["incidents"].count == 5
    aliases = {r["alias_id"]: r["incident_id"] for r in db["incident_aliases"].rows}
    assert aliases == {
        "openai:01JG5C0WQ8R4ZP6H3M2N7K9D1F": "openai:6bwlxnvdncnm",
        "openai:01JEXKQ3T7W2M9B5C8D4F6G1H0": "openai:ctrsv3lwd797",
    }
    # The archived Statuspage record keeps its times; the republished copy adds its
    # component windows and the update the archive lacked.
    row = db["incidents"].get("openai:6bwlxnvdncnm")
    assert (row["started_at"], row["resolved_at"], row["impact"]) == (
        "2024-12-26T19:00:00Z", "2024-12-27T04:38:00Z", "critical")
    windows = db.execute(
        "SELECT c.name, c.group_name, ci.start_at, ci.end_at, ci.duration_s FROM component_impacts ci "
        "JOIN components c ON c.id = ci.component_id WHERE ci.incident_id = 'openai:6bwlxnvdncnm' ORDER BY c.name"
    ).fetchall()
    assert windows == [
        ("Chat Completions", "API", "2024-12-26T18:40:00Z", "2024-12-26T23:05:00Z", 15900),
        ("Conversations", "ChatGPT", "2024-12-26T18:40:00Z", "2024-12-27T04:16:00Z", 34560),
        ("Video generation", "Sora", "2024-12-26T18:40:00Z", "2024-12-26T22:58:00Z", 15480),
    ]
    assert db["incident_updates"].count_where("incident_id = 'openai:6bwlxnvdncnm'") == 4
    # A resolved post that states the window: the start comes from the text.
    stated = db["incidents"].get("openai:01JX2C0NVERSAT10NERR0RS01")
    assert (stated["started_at"], stated["started_at_basis"], stated["resolved_at"]) == (
        "2025-06-10T07:55:00Z", "window", "2025-06-10T10:20:00Z")
    ongoing = db["incidents"].get("openai:01K6A0RESP0NSESLATENCY0001")
    assert (ongoing["status"], ongoing["resolved_at"], ongoing["impact"]) == ("investigating", None, "minor")
    assert db["sources"].get("openai")["kind"] == "incidentio"

    before = dump(tmp_path / "archive.db")
    third = crawl_as(tmp_path, "incidentio", new_server, proxy_host="status.openai.com", migrated=OPENAI_MOVE)
    assert third.returncode == 0 and "0 new, 0 updated" in third.stdout
    assert dump(tmp_path / "archive.db") == before


def test_native_endpoints_failing_fall_back_to_statuspage_compatible_api(tmp_path, openai_sites):
    _, new_server = openai_sites
    shutil.rmtree(new_server.root / "proxy")
    result = crawl_as(tmp_path, "incidentio", new_server, proxy_host="status.openai.com")
    assert result.returncode == 0, result.stdout
    assert "4 new" in result.stdout
    db = sqlite_utils.Database(tmp_path / "archive.db")
    run = next(db["crawl_runs"].rows)
    assert run["outcome"] == "ok" and "used /api/v2/incidents.json" in run["notes"]
    assert "used /api/v2/summary.json" in run["notes"]
    row = db["incidents"].get("openai:01JG5C0WQ8R4ZP6H3M2N7K9D1F")
    # The compatible API has no started_at (the first post, or a window its text states)
    # and understates impact: the full outage is "major" there.
    assert row["started_at_basis"] in ("posted", "window") and row["impact"] == "major"
    assert db["components"].count == 5


def test_the_shim_never_lowers_what_the_native_api_gave_nor_is_parsed_twice(tmp_path):
    site = IncidentioSite.from_file(RECORDED / "openai-incidentio.json")
    root = site.write(tmp_path / "site")
    with serving(root, validators="none") as server:
        native = crawl_as(tmp_path, "incidentio", server, proxy_host="status.openai.com")
        db = sqlite_utils.Database(tmp_path / "archive.db")
        before = {r["id"]: r["impact"] for r in db["incidents"].rows}
        shutil.rmtree(root / "proxy")  # the native API fails; the shim answers
        shim = crawl_as(tmp_path, "incidentio", server, proxy_host="status.openai.com")
        after = {r["id"]: r["impact"] for r in db["incidents"].rows}
        again = crawl_as(tmp_path, "incidentio", server, proxy_host="status.openai.com")
    assert native.returncode == shim.returncode == again.returncode == 0, shim.stdout
    assert before["openai:01JG5C0WQ8R4ZP6H3M2N7K9D1F"] == "critical" and after == before
    assert db.execute("SELECT count(*) FROM incident_versions WHERE changed LIKE '%impact%'").fetchone() == (0,)
    # The shim sends no validators: its unchanged body is downloaded but not parsed again.
    assert "0 new, 0 updated, 0 unchanged incidents" in again.stdout
    notes = db.execute("SELECT notes FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert "/api/v2/incidents.json: the same body as last time; not parsed again" in notes


def test_feed_atom_is_the_last_resort(tmp_path):
    site = IncidentioSite.from_file(RECORDED / "openai-incidentio.json")
    root = site.write(tmp_path / "site")
    shutil.rmtree(root / "proxy")
    (root / "api" / "v2" / "incidents.json").unlink()
    with serving(root) as server:
        result = crawl_as(tmp_path, "incidentio", server, proxy_host="status.openai.com")
    assert result.returncode == 1 and "/api/v2/incidents.json: HTTP 404" in result.stdout
    db = sqlite_utils.Database(tmp_path / "archive.db")
    assert "used /feed.atom" in db.execute("SELECT notes FROM crawl_runs").fetchone()[0]
    titles = {r["native_id"]: r["title"] for r in db["incidents"].rows}
    assert titles == {i["id"]: i["name"] for i in site.incidents}
    assert db["incident_updates"].count == len(site.incidents)


def test_backfill_walks_month_windows_past_gaps(tmp_path):
    # The listing holds only the newest incident; the rest, 15 and 21 months older, come
    # from the month windows, each asked for once, back to January 2020.
    site = IncidentioSite.from_file(RECORDED / "openai-incidentio.json", listing_size=1)
    with serving(site.write(tmp_path / "site")) as server:
        result = crawl_as(tmp_path, "incidentio", server, proxy_host="status.openai.com")
        windows = [r.path for r in server.log if "start_at=" in r.path]
    assert result.returncode == 0 and "4 new" in result.stdout
    assert len(windows) == len(set(windows)) == 81  # 2026-09 back to 2020-01
    assert windows[-1].endswith("start_at=2020-01-01T00%3A00%3A00Z&end_at=2020-02-01T00%3A00%3A00Z")
    db = sqlite_utils.Database(tmp_path / "archive.db")
    assert db["sources"].get("openai")["backfilled_at"] is not None
