from incident_archive.core.times import seconds_between, to_utc_iso


def test_offsets_become_utc_with_z():
    assert to_utc_iso("2019-02-20T12:00:19.418-06:00") == "2019-02-20T18:00:19Z"
    assert to_utc_iso("2022-08-16T13:38:19.282Z") == "2022-08-16T13:38:19Z"


def test_zone_abbreviations_printed_by_status_pages():
    # Winter: PST is UTC-8; summer: PDT is UTC-7.
    assert to_utc_iso("Feb 11, 2021 - 14:00 PST") == "2021-02-11T22:00:00Z"
    assert to_utc_iso("Jul 11, 2023 - 14:00 PDT") == "2023-07-11T21:00:00Z"


def test_naive_times_are_taken_as_utc_and_empty_stays_empty():
    assert to_utc_iso("2024-12-26 19:00") == "2024-12-26T19:00:00Z"
    assert to_utc_iso(None) is None
    assert to_utc_iso("") is None


def test_seconds_between():
    assert seconds_between("2024-12-26T19:00:00Z", "2024-12-27T04:38:00Z") == 9 * 3600 + 38 * 60
    assert seconds_between("2024-12-26T19:00:00Z", None) is None
