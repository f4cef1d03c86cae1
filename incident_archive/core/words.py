"""Whole-word matching of names in text: which providers and products a text mentions."""

from __future__ import annotations

import re


def mentioned(text: str, names: list[str]) -> list[str]:
    """The names (providers, products) the text mentions, as whole words."""
    return [n for n in names if n and re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text, re.IGNORECASE)]
