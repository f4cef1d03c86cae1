"""Azure: the real review texts of CNF4-N_0 in the status-history markup, crawled over
HTTP; a final review replaces the preliminary one and the archive keeps both texts."""

from __future__ import annotations

import re

import pytest
import sqlite_utils

from scraper.azure_site import ActiveIncident, Review, write_azure_site
from scraper.parsers import ParseError
from scraper.parsers.azure import parse_feed, parse_history_page
from scraper.replay import serving
from tests.conftest import FAST, run_cli, write_sources

BASE = "https://azure.status.microsoft"
SERVICES = ["Azure App Service", "Azure Storage", "Azure Virtual Machines", "Azure SQL Database"]


def review_texts(realdata) -> dict[str, str]:
    """The final and preliminary review texts of CNF4-N_0, read in place from the facts file."""
    text = (realdata / "facts" / "azure_CNF4-N_0_2024-12-26_south_central_us.txt").read_text(encoding="utf-8")
    sections = re.split(r"^===== URL: .*$", text, flags=re.M)[1:]
    final = sections[0][sections[0].index("What happened?"):]
    preliminary = sections[1][sections[1].index("This is our Preliminary PIR"):]
    banner = sections[2][sections[2].index("Impact Statement"):]
    clean = lambda s: s.replace("[... excerpt truncated ...]", "").strip()  # noqa: E731
    return {"final": clean(final), "preliminary": clean(preliminary), "banner": clean(banner)}


def cnf4(text: str) -> Review:
    return Review("CNF4-N_0", "Post Incident Review (PIR) – Power event – South Central US", "2024-12-26", text,
                  services=SERVICES, regions=["South Central US"])


def test_parse_history_item_with_the_real_final_review(realdata, tmp_path):
    write_azure_site(tmp_path, [cnf4(review_texts(realdata)["final"])])
    body = next(tmp_path.rglob("*page=1")).read_bytes()
    [incident] = parse_history_page(body, "azure", BASE)
    assert incident.native_id == "CNF4-N_0"
    assert incident.title == "Post Incident Review (PIR) – Power event – South Central US"
    assert (incident.started_at, incident.resolved_at, incident.started_at_basis) == (
        "2024-12-26T18:40:00Z", "2024-12-27T19:30:00Z", "window")
    assert [u.status for u in incident.updates] == ["final review"]
    assert "power event that occurred in one datacenter" in incident.updates[0].body
    assert [c.name for c in incident.components] == SERVICES
    assert [(r.native_id, r.name) for r in incident.regions] == [("southcentralus", "South Central US")]
    assert incident.url == "https://azure.status.microsoft/en-us/status/history/?trackingId=CNF4-N_0"


def test_feed_of_active_incidents(realdata):
    from scraper.azure_site import feed_xml

    banner = review_texts(realdata)["banner"]
    xml = feed_xml([ActiveIncident("Active - Storage latency, timeouts, or HTTP 500 errors in South Central US",
                                   banner + " Tracking ID: CNF4-N_0", "2024-12-26T21:10:00Z")])
    [incident] = parse_feed(xml.encode(), "azure", BASE)
    assert incident.native_id == "CNF4-N_0" and incident.status == "investigating"
    # "Starting at 18:44 UTC on 26 Dec 2024" in the banner's impact statement.
    assert (incident.started_at, incident.started_at_basis) == ("2024-12-26T18:44:00Z", "window")


def test_history_page_that_is_not_html_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_history_page(b'{"error": "maintenance"}', "azure", BASE)
    assert parse_history_page(b'<div class="incident-history"></div>', "azure", BASE) == []


def test_final_review_replaces_preliminary_and_both_are_kept(realdata, tmp_path):
    texts = review_texts(realdata)
    older = [Review(f"OLD{n}-X{n}", f"Older incident {n}", f"2024-11-{n + 1:02d}",
                    f"Between 10:00 UTC on {n + 1} November and 11:30 UTC on {n + 1} November 2024, a thing broke.",
                    services=["Azure Front Door"], regions=["West Europe"]) for n in range(12)]
    site = tmp_path / "site"
    write_azure_site(site, [cnf4(texts["preliminary"]), *older],
                     [ActiveIncident("Active - Storage latency in South Central US", texts["banner"] + " Tracking ID: CNF4-N_0",
                                     "2024-12-26T21:10:00Z")])
    with serving(site) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "azure", "kind": "azure", "name": "Microsoft Azure",
                                                       "url": server.base_url}])
        first = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST, check_exit=0)
        db = sqlite_utils.Database(tmp_path / "a.db")
        row = db["incidents"].get("azure:CNF4-N_0")
        assert (row["started_at"], row["resolved_at"]) == ("2024-12-26T18:44:00Z", "2024-12-27T19:30:00Z")
        assert db["incidents"].count == 13
        assert len([r for r in server.log if "statushistoryapi" in r.path]) == 3  # two pages and the empty one

        write_azure_site(site, [cnf4(texts["final"]), *older])  # the final review, and nothing active
        server.log.clear()
        second = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST, check_exit=0)

    assert "13 new" in first.stdout
    assert "0 new, 1 updated, 9 unchanged incidents; 1 new updates" in second.stdout
    # The recrawl read page 1 only: nothing on it was new.
    assert [r.path for r in server.log if "statushistoryapi" in r.path] == [
        "/en-us/statushistoryapi/?serviceSlug=all&regionSlug=all&startDate=all&page=1"]
    row = db["incidents"].get("azure:CNF4-N_0")
    assert (row["started_at"], row["resolved_at"], row["status"]) == (
        "2024-12-26T18:40:00Z", "2024-12-27T19:30:00Z", "resolved")
    kept = [r["status"] for r in db["incident_updates"].rows_where("incident_id = 'azure:CNF4-N_0'", order_by="status")]
    assert kept == ["active", "final review", "preliminary review"]
    assert db.execute("SELECT region, count(*) FROM incident_regions GROUP BY region ORDER BY region").fetchall() == [
        ("southcentralus", 1), ("westeurope", 12)]
