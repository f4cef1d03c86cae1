"""Azure: the real status-history items (../shared/realdata/azure/history-items/) parsed
and crawled in the shape the endpoint serves; the real review texts of CNF4-N_0; a final
review replaces the preliminary one and the archive keeps both texts."""

from __future__ import annotations

import re

import pytest
import sqlite_utils

from incident_archive.testing.azure_site import ActiveIncident, Review, write_azure_site
from incident_archive.crawl.parsers import ParseError
from incident_archive.crawl.parsers.azure import parse_feed, parse_history_page
from incident_archive.testing.replay import serving
from tests.conftest import FAST, run_cli, write_sources

BASE = "https://azure.status.microsoft"

# The window of every real item, written by hand from the first timed sentence of its
# "Summary of impact" / "What happened?" (start, end in UTC), and the day it is filed under.
REAL_WINDOWS = {
    # "Between approximately 14:55 UTC and 19:50 UTC on July 12th, 2021"
    "0TYG-DPG": ("2021-07-12", "2021-07-12T14:55:00Z", "2021-07-12T19:50:00Z"),
    # "Between 03:47 UTC and 13:30 UTC on 21 Jul 2022"
    "3TBL-PD8": ("2022-07-21", "2022-07-21T03:47:00Z", "2022-07-21T13:30:00Z"),
    # "Between 00:00 UTC and 23:35 UTC on 13 July 2024"
    "4L44-3F0": ("2024-07-13", "2024-07-13T00:00:00Z", "2024-07-13T23:35:00Z"),
    # "Between approximately 07:00 UTC and 13:55 UTC on 21 Jul 2021"
    "4LRL-V8G": ("2021-07-21", "2021-07-21T07:00:00Z", "2021-07-21T13:55:00Z"),
    # "Between 15:02 UTC and 16:22 UTC on 27 Dec 2019"
    "4_6S-NC8": ("2019-12-27", "2019-12-27T15:02:00Z", "2019-12-27T16:22:00Z"),
    # "Between 22:00 EST on 24 Jan 2020 and 08:15 EST on 25 Jan 2020" (EST is UTC-5)
    "5TYQ-DC0": ("2020-01-25", "2020-01-25T03:00:00Z", "2020-01-25T13:15:00Z"),
    # "Between 09:44 and 13:10 UTC on 18 January 2023": the date stated once, at the end
    "6S_Q-JT8": ("2023-01-18", "2023-01-18T09:44:00Z", "2023-01-18T13:10:00Z"),
    # "Between 13:30 and 16:30 UTC on 19 May 2020"
    "8K76-LZ8": ("2020-05-19", "2020-05-19T13:30:00Z", "2020-05-19T16:30:00Z"),
    # "Between 12:30 UTC on 04 Jan 2022 and 7:41 UTC on 5 Jan 2022"
    "9VT8-HPG": ("2022-01-04", "2022-01-04T12:30:00Z", "2022-01-05T07:41:00Z"),
    # "... in the Australia East region, between 00:55 UTC and 06:28 UTC on 12 July 2024."
    "FTVR-L9Z": ("2024-07-12", "2024-07-12T00:55:00Z", "2024-07-12T06:28:00Z"),
    # "Between 09:45 and 16:26 UTC on 12 Dec 2019"
    "HKZT-N88": ("2019-12-12", "2019-12-12T09:45:00Z", "2019-12-12T16:26:00Z"),
    # "Between 00:56 and 03:40 UTC on 20 Nov 2019"
    "HLMF-R88": ("2019-11-20", "2019-11-20T00:56:00Z", "2019-11-20T03:40:00Z"),
    # "Between 13:48 UTC and 15:20 UTC on 27 July 2021" (filed on the 28th)
    "LNZM-TZG": ("2021-07-28", "2021-07-27T13:48:00Z", "2021-07-27T15:20:00Z"),
    # "Between 02:20 UTC and 07:30 UTC on 23 March 2023"
    "RNQ2-NC8": ("2023-03-23", "2023-03-23T02:20:00Z", "2023-03-23T07:30:00Z"),
    # "Between 07:50 and 08:45 UTC (approx.) on 18 Jul 2020"
    "TTPY-3P0": ("2020-07-18", "2020-07-18T07:50:00Z", "2020-07-18T08:45:00Z"),
    # "Starting at approximately 10:30 UTC on 30 August 2023": a start only; the power sag
    # at 08:41 and the recovery times come in later sentences and are not the window
    "VVTQ-J98": ("2023-08-30", "2023-08-30T10:30:00Z", None),
    # "Between 03:45 CST and 06:00 CST on 23 Apr 2024" in Azure's China regions: China
    # Standard Time, UTC+8 (filed 04/22 in the US)
    "V_BH-7DZ": ("2024-04-22", "2024-04-22T19:45:00Z", "2024-04-22T22:00:00Z"),
    # "Between 16:30 UTC on 18 Aug 2022 and 02:22 UTC on 19 Aug 2022"
    "YLBJ-790": ("2022-08-18", "2022-08-18T16:30:00Z", "2022-08-19T02:22:00Z"),
}


