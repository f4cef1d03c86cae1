"""News: feeds and article pages crawled end to end into an archive that holds the OpenAI
and Azure incidents of December 2024; links carry a score and a reason."""

from __future__ import annotations

import asyncio
import json

import pytest
import sqlite_utils

from incident_archive.archive.identity import normalize_title
from incident_archive.archive.web import datasette_instance
from incident_archive.testing.azure_site import write_azure_site
from incident_archive.testing.demo import RECORDED, azure_reviews
from incident_archive.testing.news_site import NEWS, write_news_site
from incident_archive.crawl.parsers.articles import extract_article
from incident_archive.testing.replay import serving
from incident_archive.testing.statuspage_site import StatuspageSite
from tests.conftest import FAST, dump, run_cli, write_sources


def test_extraction_prefers_jsonld_then_opengraph_then_markup():
    page = (NEWS / "articles" / "chatgpt-sora-outage.html").read_text().replace("{{base}}", "https://td.example")
    jsonld = extract_article(page, "https://td.example/x")
    assert jsonld.method == "jsonld"
    assert jsonld.title == "ChatGPT and Sora down: OpenAI blames an upstream provider for hours-long outage"
    assert (jsonld.published_at, jsonld.author, jsonld.outlet) == ("2024-12-26T21:30:00Z", "Dana Reyes", "Tech Daily")
    assert jsonld.canonical_url == "https://td.example/articles/chatgpt-sora-outage.html"
    assert jsonld.body.startswith("OpenAI's popular AI platforms, ChatGPT and Sora, experienced a significant outage")
    assert "Share this story" not in jsonld.body and "Related:" not in jsonld.body and "©" not in jsonld.body

    og = extract_article((NEWS / "articles" / "github-actions-down.html").read_text(), "x")
    assert (og.method, og.published_at, og.author, og.outlet) == ("opengraph", "2025-01-13T18:00:00Z", "Sam Okafor", "Tech Daily")
    assert "Newsletter" not in og.body

    plain = extract_article((NEWS / "syndicated" / "chatgpt-sora.html").read_text(), "x")
    assert plain.method == "markup" and plain.published_at == "2024-12-27T02:00:00Z"
    assert plain.title.startswith("ChatGPT and Sora Down") and plain.author == "Cloud Wire staff"


def test_normalized_titles_match_across_outlets():
    assert normalize_title("ChatGPT and Sora Down: OpenAI Blames an Upstream Provider for Hours-Long Outage | Cloud Wire") \
        == normalize_title("ChatGPT and Sora down: OpenAI blames an upstream provider for hours-long outage")


@pytest.fixture
def news_archive(tmp_path):
    statuspage = json.loads((RECORDED / "openai-statuspage-2024-12.json").read_text())
    openai = StatuspageSite(statuspage["page"], statuspage["components"], statuspage["incidents"])
    with serving(openai.write(tmp_path / "openai")) as openai_server, \
            serving(write_azure_site(tmp_path / "azure", azure_reviews())) as azure_server, \
            serving(StatuspageSite({"id": "gh", "name": "GitHub"}, [], []).write(tmp_path / "github")) as github_server, \
            serving(tmp_path / "news") as news_server:
        write_news_site(tmp_path / "news", news_server.base_url)
        sources = write_sources(tmp_path / "sources.toml", [
            {"id": "openai", "kind": "statuspage", "name": "OpenAI", "url": openai_server.base_url},
            {"id": "azure", "kind": "azure", "name": "Microsoft Azure", "url": azure_server.base_url},
            {"id": "github", "kind": "statuspage", "name": "GitHub", "url": github_server.base_url},
            {"id": "techdaily", "kind": "news", "name": "Tech Daily", "url": news_server.base_url + "/techdaily-feed.xml"},
            {"id": "cloudwire", "kind": "news", "name": "Cloud Wire", "url": news_server.base_url + "/cloudwire-feed.xml"},
        ])
        # Lists are written by hand: write_sources knows strings and booleans.
        text = sources.read_text().replace(
            'url = "' + openai_server.base_url + '"',
            'url = "' + openai_server.base_url + '"\naliases = ["ChatGPT", "Sora", "DALL-E"]\ndepends_on = ["azure"]',
        ).replace('name = "Microsoft Azure"', 'name = "Microsoft Azure"\naliases = ["Azure"]')
        sources.write_text(text)
        db_path = tmp_path / "archive.db"
        result = run_cli("crawl", "--db", str(db_path), "--sources", str(sources), *FAST)
        yield db_path, sources, result, news_server


