"""The project's recorded news (recorded/news): two outlets' feeds and their article
pages, written where a replay server serves them, with links pointing at that server."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

NEWS = Path(str(resources.files("incident_archive.testing") / "recorded" / "news"))
FEEDS = {"techdaily": ("Tech Daily", "techdaily-feed.xml"), "cloudwire": ("Cloud Wire", "cloudwire-feed.xml")}


def write_news_site(root: Path, base_url: str) -> Path:
    """Copy the recorded news under ``root``, its ``{{base}}`` links made ``base_url``."""
    root = Path(root)
    for file in NEWS.rglob("*"):
        if file.is_file():
            target = root / file.relative_to(NEWS)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(file.read_text(encoding="utf-8").replace("{{base}}", base_url), encoding="utf-8")
    return root