def real_items(realdata) -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in sorted((realdata / "azure" / "history-items").glob("*.html"))}


def test_every_real_item_gives_its_window(realdata):
    items = real_items(realdata)
    assert set(items) == set(REAL_WINDOWS)
    for tracking_id, body in items.items():
        [incident] = parse_history_page(body, "azure", BASE)
        filed, start, end = REAL_WINDOWS[tracking_id]
        assert incident.native_id == tracking_id
        assert (incident.created_at, incident.started_at, incident.resolved_at) == (
            f"{filed}T00:00:00Z", start, end), tracking_id
        assert incident.started_at_basis == "window" and incident.title
        assert incident.updates[0].status == "final review" and "Tracking ID" not in incident.updates[0].body


def test_real_items_are_crawled_in_the_real_shape(realdata, tmp_path):
    """Eighteen real items, ten a page as the endpoint serves them, then a page with none."""
    items = real_items(realdata)
    ordered = sorted(items, key=lambda t: REAL_WINDOWS[t][0], reverse=True)
    site = write_azure_site(tmp_path / "site", [], items=[items[t].decode() for t in ordered])
    with serving(site) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "azure", "kind": "azure", "name": "Microsoft Azure",
                                                       "url": server.base_url}])
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST)
        pages = [r.path for r in server.log if "statushistoryapi" in r.path]
    assert result.returncode == 0, result.stdout
    assert "18 new" in result.stdout and len(pages) == 3
    db = sqlite_utils.Database(tmp_path / "a.db")
    got = {r["native_id"]: (r["started_at"], r["resolved_at"]) for r in db["incidents"].rows}
    assert got == {t: (start, end) for t, (_, start, end) in REAL_WINDOWS.items()}
    assert db["sources"].get("azure")["backfilled_at"] is not None
    assert {r["region"] for r in db["incident_regions"].rows} == {
        "westeurope", "eastus", "australiaeast", "brazilsoutheast"}


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
    return Review("CNF4-N_0", "Post Incident Review (PIR) – Power event – South Central US", "2024-12-26", text)


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
    assert [(r.native_id, r.name) for r in incident.regions] == [("southcentralus", "South Central US")]
    assert incident.url == "https://azure.status.microsoft/en-us/status/history/?trackingId=CNF4-N_0"


def test_feed_of_active_incidents(realdata):
    from incident_archive.testing.azure_site import feed_xml

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
    assert parse_history_page(b"", "azure", BASE) == []  # past the last page
    with pytest.raises(ParseError, match="markup changed"):
        parse_history_page(b"<main><section>Power event</section></main>", "azure", BASE)


def test_final_review_replaces_preliminary_and_both_are_kept(realdata, tmp_path):
    texts = review_texts(realdata)
    older = [Review(f"OLD{n}-X{n}", f"Older incident {n}", f"2024-11-{n + 1:02d}",
                    f"Between 10:00 UTC on {n + 1} November and 11:30 UTC on {n + 1} November 2024, a thing broke"
                    " in West Europe.") for n in range(12)]
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


def test_an_empty_feed_during_an_outage_closes_nothing(realdata, tmp_path):
    """The feed of active incidents was seen to answer with an empty channel for hours
    during a 2026 outage: an empty channel is not "nothing is wrong"."""
    banner = review_texts(realdata)["banner"]
    active = [ActiveIncident("Active - Storage latency in South Central US", banner + " Tracking ID: CNF4-N_0",
                             "2024-12-26T21:10:00Z")]
    site = write_azure_site(tmp_path / "site", [], active)
    with serving(site) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "azure", "kind": "azure", "name": "Microsoft Azure",
                                                       "url": server.base_url}])
        run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST, check_exit=0)
        write_azure_site(site, [], [])  # the channel comes back empty
        again = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST)
    assert again.returncode == 0, again.stdout
    row = sqlite_utils.Database(tmp_path / "a.db")["incidents"].get("azure:CNF4-N_0")
    assert (row["status"], row["resolved_at"], row["removed_at"]) == ("investigating", None, None)
