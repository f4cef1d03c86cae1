"""The demo's recorded sites: seeded status pages in the real formats, for ``make demo``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scraper.synthetic import SiteSpec, SyntheticStatuspage

# The project's own recorded responses (see recorded/README.md).
RECORDED = Path(__file__).resolve().parents[1] / "recorded"


@dataclass
class DemoSite:
    id: str
    kind: str
    name: str
    folder: str


DEMO_SITES = [
    (DemoSite("acme-ai", "statuspage", "Acme AI", "acme-ai"), SiteSpec("Acme AI", incidents=120, seed=7)),
    (
        DemoSite("nimbus-cloud", "statuspage", "Nimbus Cloud", "nimbus-cloud"),
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


def write_demo_sites(root: Path) -> list[DemoSite]:
    """Write every demo site under ``root`` (one folder each); returns their descriptions."""
    for site, spec in DEMO_SITES:
        SyntheticStatuspage(spec).site().write(Path(root) / site.folder)
    return [site for site, _ in DEMO_SITES]