def test_articles_linked_to_the_incidents_they_report(news_archive):
    db_path, _, result, _ = news_archive
    assert result.returncode == 0, result.stdout + result.stderr
    db = sqlite_utils.Database(db_path)
    # The ChatGPT story reached through two feeds and a syndicated copy is one article;
    # the keyboard review is not about an outage.
    titles = sorted(r["title"] for r in db["articles"].rows)
    assert titles == [
        "ChatGPT and Sora down: OpenAI blames an upstream provider for hours-long outage",
        "GitHub Actions outage leaves developers unable to run workflows",
        "Inside the Azure datacenter power failure that took services down",
        "Sora down again on Friday morning",
    ]
    story = next(db["articles"].rows_where("title LIKE 'ChatGPT%'"))
    assert story["extraction"] == "jsonld" and story["canonical_url"].endswith("/articles/chatgpt-sora-outage.html")
    assert sorted(r["source"] for r in db["article_feeds"].rows_where("article_id = ?", [story["id"]])) == [
        "cloudwire", "techdaily"]
    links = {r["incident_id"]: r for r in db["article_incidents"].rows_where("article_id = ?", [story["id"]])}
    assert set(links) == {"openai:6bwlxnvdncnm", "azure:CNF4-N_0"}
    assert "openai:ctrsv3lwd797" not in links
    assert links["openai:6bwlxnvdncnm"]["score"] == 1.0
    assert links["openai:6bwlxnvdncnm"]["reason"].startswith("names OpenAI, ChatGPT, Sora, API; published 2024-12-26T21:30:00Z, during")
    assert links["azure:CNF4-N_0"]["reason"] == (
        "upstream of OpenAI (the article says 'upstream provider'); overlapped openai:6bwlxnvdncnm by 578 min")

    github = next(db["articles"].rows_where("title LIKE 'GitHub%'"))
    assert github["extraction"] == "opengraph" and github["author"] == "Sam Okafor"
    assert db["article_incidents"].count_where("article_id = ?", [github["id"]]) == 0  # news without an incident
    paywalled = next(db["articles"].rows_where("title LIKE 'Inside the Azure%'"))
    assert paywalled["extraction_note"] == "paywalled: the page shows only a teaser"
    assert [r["incident_id"] for r in db["article_incidents"].rows_where("article_id = ?", [paywalled["id"]])] == [
        "azure:CNF4-N_0"]
    missing = next(db["articles"].rows_where("title LIKE 'Sora%'"))
    assert missing["extraction"] == "feed" and "HTTP 404" in missing["extraction_note"]
    assert missing["summary"].startswith("A page that no longer exists")
    # Kept from its feed entry, it still links to the Sora incident of that morning.
    sora = {r["incident_id"]: r["reason"] for r in db["article_incidents"].rows_where("article_id = ?", [missing["id"]])}
    assert "openai:zngc9lgj7gp7" in sora and sora["openai:zngc9lgj7gp7"].startswith("names Sora")
    assert "techdaily    ok" in result.stdout and "cloudwire    ok" in result.stdout


def test_recrawl_changes_nothing_and_articles_are_searchable(news_archive):
    db_path, sources, result, _ = news_archive
    before = dump(db_path)
    again = run_cli("crawl", "--db", str(db_path), "--sources", str(sources), *FAST)
    assert again.returncode == 0
    assert dump(db_path) == before
    db = sqlite_utils.Database(db_path)
    assert db["article_incidents"].count == 5

    ds = datasette_instance(db_path)
    found = asyncio.run(ds.client.get("/archive/articles.json?_search=upstream&_shape=array")).json()
    assert [r["title"][:16] for r in found] == ["ChatGPT and Sora"]
    page = asyncio.run(ds.client.get("/archive/article_incidents?incident_id=openai%3A6bwlxnvdncnm"))
    assert page.status_code == 200
    assert "upstream of OpenAI" not in page.text  # this incident's links are by name, not as an upstream
    assert "names OpenAI, ChatGPT, Sora, API" in page.text
