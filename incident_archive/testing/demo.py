"""The demo's recorded sites, for ``make demo``: OpenAI on incident.io and Azure from
the project's own recordings (see recorded/README.md), and two seeded synthetic
Statuspage sites for volume."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from incident_archive.testing.azure_site import Review, write_azure_site
from incident_archive.testing.incidentio_site import IncidentioSite
from incident_archive.testing.news_site import FEEDS, write_news_site
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage

# The project's own recorded responses (see recorded/README.md).
# The project's own recordings, shipped as package data: the demo runs from a wheel too.
RECORDED = Path(str(resources.files("incident_archive.testing") / "recorded"))


@dataclass
class DemoSite:
    id: str
    kind: str
    name: str
    folder: str
    options: dict


SYNTHETIC = [
    (DemoSite("acme-ai", "statuspage", "Acme AI (invented demo site)", "acme-ai", {}), SiteSpec("Acme AI", incidents=120, seed=7)),
    (
        DemoSite("nimbus-cloud", "statuspage", "Nimbus Cloud (invented demo site)", "nimbus-cloud", {}),
        SiteSpec(
            "Nimbus Cloud",
            incidents=90,
            seed=11,
            time_zone="Etc/UTC",
            days_between=12.0,
            components=[("Compute", ["Virtual Machines", "Kubernetes"]), ("Storage", ["Blob Storage", "Databases"])],
        ),
    ),
]


def azure_reviews() -> list[Review]:
    data = json.loads((RECORDED / "azure-reviews.json").read_text(encoding="utf-8"))
    return [Review(**review) for review in data["reviews"]]


def write_demo_sites(root: Path) -> list[DemoSite]:
    """Write every demo site under ``root`` (one folder each); returns their descriptions."""
    root = Path(root)
    sites = [
        DemoSite("openai", "incidentio", "OpenAI", "openai",
                 {"proxy_host": "status.openai.com", "aliases": ["ChatGPT", "Sora"], "depends_on": ["azure"],
                  "migrated": {"from": "statuspage", "on": "2025-06-01"},
                  "runs_in": {"azure": ["South Central US"]}}),
        DemoSite("azure", "azure", "Microsoft Azure", "azure", {"aliases": ["Azure"]}),
    ]
    IncidentioSite.from_file(RECORDED / "openai-incidentio.json").write(root / "openai")
    write_azure_site(root / "azure", azure_reviews())
    for site, spec in SYNTHETIC:
        SyntheticStatuspage(spec).site().write(root / site.folder)
        sites.append(site)
    for feed_id, (name, feed) in FEEDS.items():
        sites.append(DemoSite(f"news-{feed_id}", "news", f"{name} (invented demo outlet)", f"news/{feed}", {}))
    return sites


def write_demo_news(root: Path, base_url: str) -> None:
    """The recorded news links to its own pages: written once the server's address is known."""
    write_news_site(Path(root) / "news", f"{base_url}/news")
