"""``incident-archive import-research``: research datasets into the archive.

Reads what each path holds (the ICPE 2025 ``data/raw`` folder or its parent, the FAILS
``incident_stages_all.csv`` or its folder) and writes it with the same store the
spiders use, so an incident already archived is merged, never stored twice.
"""

from __future__ import annotations

from pathlib import Path

from incident_archive.archive.store import ArchiveWriter, open_archive
from incident_archive.core.times import utc_now
from incident_archive.archive.attribution import Attributor
from incident_archive.archive.linking import ArticleLinker
from incident_archive.crawl.parsers.research import SOURCES, read_fails, read_incident_scrapes, read_uptime


def find_datasets(path: Path) -> dict[str, list[Path]]:
    found = {"incidents": [], "uptime": [], "fails": []}
    path = Path(path)
    if path.is_file():
        found["fails"].append(path)
        return found
    for raw in [path, path / "raw", path / "data" / "raw"]:
        if (raw / "incident").is_dir():
            found["incidents"].append(raw / "incident")
        if (raw / "uptime").is_dir():
            found["uptime"].append(raw / "uptime")
    found["fails"] += sorted(path.glob("incident_stages_all.csv"))
    return found


def import_paths(paths: list[Path], db_path) -> dict[str, int]:
    db = open_archive(db_path)
    writer = ArchiveWriter(db)
    seen_at = utc_now()
    counts = {"new": 0, "updated": 0, "unchanged": 0, "updates_new": 0, "days": 0}
    datasets = [find_datasets(p) for p in paths]
    studied = sorted(set(SOURCES.values()))
    for source_id, name, url in studied:
        if db["sources"].count_where("id = ?", [source_id]) == 0:
            # The study compares its services with one another: peers in provider_cooccurrence.
            writer.save_source(source_id, "statuspage", name, url,
                               peers=[other for other, _, _ in studied if other != source_id])
    # The raw scrapes first: they carry each incident's full text; FAILS adds later ones.
    incidents = [i for d in datasets for folder in d["incidents"] for i in read_incident_scrapes(folder)]
    incidents += [i for d in datasets for path in d["fails"] for i in read_fails(path)]
    for incident in incidents:
        outcome, updates_new = writer.save_incident(incident, seen_at)
        counts[outcome] += 1
        counts["updates_new"] += updates_new
    for folder in (f for d in datasets for f in d["uptime"]):
        counts["days"] += sum(writer.save_daily_outage(day) for day in read_uptime(folder))
    ArticleLinker(db).link_all()
    Attributor(db).attribute()
    db.close()
    return counts
