"""One source's crawl report, kept in the source's own stats: what failed (with a reason a
person can act on), what went differently without failing, what a page said that the
archive did not keep as given, and how many records were skipped. Spiders, middlewares
and the pipeline write to it; the pipeline turns it into the source's crawl_runs row.
"""

from __future__ import annotations


class SourceReport:
    def __init__(self, stats):
        self.stats = stats

    def _list(self, key: str) -> list[str]:
        value = self.stats.get_value(key)
        if value is None:
            value = []
            self.stats.set_value(key, value)
        return value

    # What went wrong, differently or oddly -------------------------------------------

    def failed(self, reason: str) -> None:
        """The source failed: the crawl goes on, the run is recorded as failed."""
        self._list("report/errors").append(reason)

    def noted(self, text: str) -> None:
        """It went differently but did not fail (a fallback endpoint used, say)."""
        self._list("report/notes").append(text)

    def problem(self, text: str) -> None:
        """What a page said that the archive kept without (an absurd time, a repeated id)."""
        self._list("report/problems").append(text)

    def skipped(self, reason: str) -> None:
        """A malformed record or body: skipped, counted and reported as a failure."""
        self.stats.inc_value("report/skipped")
        self.failed(reason)

    def download_failed(self, reason: str) -> None:
        """A download failed, even if the HTTP cache then answered from its last copy."""
        self._list("report/download_failures").append(reason)

    # Reading it ----------------------------------------------------------------------

    @property
    def errors(self) -> list[str]:
        return list(dict.fromkeys(self._list("report/errors")))

    @property
    def notes(self) -> list[str]:
        return list(dict.fromkeys(self._list("report/notes")))

    @property
    def problems(self) -> list[str]:
        return list(dict.fromkeys(self._list("report/problems")))

    @property
    def download_failures(self) -> list[str]:
        return list(dict.fromkeys(self._list("report/download_failures")))

    @property
    def skipped_count(self) -> int:
        return self.stats.get_value("report/skipped", 0)

    def marker(self) -> tuple[int, int]:
        """Where the report stands, to tell whether anything failed since."""
        return len(self._list("report/errors")), self.skipped_count
