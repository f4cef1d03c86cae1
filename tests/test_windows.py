"""Windows stated in prose, resolved to UTC, on texts real pages posted."""

import pytest

from incident_archive.core.windows import find_window


@pytest.mark.parametrize(
    "text, posted_at, start, end",
    [
        # Azure CNF4-N_0, final review: a start date with no year.
        ("Between 18:40 UTC on 26 December and 19:30 UTC on 27 December 2024, multiple Azure services were impacted",
         "2025-01-10T00:00:00Z", "2024-12-26T18:40:00Z", "2024-12-27T19:30:00Z"),
        # The preliminary review of the same event.
        ("Between 18:44 UTC on 26 December and 19:30 UTC on 27 December 2024, multiple Azure services",
         "2024-12-28T00:00:00Z", "2024-12-26T18:44:00Z", "2024-12-27T19:30:00Z"),
        ("This issue occurred from 19:52-20:35 UTC.", "2024-03-05T21:10:00Z",
         "2024-03-05T19:52:00Z", "2024-03-05T20:35:00Z"),
        # Pacific time across midnight UTC, posted after the end.
        ("Between 7:45PM and 10:05PM PST, users saw errors.", "2024-12-12T06:30:00Z",
         "2024-12-12T03:45:00Z", "2024-12-12T06:05:00Z"),
        # OpenAI's write-up of 2024-08-16 (facts/openai_incidentio_era_incident_pages.txt).
        ("On August 16, 2024 from 11:38 AM to 1:16 PM PT, a significant issue impacted the reliability",
         "2024-08-20T00:00:00Z", "2024-08-16T18:38:00Z", "2024-08-16T20:16:00Z"),
        # AWS legacy data.json: a summer window in PDT.
        ("12:53 PM PDT Between 12:15 PM and 12:21 PM PDT we observed connectivity issues",
         "2021-06-24T19:53:13Z", "2021-06-24T19:15:00Z", "2021-06-24T19:21:00Z"),
        # One date at the end applies to both ends (Azure 1LG8-1X0, the demo's review of 2024-10-09).
        ("Between 10:00 UTC and 12:20 UTC on 9 October 2024, customers of Azure Front Door", "2024-11-28T10:00:00Z",
         "2024-10-09T10:00:00Z", "2024-10-09T12:20:00Z"),
        ("Between 23:30 and 02:10 UTC on 15 Oct 2023, requests failed", "2023-10-20T00:00:00Z",
         "2023-10-14T23:30:00Z", "2023-10-15T02:10:00Z"),
        # ICPE raw scrape of OpenAI 2021: "PT" with 24-hour times.
        ("triggering an outage from 13:51 PT to 14:00 PT.", "2021-02-11T22:00:00Z",
         "2021-02-11T21:51:00Z", "2021-02-11T22:00:00Z"),
    ],
)
def test_windows_in_real_wordings(text, posted_at, start, end):
    window = find_window(text, posted_at)
    assert (window.start, window.end) == (start, end)


def test_no_window_in_ordinary_text():
    assert find_window("We are investigating reports of errors from 3 regions.", "2024-01-01T00:00:00Z") is None
    assert find_window("This incident has been resolved.", "2024-01-01T00:00:00Z") is None
    assert find_window(None, None) is None


def test_a_stated_start_without_an_end():
    from incident_archive.core.windows import find_start

    # Azure's banner during CNF4-N_0, and AWS's first post of a 2026 event.
    start = find_start("Impact Statement: Starting at 18:44 UTC on 26 Dec 2024, you have been identified",
                       "2024-12-26T21:00:00Z")
    assert (start.start, start.end) == ("2024-12-26T18:44:00Z", None)
    start = find_start("Starting at 2:12 PM PDT, we began experiencing increased API error rates",
                       "2026-09-03T21:49:58Z")
    assert start.start == "2026-09-03T21:12:00Z"


def test_times_without_a_zone_are_not_guessed():
    # OpenAI's postmortem of 6bwlxnvdncnm: "10:40am" is Pacific time, which it does not say.
    from incident_archive.core.windows import find_start

    assert find_start("Starting at 10:40am on December 26th, 2024, multiple OpenAI products", "2025-01-02T23:31:00Z") is None
    assert find_window("from 11:38 to 13:16, errors", "2024-08-20T00:00:00Z") is None
