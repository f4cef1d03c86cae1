"""AWS: real current events (served as UTF-16 with a BOM), the real legacy data.json,
and a crawl of our own recording of all three endpoints."""

from __future__ import annotations

import codecs
import json

import pytest
import sqlite_utils

from incident_archive.crawl.parsers import ParseError
from incident_archive.crawl.parsers.aws import parse_events, parse_legacy
from incident_archive.testing.replay import serving
from tests.conftest import FAST, run_cli, write_sources

BASE = "https://health.aws.amazon.com"


def as_served(text: str) -> bytes:
    """What health.aws.amazon.com sends: UTF-16 with a byte-order mark."""
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


def test_real_current_events_served_as_utf16(realdata):
    body = as_served((realdata / "aws" / "aws-currentevents.json").read_text(encoding="utf-8"))
    incidents, problems = parse_events(body, "aws", BASE)
    assert problems == [] and len(incidents) == 3
    sts = next(i for i in incidents if i.native_id.startswith("us-west-2:"))
    assert sts.native_id == "us-west-2:AWS_MULTIPLE_SERVICES_OPERATIONAL_ISSUE_926DB_F0036494EA4"
    assert (sts.title, sts.status, sts.impact) == ("Increased API Error Rates", "resolved", "minor")
    # "Starting at 2:12 PM PDT" in the first post; the event closed at end_time.
    assert (sts.started_at, sts.started_at_basis, sts.resolved_at) == (
        "2026-09-03T21:12:00Z", "window", "2026-09-04T00:07:54Z")
    assert {c.name for c in sts.components} == {"AWS Security Token Service", "AWS Sign-In"}
    assert [(r.native_id, r.name) for r in sts.regions] == [("us-west-2", "Oregon")]
    open_events = [i for i in incidents if i.status == "investigating"]
    assert {i.regions[0].native_id for i in open_events} == {"me-central-1", "me-south-1"}
    assert all(i.impact == "critical" and i.resolved_at is None for i in open_events)
    assert "Amazon Bedrock" in {c.name for c in open_events[0].components}


def test_real_legacy_data_json(realdata):
    incidents, problems = parse_legacy((realdata / "aws" / "legacy-data.json").read_bytes(), "aws", BASE)
    assert problems == [] and len(incidents) == 86
    ohio = next(i for i in incidents if i.native_id == "internetconnectivity-us-east-2_1624564393")
    assert ohio.title == "Internet Connectivity"
    # "12:53 PM PDT Between 12:15 PM and 12:21 PM PDT we observed connectivity issues"
    assert (ohio.started_at, ohio.resolved_at, ohio.started_at_basis) == (
        "2021-06-24T19:15:00Z", "2021-06-24T19:21:00Z", "window")
    assert ohio.updates[0].posted_at == "2021-06-24T19:53:00Z"
    assert [r.native_id for r in ohio.regions] == ["us-east-2"]
    assert sum(i.started_at_basis == "window" for i in incidents) == 80
    assert all(u.posted_at for i in incidents for u in i.updates)
    assert all(i.resolved_at >= i.started_at for i in incidents if i.resolved_at)
    # An update posted after local midnight carries its own date.
    ecs = next(i for i in incidents if i.native_id == "ecs-us-east-1_1638919976")
    assert (ecs.started_at, ecs.resolved_at) == ("2021-12-07T15:31:00Z", "2021-12-08T10:20:00Z")


def test_a_legacy_date_no_clock_can_hold_is_a_problem_not_a_crash():
    """Found by test_fuzz_parsers: a date of 1e300 or -1e18 seconds made the C library
    raise OverflowError or OSError, which stopped the whole body's parse."""
    good = {"service": "ec2-us-east-1", "date": "1638919976", "summary": "[RESOLVED] Slow", "description": ""}
    entries = [good] + [dict(good, service=f"s{n}", date=date) for n, date in enumerate(["1e300", "-1e18"])]
    incidents, problems = parse_legacy(json.dumps({"archive": entries}).encode(), "aws", BASE)
    assert [i.native_id for i in incidents] == ["ec2-us-east-1_1638919976"]
    assert len(problems) == 2 and all("is not a time in epoch seconds" in p.reason for p in problems)


def test_bom_decides_the_encoding_and_bad_bodies_are_parse_errors():
    event = [{"arn": "arn:aws:health:eu-west-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/X1", "summary": "[RESOLVED] Slow",
              "status": "0", "date": "1735239600", "event_log": [], "impacted_services": {}}]
    for body in (as_served(json.dumps(event)), codecs.BOM_UTF8 + json.dumps(event).encode(), json.dumps(event).encode()):
        [incident], _ = parse_events(body, "aws", BASE)
        assert incident.native_id == "eu-west-1:X1" and incident.title == "Slow"
    with pytest.raises(ParseError):
        parse_events(b"\xff\xfe{\x00", "aws", BASE)
    incidents, problems = parse_events(json.dumps([{"arn": "nope"}]).encode(), "aws", BASE)
    assert incidents == [] and problems[0].reason == "event has no ARN: 'nope'"


