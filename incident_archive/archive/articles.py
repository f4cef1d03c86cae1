"""Writing news articles: one row per article however many feeds carry it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from incident_archive.archive.identity import normalize_title
from incident_archive.archive.writing import Writer
from incident_archive.core.items import ArticleItem
from incident_archive.core.times import utc_now


class ArticleWriter(Writer):
    def save_article(self, item: ArticleItem, seen_at: str | None = None) -> str:
        """Store an article once, however many feeds carry it: the same canonical URL, or
        failing that the same normalized title within three days, is the same article.
        Returns ``"new"``, ``"updated"`` or ``"unchanged"``."""
        seen_at = seen_at or utc_now()
        normalized = normalize_title(item.title)
        existing = self._first(
            "SELECT * FROM articles WHERE canonical_url = ?", [item.canonical_url]
        ) or self._first(
            """SELECT * FROM articles WHERE normalized_title = ?
               AND (published_at IS NULL OR ? IS NULL OR abs(julianday(published_at) - julianday(?)) <= 3)""",
            [normalized, item.published_at, item.published_at],
        )
        content = {k: v for k, v in asdict(item).items() if k not in ("source", "fresh")}
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        article_id = existing["id"] if existing else hashlib.sha1(item.canonical_url.encode()).hexdigest()[:16]
        feed = {"article_id": article_id, "source": item.source, "entry_url": item.url}
        if existing and (existing["content_hash"] == digest or self._worse_copy(existing, item)):
            if self._first("SELECT 1 FROM article_feeds WHERE article_id = ? AND source = ?", [article_id, item.source]):
                return "unchanged"
            with self.db.atomic():
                self.db["article_feeds"].insert(feed | {"first_seen_at": seen_at})
            return "updated"
        record = {
            "id": article_id,
            "canonical_url": item.canonical_url,
            "url": item.url,
            "title": item.title,
            "normalized_title": normalized,
            "published_at": item.published_at,
            "author": item.author,
            "outlet": item.outlet,
            "summary": item.summary,
            "body": item.body,
            "extraction": item.extraction,
            "extraction_note": item.extraction_note,
            "first_seen_at": existing["first_seen_at"] if existing else seen_at,
            "content_hash": digest,
        }
        with self.db.atomic():
            if existing:
                self.db["articles"].update(article_id, record)
            else:
                self.db["articles"].insert(record)
            self.db["article_feeds"].insert(feed | {"first_seen_at": seen_at}, ignore=True)
        return "updated" if existing else "new"

    # How much of an article each way of reading it gets, best first.
    EXTRACTION_RANK = {"jsonld": 0, "opengraph": 1, "markup": 2, "feed": 3}

    @classmethod
    def _worse_copy(cls, existing: dict, item: ArticleItem) -> bool:
        """A copy read less fully (a syndicated page's bare markup, a feed entry alone)
        never replaces an article read more fully; the better copy takes over."""
        rank = cls.EXTRACTION_RANK
        return rank.get(item.extraction, 9) > rank.get(existing["extraction"], 9)
