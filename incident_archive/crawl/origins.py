"""A URL's origin (scheme, host, port): what the offsite check compares."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of a URL, the port made explicit."""
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme)


DEFAULT_PORTS = {"http": 80, "https": 443}
