"""Whole-word matching of names in text: which providers and products a text mentions."""

from __future__ import annotations

import re


def mentioned(text: str, names: list[str]) -> list[str]:
    """The names (providers, products) the text mentions, as whole words."""
    return [n for n in names if n and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text, re.IGNORECASE)]


def web_url(url: str | None) -> str | None:
    """``url`` if it is an http(s) address, else None: a ``javascript:`` or ``data:`` link
    from a page is never stored as a link, nor published in the feed."""
    if not url or not isinstance(url, str):
        return None
    scheme = url.strip().split(":", 1)[0].lower()
    return url.strip() if scheme in ("http", "https") and "://" in url else None
