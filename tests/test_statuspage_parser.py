"""The Statuspage parser against every real GitHub incident of 2022 and other real bodies."""

from __future__ import annotations

import json

import pytest

from incident_archive.crawl.parsers import ParseError
from incident_archive.crawl.parsers.statuspage import (
    parse_history_page,
    parse_incident,
    parse_incident_list,
    parse_summary,
)

GITHUB = "https://www.githubstatus.com"


def test_every_github_2022_incident_parses(realdata):
    files = sorted((realdata / "github" / "incidents-2022").glob("*.json"))
    assert len(files) == 123
    incidents = [parse_incident(f.read_bytes(), "github", GITHUB) for f in files]
    assert {i.native_id for i in incidents} == {f.stem for f in files}
    assert sum(len(i.updates) for i in incidents) == 521
    assert {i.impact for i in incidents} == {"minor", "major", "none"}
    assert sum(i.impact == "major" for i in incidents) == 19
    for incident in incidents:
        assert incident.started_at.endswith("Z") and incident.started_at.startswith("2022-")
        assert incident.resolved_at >= incident.started_at
        assert all(u.posted_at.endswith("Z") for u in incident.updates)


def test_github_incident_values(realdata):
    body = (realdata / "github" / "incidents-2022" / "01g5rt6z89q2.json").read_bytes()
    incident = parse_incident(body, "github", GITHUB)
    assert incident.title == "Incident with Git Operations and Pull Requests"
    assert incident.impact == "minor" and incident.impact_raw == "minor"
    assert incident.status == "resolved"
    assert incident.started_at == "2022-12-05T17:31:51Z"
    assert incident.started_at_basis == "page"
    assert incident.resolved_at == "2022-12-05T18:40:55Z"
    assert incident.url == "https://www.githubstatus.com/incidents/01g5rt6z89q2"
    assert [(u.native_id, u.status, u.posted_at) for u in incident.updates] == [
        ("vmb7tgwsq0tb", "investigating", "2022-12-05T17:31:51Z"),
        ("5jdbqfq951zb", "investigating", "2022-12-05T18:07:05Z"),
        ("z8g475zzkht5", "resolved", "2022-12-05T18:40:55Z"),
    ]
    assert {(c.native_id, c.name) for c in incident.components} == {
        ("8l4ygp009s5s", "Git Operations"),
        ("hhtssxt0f5v2", "Pull Requests"),
    }


def test_github_major_incident_and_update_text(realdata):
    body = (realdata / "github" / "incidents-2022" / "298l2r792bl7.json").read_bytes()
    incident = parse_incident(body, "github", GITHUB)
    assert (incident.title, incident.impact) == ("Incident with Issues", "major")
    assert [c.name for c in incident.components] == ["Issues"]
    assert incident.updates[0].body.startswith("We are investigating reports of degraded availability for Is")
    assert incident.updates[-1].body == "Everything is operating normally."


def test_anthropic_incidents_json_full_field_set(realdata):
    body = (realdata / "anthropic" / "incidents.json.backfill_2026-09-15_EXCERPT_1of50.json").read_bytes()
    incidents, problems = parse_incident_list(body, "anthropic", "https://status.claude.com")
    assert problems == []
    [incident] = incidents
    assert incident.native_id == "6304r9jjhj34"
    assert incident.title == "Intermittent error spikes for Claude Mythos 5.1 and Claude Fable 5.1"
    assert (incident.impact, incident.started_at, incident.resolved_at) == (
        "major",
        "2026-09-15T09:48:23Z",
        "2026-09-15T11:14:44Z",
    )
    assert len(incident.updates) == 4
    assert "Claude API (api.anthropic.com)" in {c.name for c in incident.components}


def test_openai_incidentio_compatible_incidents_lack_started_at(realdata):
    body = (realdata / "openai" / "incidents.json.backfill_2026-09-15_EXCERPT_7of25.json").read_bytes()
    incidents, problems = parse_incident_list(body, "openai", "https://status.openai.com")
    assert problems == [] and len(incidents) == 7
    first = incidents[0]
    assert first.native_id == "01M2HYH64J2CZMZ63HEV2FCQFA"
    assert first.started_at == "2026-09-15T07:12:04Z" and first.started_at_basis == "posted"
    assert first.resolved_at == "2026-09-15T07:53:36Z"
    assert first.components == []
    assert [len(i.updates) for i in incidents] == [3, 3, 3, 4, 3, 6, 6]


def test_summary_components_and_status(realdata):
    body = (realdata / "openai" / "summary.json.2026-09-29_0225318.json").read_bytes()
    status, components = parse_summary(body, "openai")
    assert (status.indicator, status.description) == ("minor", "Partial System Degradation")
    realtime = next(c for c in components if c.native_id == "01JMXBRMFEQW613TFE89F45035")
    assert (realtime.name, realtime.status) == ("Realtime", "degraded_performance")
    incidents, _ = parse_incident_list(body, "openai", "https://status.openai.com", required=False)
    assert {i.native_id for i in incidents} == {"01M3Q4RK1SM4EMK445GGPG7C0N", "01M3Q4HMNP8SZ27DTZKW6F5BJ4"}


def test_summary_without_incidents_key_is_fine(realdata):
    body = (realdata / "openai" / "summary.json.2026-09-24_74404f5.json").read_bytes()
    status, components = parse_summary(body, "openai")
    assert len(components) == 25
    assert parse_incident_list(body, "openai", "https://status.openai.com", required=False) == ([], [])


