"""Typed items: what every parser produces, whatever the source format.

Parsers fill these in the archive's own terms (UTC ``Z`` times, the common impact
scale) so the pipeline only stores them; it never needs to know where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The one impact scale of the archive. Every source's own word is kept beside it.
IMPACTS = ("none", "minor", "major", "critical", "maintenance")


@dataclass
class ComponentItem:
    """A component (service, product, region group) as the source lists it."""

    source: str
    native_id: str
    name: str
    status: str | None = None
    group_name: str | None = None
    description: str | None = None
    position: int | None = None


@dataclass
class UpdateItem:
    """One posted update of an incident: its status at the time and its text."""

    native_id: str
    status: str | None
    body: str | None
    posted_at: str | None


@dataclass
class ComponentImpactItem:
    """How one component was affected, and when (incident.io publishes these windows)."""

    component_native_id: str
    status: str | None
    start_at: str | None
    end_at: str | None


@dataclass
class RegionItem:
    """A region or location an incident affected (``us-east-1``, ``South Central US``)."""

    native_id: str
    name: str


@dataclass
class IncidentItem:
    """An incident with every update the response carried and the components it touched.

    ``fresh`` is False when the body came from a revalidated cache entry (HTTP 304):
    the pipeline still stores anything it lacks, but does not count the incident as
    seen again.
    """

    source: str
    native_id: str
    title: str
    impact: str
    impact_raw: str | None
    status: str | None
    started_at: str | None
    resolved_at: str | None
    created_at: str | None = None
    updated_at: str | None = None
    url: str | None = None
    started_at_basis: str | None = None
    updates: list[UpdateItem] = field(default_factory=list)
    components: list[ComponentItem] = field(default_factory=list)
    component_impacts: list[ComponentImpactItem] = field(default_factory=list)
    regions: list[RegionItem] = field(default_factory=list)
    fresh: bool = True
    # True when read from a lesser format (a feed without impact or components): it may
    # add what the archive lacks, never replace a fuller record.
    partial: bool = False
    # True when read from a compatibility endpoint (incident.io's Statuspage shim), which
    # understates impact and has no start of its own: it may add updates, advance the
    # status or raise the impact, never replace what the native format gave.
    shim_copy: bool = False

    def __post_init__(self) -> None:
        if self.impact not in IMPACTS:
            raise ValueError(f"impact {self.impact!r} is not one of {IMPACTS}")


@dataclass
class SourceStatusItem:
    """The page-wide status a summary reports (``All Systems Operational``)."""

    source: str
    indicator: str | None
    description: str | None
    page_name: str | None = None
    page_time_zone: str | None = None


@dataclass
class ArticleItem:
    """A news article about an outage, as extracted from its page (or its feed entry).

    ``extraction`` says where the fields came from (``jsonld``, ``opengraph``,
    ``markup``) or, when the page could not be read, ``feed`` with the reason in
    ``extraction_note``.
    """

    source: str
    url: str
    canonical_url: str
    title: str
    published_at: str | None
    author: str | None
    outlet: str | None
    summary: str | None
    body: str | None
    extraction: str
    extraction_note: str | None = None
    fresh: bool = True


@dataclass
class WalkState:
    """Where a source's walk back through its paginated history stands.

    A walk goes from the newest page (or month) to the oldest. ``covered_until`` is
    the newest month (``YYYY-MM``) of the stretch archived without a gap down to the end
    of the history; a walk stops once it reaches it. ``open_top`` is the month an
    unfinished walk started from, and ``resume_at`` the page or month where it goes on:
    the next crawl resumes there before it trusts what the archive already has.
    """

    source: str
    walk: str
    covered_until: str | None = None
    open_top: str | None = None
    resume_at: str | None = None
    reached_end: bool = False
    stopped: str | None = None
    pages: int = 0

    @property
    def unfinished(self) -> bool:
        return self.open_top is not None


@dataclass
class ListingItem:
    """The ids a response that lists every incident since ``since`` gave (Statuspage's 50
    newest, a rolling window): an archived incident of that stretch it lacks was removed."""

    source: str
    native_ids: list[str]
    since: str


@dataclass
class BodySeen:
    """A response body whose items the archive has taken in: the same body again (from a
    page that sends no validators) need not be parsed or written."""

    source: str
    url: str
    digest: str
