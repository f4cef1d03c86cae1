"""A walk back through a paginated history, and where it stands at every moment.

Status pages list their history a page (or a month) at a time, newest first. A walk
asks for one page after another; a page is *done* once every request it led to (the
incidents it listed that the archive lacks) has been archived. The resume point is the
first page not done, so a walk cut short by anything (an HTTP error, a parse error, a
signal, a kill) goes on from there on the next crawl. The walk is bounded: a page that
repeats an earlier one, or more pages than ``max_pages``, stops it with a named problem.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import datetime, timezone

from incident_archive.core.items import WalkState


class HistoryWalk:
    def __init__(
        self,
        state: WalkState,
        next_page: Callable[[Hashable], Hashable],
        max_pages: int,
        quiet_pages: int | None = None,
    ):
        self.state = state
        self.next_page = next_page
        self.max_pages = max_pages
        self.quiet_pages = quiet_pages
        self.active = False
        self.order: list[Hashable] = []
        self.pending: dict[Hashable, set[str]] = {}
        self.failed: set[Hashable] = set()
        self.requested: set[str] = set()
        self.signatures: dict[tuple, Hashable] = {}
        self.quiet_in_a_row = 0
        self.ended_at: Hashable | None = None  # the last page the walk needs
        self.reached_end = False
        self.problem: str | None = None
        self.emitted: WalkState | None = None

    # Starting ------------------------------------------------------------------------

    @property
    def covered_until(self) -> str | None:
        return self.state.covered_until

    def begin(self, top_month: str, first_page: Hashable) -> WalkState:
        """A new walk from the newest page: recorded as unfinished before anything it finds."""
        self.active = True
        self.state = replace(self.state, open_top=top_month, resume_at=str(first_page), stopped=None)
        return self._emit()

    def resume(self) -> WalkState:
        """Go on with the unfinished walk the archive recorded."""
        self.active = True
        return self.state

    def cover(self, newest_month: str) -> WalkState | None:
        """No walk needed: what the page lists reaches the gap-free stretch, which now
        extends to its newest month."""
        if self.state.covered_until and newest_month > self.state.covered_until:
            self.state = replace(self.state, covered_until=newest_month)
            return self._emit()
        return None

    # Pages ---------------------------------------------------------------------------

    def listed(self, page: Hashable, months: list[str], codes: list[str], has_months: bool = True) -> bool:
        """Record a page's listing; returns whether the walk goes on to the next page.

        ``months`` are the months (``YYYY-MM``) the page covers, ``codes`` the incidents
        it lists; a page without months (``has_months`` False) is past the end.
        """
        self.order.append(page)
        self.pending.setdefault(page, set())
        if not has_months:
            return self.end(page, reached_end=True)
        signature = (tuple(months), tuple(codes))
        if (months or codes) and signature in self.signatures:
            return self._stop(page, f"history page {page} repeats page {self.signatures[signature]}")
        self.signatures[signature] = page
        self.quiet_in_a_row = 0 if codes else self.quiet_in_a_row + 1
        if self.quiet_pages and self.quiet_in_a_row >= self.quiet_pages:
            return self.end(page, reached_end=True)
        # Months are coarse: the walk goes on until it is wholly past the covered month.
        oldest = min(months) if months else None
        if self.state.covered_until and oldest and oldest < self.state.covered_until:
            return self.end(page, reached_end=False)
        if len(self.order) >= self.max_pages:
            self.problem = f"the history walk stopped after {self.max_pages} pages (ARCHIVE_MAX_PAGES); the next crawl goes on"
            self.ended_at = None
            return False
        return True

    def wants(self, page: Hashable, code: str) -> bool:
        """Whether to ask for ``code`` as part of ``page`` (each once per walk)."""
        if code in self.requested:
            return False
        self.requested.add(code)
        self.pending[page].add(code)
        return True

    def fetched(self, page: Hashable, code: str) -> WalkState | None:
        self.pending.get(page, set()).discard(code)
        return self.checkpoint()

    def page_failed(self, page: Hashable) -> None:
        """The page, or a request it led to, failed: the walk resumes there next time."""
        if page not in self.pending:
            self.order.append(page)
            self.pending[page] = set()
        self.failed.add(page)

    def end(self, page: Hashable, reached_end: bool) -> bool:
        """``page`` is the walk's last: the end of the history, or the stretch walked before."""
        self.ended_at = page
        self.reached_end = reached_end
        return False

    def _stop(self, page: Hashable, problem: str) -> bool:
        self.problem = problem
        self.failed.add(page)
        return False

    # Where it stands ---------------------------------------------------------------

    def _resume_point(self) -> Hashable | None:
        """The first page not done; None once every page to the walk's end is done."""
        for page in self.order:
            if page in self.failed or self.pending.get(page):
                return page
        if self.ended_at is not None:
            return None
        return self.next_page(self.order[-1]) if self.order else self.state.resume_at

    def current(self) -> WalkState:
        if not self.active:
            return self.state
        resume = self._resume_point()
        if resume is None:
            state = replace(
                self.state,
                covered_until=max(filter(None, [self.state.covered_until, self.state.open_top]), default=None),
                open_top=None,
                resume_at=None,
                reached_end=self.state.reached_end or self.reached_end,
                stopped=None,
                pages=len(self.order),
            )
        else:
            state = replace(self.state, resume_at=str(resume), stopped=self.problem, pages=len(self.order))
        return state

    def checkpoint(self) -> WalkState | None:
        """The state to record, when the resume point moved since the last one recorded."""
        state = self.current()
        if self.emitted is None or (state.resume_at, state.open_top) != (self.emitted.resume_at, self.emitted.open_top):
            self.state = state if state.open_top is None else self.state
            return self._emit(state)
        return None

    def _emit(self, state: WalkState | None = None) -> WalkState:
        self.emitted = state or self.state
        return self.emitted

    @property
    def complete(self) -> bool:
        return self.active and self._resume_point() is None


def month_of(iso_time: str | None) -> str | None:
    """``2024-12-26T19:00:00Z`` -> ``2024-12``."""
    return iso_time[:7] if iso_time and len(iso_time) >= 7 else None


def this_month() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m")
