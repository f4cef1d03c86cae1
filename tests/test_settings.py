"""The crawl's settings: each crawler's copy is whole and independent of the others."""

from incident_archive.crawl.runner import crawl_settings


def test_a_crawlers_copy_of_the_settings_is_equal_and_independent(tmp_path):
    settings = crawl_settings(tmp_path / "a.db", {"CONCURRENT_REQUESTS": "7"})
    copy = settings.copy()
    assert copy.copy_to_dict() == settings.copy_to_dict()
    assert copy.getpriority("CONCURRENT_REQUESTS") == settings.getpriority("CONCURRENT_REQUESTS") == 40
    copy.set("ARCHIVE_DB", "elsewhere.db", priority="cmdline")
    copy["DOWNLOADER_MIDDLEWARES"]["example.Middleware"] = 1
    assert settings["ARCHIVE_DB"] == str((tmp_path / "a.db").resolve())
    assert "example.Middleware" not in settings["DOWNLOADER_MIDDLEWARES"]


def test_settings_that_cannot_be_pickled_are_still_copied(tmp_path):
    settings = crawl_settings(tmp_path / "a.db", {"MAKE_REQUEST": lambda: "made"})
    assert settings.copy()["MAKE_REQUEST"]() == "made"
