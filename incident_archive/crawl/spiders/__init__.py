"""One spider per source kind; the sources file names the kind (see core/kinds.py)."""

from importlib import import_module

from incident_archive.core.kinds import KINDS


def spider_for(kind: str) -> type:
    """The spider class that crawls sources of ``kind``."""
    module, _, name = KINDS[kind].spider.partition(":")
    return getattr(import_module(module), name)
