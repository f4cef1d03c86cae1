"""Words in incident text: which providers and products a text mentions, and whether it
blames an upstream provider or a cause of the provider's own."""

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


# A text that says an upstream provider was at fault (news, or the provider's own updates).
UPSTREAM_WORDS = re.compile(
    r"\b(upstream (?:provider|partner|service|vendor|dependency)s?|cloud provider|third[- ]party (?:provider|vendor|service)"
    r"|hosting provider|infrastructure provider|data ?cent(?:er|re)|power (?:event|failure|outage|incident|loss))\b",
    re.IGNORECASE,
)
# A text that names a cause of the provider's own: a change it made, a system it runs.
INTERNAL_WORDS = re.compile(
    r"\b(telemetry (?:service|system)|(?:a|the) new telemetry|configuration change|config change"
    r"|(?:we|our team) (?:deployed|rolled out|introduced|pushed|shipped)|(?:a|our) (?:recent )?(?:deploy(?:ment)?|rollout|release)"
    r"|code (?:change|push)|a bug in our|kubernetes (?:api|control plane)|our (?:own )?(?:internal )?(?:database|infrastructure) change)\b",
    re.IGNORECASE,
)
