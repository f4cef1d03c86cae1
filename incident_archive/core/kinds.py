"""The kinds of source, declared once: the options each takes in the sources file and the
spider that crawls it (by dotted path, so the sources loader never imports the crawler)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Kind:
    name: str
    spider: str  # "module:Class"
    options: dict[str, type] = field(default_factory=dict)


KINDS = {
    kind.name: kind
    for kind in (
        Kind("statuspage", "incident_archive.crawl.spiders.statuspage:StatuspageSpider",
             {"history": bool, "quiet_pages": int}),
        Kind("incidentio", "incident_archive.crawl.spiders.incidentio:IncidentioSpider",
             {"proxy_host": str, "since": str, "empty_months": int}),
        Kind("azure", "incident_archive.crawl.spiders.azure:AzureSpider"),
        Kind("aws", "incident_archive.crawl.spiders.aws:AwsSpider",
             {"history_url": str, "legacy_url": str, "rss_url": str}),
        Kind("gcp", "incident_archive.crawl.spiders.gcp:GcpSpider"),
        Kind("news", "incident_archive.crawl.spiders.news:NewsSpider", {"outlet": str, "article_hosts": list}),
    )
}