def test_a_malformed_incident_is_reported_and_its_neighbours_kept():
    body = json.dumps(
        {
            "incidents": [
                {"id": "good1", "name": "Fine", "impact": "minor", "status": "resolved", "incident_updates": []},
                {"id": "bad", "impact": "minor"},
                {"id": "bad2", "name": "Bad time", "created_at": "yesterday-ish", "incident_updates": []},
                "not an object",
            ]
        }
    )
    incidents, problems = parse_incident_list(body, "x", "https://x.test")
    assert [i.native_id for i in incidents] == ["good1"]
    assert [p.reason for p in problems] == [
        "incident bad has no name",
        "incident bad2 created_at is not a time: 'yesterday-ish'",
        "incident should be dict, got str",
    ]


def test_scheduled_maintenance_maps_to_maintenance():
    body = json.dumps(
        {"incident": {"id": "m1", "name": "DB upgrade", "impact": "none", "status": "completed",
                      "scheduled_for": "2024-01-01T00:00:00Z", "incident_updates": []}}
    )
    assert parse_incident(body, "x", "https://x.test").impact == "maintenance"


@pytest.mark.parametrize("body", [b"", b"<html>", b"[]", b'{"incident": 3}', b'{"page": {}}'])
def test_bad_bodies_raise_parse_error_naming_the_source(body):
    with pytest.raises(ParseError) as error:
        parse_incident(body, "github", GITHUB)
    assert error.value.source == "github"


def test_history_page_entries_a_quiet_quarter_and_the_end():
    page = {"months": [{"name": "December", "year": 2024, "incidents": [
        {"code": "6bwlxnvdncnm", "name": "High error rates", "impact": "critical", "message": "..."}]},
        {"name": "November", "year": 2024, "incidents": []}]}
    parsed = parse_history_page(json.dumps(page), "openai")
    [entry] = parsed.entries
    assert (entry.code, entry.impact) == ("6bwlxnvdncnm", "critical")
    assert parsed.months == ["2024-12", "2024-11"] and not parsed.past_the_end
    # Three months with no incidents: a quiet quarter, not the end of the history.
    quiet = parse_history_page(json.dumps({"months": [{"name": m, "year": 2023, "incidents": []}
                                                      for m in ("June", "May", "April")]}), "openai")
    assert quiet.entries == [] and quiet.months == ["2023-06", "2023-05", "2023-04"] and not quiet.past_the_end
    assert parse_history_page(json.dumps({"months": []}), "openai").past_the_end


def test_every_real_history_atom_parses(realdata):
    from incident_archive.crawl.parsers.statuspage import parse_history_atom

    files = sorted((realdata / "github").glob("github-status-history.atom.*.xml"))
    assert len(files) == 3
    for file in files:
        incidents = parse_history_atom(file.read_bytes(), "github", GITHUB)
        assert len(incidents) == 25
        assert all(i.updates and i.started_at.endswith("Z") for i in incidents)
    latest = parse_history_atom(files[1].read_bytes(), "github", GITHUB)
    marketing = latest[0]
    assert (marketing.native_id, marketing.title) == ("5hjghvwvqztc", "Disruption with some GitHub services")
    # "between 15:57 UTC and 16:39 UTC" in the resolved update.
    assert (marketing.started_at, marketing.resolved_at, marketing.started_at_basis) == (
        "2024-12-20T15:57:00Z", "2024-12-20T16:39:00Z", "window")
    assert [u.status for u in marketing.updates] == ["investigating", "update", "update", "resolved"]


def test_an_atom_entry_without_updated_falls_back_to_published(realdata):
    """feedparser's own fallback from "updated" to "published" warns that it will go; the
    parser falls back itself, so an entry without <updated> parses the same, silently."""
    import re
    import warnings

    from incident_archive.crawl.parsers.statuspage import parse_history_atom

    body = (realdata / "github" / "github-status-history.atom.2024-12-27.xml").read_text()
    feed_head, entries = body.split("<entry>", 1)
    stripped = feed_head + "<entry>" + re.sub(r"<updated>[^<]*</updated>", "", entries)
    assert "<updated>" not in stripped.split("<entry>", 1)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        incidents = parse_history_atom(stripped.encode(), "github", GITHUB)
    full = parse_history_atom(body.encode(), "github", GITHUB)
    assert [i.native_id for i in incidents] == [i.native_id for i in full] and len(incidents) == 25
    assert [u.posted_at for u in incidents[0].updates] == [u.posted_at for u in full[0].updates]


def test_atom_and_json_agree_on_2022_incidents(realdata):
    """The same incidents seen through /history.atom and /api/v2/incidents/<code>.json."""
    from incident_archive.crawl.parsers.statuspage import parse_history_atom

    atom = parse_history_atom((realdata / "github" / "github-status-history.atom.2022-06-12.xml").read_bytes(),
                              "github", GITHUB)
    compared = 0
    for incident in atom:
        path = realdata / "github" / "incidents-2022" / f"{incident.native_id}.json"
        if not path.exists():
            continue
        full = parse_incident(path.read_bytes(), "github", GITHUB)
        assert incident.title == full.title
        assert [u.posted_at[:16] for u in incident.updates] == [u.posted_at[:16] for u in full.updates]
        compared += 1
    assert compared >= 20
