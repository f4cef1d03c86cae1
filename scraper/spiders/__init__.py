"""One spider per source kind; the sources file names the kind."""

from scraper.spiders.aws import AwsSpider
from scraper.spiders.azure import AzureSpider
from scraper.spiders.gcp import GcpSpider
from scraper.spiders.incidentio import IncidentioSpider
from scraper.spiders.news import NewsSpider
from scraper.spiders.statuspage import StatuspageSpider

SPIDERS_BY_KIND = {
    "statuspage": StatuspageSpider,
    "gcp": GcpSpider,
    "incidentio": IncidentioSpider,
    "aws": AwsSpider,
    "azure": AzureSpider,
    "news": NewsSpider,
}