def test_aws_crawled_end_to_end(tmp_path):
    current = [{
        "arn": "arn:aws:health:us-east-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/AWS_EC2_OPERATIONAL_ISSUE_A1B2C",
        "region_name": "N. Virginia", "status": "2", "service": "ec2-us-east-1", "service_name": "Amazon EC2",
        "summary": "Increased launch error rates", "date": "1735239600",
        "event_log": [{"summary": "Increased launch error rates", "status": 2, "timestamp": 1735239600,
                       "message": "We are investigating increased error rates for instance launches in US-EAST-1."}],
        "impacted_services": {"ec2-us-east-1": {"service_name": "Amazon Elastic Compute Cloud", "current": "2", "max": "2"}},
    }]
    history = {"s3-us-west-2": [{
        "arn": "arn:aws:health:us-west-2::event/S3/AWS_S3_OPERATIONAL_ISSUE/AWS_S3_OPERATIONAL_ISSUE_9Z8Y7",
        "region_name": "Oregon", "status": "0", "service": "s3-us-west-2", "service_name": "Amazon S3",
        "summary": "[RESOLVED] Elevated error rates", "date": "1733900000", "end_time": "1733907200",
        "event_log": [{"summary": "Elevated error rates", "status": 3, "timestamp": 1733900000,
                       "message": "We are investigating elevated error rates for S3 requests."},
                      {"summary": "Resolved", "status": 0, "timestamp": 1733907200,
                       "message": "Between 10:53 PM and 12:53 AM PST, S3 saw elevated error rates. Resolved."}],
        "impacted_services": {"s3-us-west-2": {"service_name": "Amazon Simple Storage Service", "current": "0", "max": "3"}},
    }]}
    site = tmp_path / "site"
    (site / "public").mkdir(parents=True)
    (site / "public" / "currentevents").write_bytes(as_served(json.dumps(current)))
    (site / "historyevents.json").write_bytes(as_served(json.dumps(history)))
    with serving(site) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "aws", "kind": "aws", "name": "AWS", "url": server.base_url,
                                                       "history_url": server.base_url + "/historyevents.json"}])
        result = run_cli("crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources), *FAST, check_exit=0)
    assert "2 new, 0 updated, 0 unchanged incidents; 3 new updates" in result.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    s3 = db["incidents"].get("aws:us-west-2:AWS_S3_OPERATIONAL_ISSUE_9Z8Y7")
    assert (s3["impact"], s3["status"], s3["started_at"], s3["resolved_at"], s3["started_at_basis"]) == (
        "critical", "resolved", "2024-12-11T06:53:00Z", "2024-12-11T08:53:00Z", "window")
    ec2 = db["incidents"].get("aws:us-east-1:AWS_EC2_OPERATIONAL_ISSUE_A1B2C")
    assert (ec2["impact"], ec2["status"], ec2["started_at"]) == ("major", "investigating", "2024-12-26T19:00:00Z")
    assert db.execute("SELECT region FROM incident_regions ORDER BY region").fetchall() == [("us-east-1",), ("us-west-2",)]


def test_every_real_rss_sample(realdata):
    from incident_archive.crawl.parsers.aws import parse_rss

    old = parse_rss((realdata / "aws" / "aws_rss_sample_2021-12-20.xml").read_bytes(), "aws", BASE)
    new = parse_rss((realdata / "aws" / "aws_all_rss_sample_2026-04-16.xml").read_bytes(), "aws", BASE)
    assert len(old) == len(new) == 2
    # The guid's "<service>_<epoch>" is the legacy data.json's id for the same event.
    gov = old[0]
    assert gov.native_id == "internetconnectivity-us-gov-west-1_1639599392"
    assert (gov.title, gov.status, gov.impact_raw) == ("Internet Connectivity", "resolved", "service is operating normally")
    assert (gov.started_at, gov.resolved_at) == ("2021-12-15T15:14:00Z", "2021-12-15T15:59:00Z")  # 7:14-7:59 AM PST
    bahrain, s3 = new
    assert (bahrain.status, bahrain.impact, [r.native_id for r in bahrain.regions]) == (
        "investigating", "major", ["me-south-1"])
    assert (s3.title, s3.status, s3.impact) == ("Recovery underway", "resolved", "minor")


def test_utf16_without_a_bom_is_still_read():
    event = [{"arn": "arn:aws:health:eu-west-1::event/EC2/AWS_EC2_OPERATIONAL_ISSUE/X2", "summary": "Slow",
              "status": "1", "date": "1735239600", "event_log": []}]
    for encoding in ("utf-16-le", "utf-16-be"):
        [incident], _ = parse_events(json.dumps(event).encode(encoding), "aws", BASE)
        assert incident.native_id == "eu-west-1:X2"
