"""An incident's digest is the one archives already hold: a different digest for the same
content would make every archived incident look changed on the next crawl."""

from __future__ import annotations

import hashlib
import json

from incident_archive.archive.identity import content_hash
from incident_archive.crawl.parsers import incidentio, statuspage
from incident_archive.testing.demo import RECORDED


def digest_as_archived(item) -> str:
    """The digest as the archive has computed it since it first kept one."""
    content = dict(vars(item))
    content.pop("fresh")
    content.pop("partial")
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=vars).encode()).hexdigest()


def test_the_digest_of_an_incident_with_updates_components_and_impact_windows():
    recorded = json.loads((RECORDED / "openai-incidentio.json").read_text())
    item = next(incidentio.parse_incident_record(raw, "openai", "https://status.openai.com")
                for raw in recorded["incidents"] if raw["id"] == "01K6A0RESP0NSESLATENCY0001")
    assert (len(item.updates), len(item.components), len(item.component_impacts)) == (1, 1, 1)
    assert content_hash(item) == "c1ea9431b2a07d64161ac9bede3dbcfc8839732caf2f4b67653f03609b3880b0"


def test_digests_of_real_incidents_are_those_archived(realdata):
    backfill = json.loads(next((realdata / "anthropic").glob("incidents.json.backfill_*")).read_text())
    items = [statuspage.parse_incident_record(raw, "anthropic", "https://status.claude.com")
             for raw in backfill["incidents"]]
    recorded = json.loads((RECORDED / "openai-incidentio.json").read_text())
    items += [incidentio.parse_incident_record(raw, "openai", "https://status.openai.com")
              for raw in recorded["incidents"]]
    assert sum(len(item.updates) for item in items) > len(items)
    assert [content_hash(item) for item in items] == [digest_as_archived(item) for item in items]
