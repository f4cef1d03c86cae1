"""An incident's digest: the same content gives the same digest, and a digest archived
before the digest's encoding changed still says "unchanged", or every archived incident
would look changed on the next crawl."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from incident_archive.archive.identity import DIGEST_PREFIX, content_hash, same_content
from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.crawl.parsers import incidentio, statuspage
from incident_archive.testing.demo import RECORDED

SEEN_AT = "2026-12-07T12:00:00Z"


def digest_as_archived_before(item) -> str:
    """The digest as the archive computed it until 2026-12-07: the standard library's
    sorted JSON, written here independently of the product's code."""
    content = dict(vars(item))
    content.pop("fresh")
    content.pop("partial")
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=vars).encode()).hexdigest()


def real_items(realdata):
    backfill = json.loads(next((realdata / "anthropic").glob("incidents.json.backfill_*")).read_text())
    items = [statuspage.parse_incident_record(raw, "anthropic", "https://status.claude.com")
             for raw in backfill["incidents"]]
    recorded = json.loads((RECORDED / "openai-incidentio.json").read_text())
    items += [incidentio.parse_incident_record(raw, "openai", "https://status.openai.com")
              for raw in recorded["incidents"]]
    assert sum(len(item.updates) for item in items) > len(items)
    return items


def test_the_digest_of_an_incident_with_updates_components_and_impact_windows():
    recorded = json.loads((RECORDED / "openai-incidentio.json").read_text())
    item = next(incidentio.parse_incident_record(raw, "openai", "https://status.openai.com")
                for raw in recorded["incidents"] if raw["id"] == "01K6A0RESP0NSESLATENCY0001")
    assert (len(item.updates), len(item.components), len(item.component_impacts)) == (1, 1, 1)
    assert content_hash(item) == "o1:54bff796d3daa18d5beda09fef430e9a04c23bea56b3c6958dc3d6d25d77b881"
    # Whether this copy was fresh or partial is not content; a word of an update is.
    assert content_hash(dataclasses.replace(item, fresh=False, partial=True)) == content_hash(item)
    changed = dataclasses.replace(item, updates=[dataclasses.replace(item.updates[0], body="Resolved.")])
    assert content_hash(changed) != content_hash(item)


def test_digests_archived_before_the_encoding_changed_still_match(realdata):
    items = real_items(realdata)
    for item, other in zip(items, items[1:] + items[:1]):
        digest = content_hash(item)
        assert digest.startswith(DIGEST_PREFIX) and len(digest) == len(DIGEST_PREFIX) + 64
        assert same_content(digest, item, digest)
        assert same_content(digest_as_archived_before(item), item, digest)
        assert not same_content(digest_as_archived_before(other), item, digest)
        assert not same_content(None, item, digest)


def test_an_archive_written_before_the_change_is_recrawled_without_a_write(realdata, tmp_path):
    """Unchanged incidents whose archived digests are of the older encoding are
    "unchanged" and nothing is written for them; a changed one gets a new version and a
    digest of the new encoding."""
    items = real_items(realdata)
    db = open_archive(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    for source in ("anthropic", "openai"):
        writer.save_source(source, "statuspage", source, "https://p.example")
    writer.save_incidents(items, SEEN_AT)
    with db.conn:  # as an archive of before the change holds them
        db.conn.executemany("UPDATE incidents SET content_hash = ? WHERE id = ?",
                            [(digest_as_archived_before(item), f"{item.source}:{item.native_id}") for item in items])
    versions, hashes = db["incident_versions"].count, dict(db.execute("SELECT id, content_hash FROM incidents"))
    changes_before = db.conn.total_changes

    assert {outcome for outcome, _ in writer.save_incidents(items, SEEN_AT)} == {"unchanged"}
    assert db.conn.total_changes == changes_before
    assert dict(db.execute("SELECT id, content_hash FROM incidents")) == hashes

    changed = dataclasses.replace(items[0], title=items[0].title + " (updated)")
    assert writer.save_incident(changed, SEEN_AT)[0] == "updated"
    assert db["incident_versions"].count == versions + 1
    key = f"{changed.source}:{changed.native_id}"
    assert db["incidents"].get(key)["content_hash"] == content_hash(changed)
