"""Bad input gets one clear line and a distinct exit code, never a traceback, and nothing
archived is touched."""

from __future__ import annotations

import socket

import pytest

from incident_archive.testing.replay import serving
from incident_archive.testing.synthetic import SiteSpec, SyntheticStatuspage
from tests.conftest import FAST, run_cli, write_sources


@pytest.fixture
def sources(tmp_path):
    site = SyntheticStatuspage(SiteSpec("Small", incidents=6, seed=40)).site()
    with serving(site.write(tmp_path / "site")) as server:
        yield write_sources(tmp_path / "s.toml", [{"id": "small", "kind": "statuspage", "name": "Small",
                                                   "url": server.base_url}])


def one_line_error(result, *words):
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and all(word in errors[0] for word in words), result.stderr


def test_an_archive_in_a_missing_directory(tmp_path, sources):
    db = tmp_path / "nowhere" / "a.db"
    one_line_error(run_cli("crawl", "--db", str(db), "--sources", str(sources), *FAST), str(db), "does not exist")
    assert not db.parent.exists()


def test_a_file_that_is_not_sqlite(tmp_path, sources):
    db = tmp_path / "notes.db"
    db.write_text("my notes, not an archive")
    one_line_error(run_cli("crawl", "--db", str(db), "--sources", str(sources), *FAST), "not an SQLite database")
    assert db.read_text() == "my notes, not an archive"


def test_a_damaged_archive(tmp_path, sources):
    db = tmp_path / "a.db"
    run_cli("crawl", "--db", str(db), "--sources", str(sources), *FAST, check_exit=0)
    data = db.read_bytes()
    db.write_bytes(data[:4096] + b"\xff" * 4096 + data[8192:])  # a damaged page after the header's
    one_line_error(run_cli("crawl", "--db", str(db), "--sources", str(sources), *FAST), str(db), "damaged")


def test_serving_an_archive_that_does_not_exist(tmp_path):
    db = tmp_path / "missing.db"
    one_line_error(run_cli("serve", "--db", str(db), "--port", "9"), "no archive there")
    assert not db.exists()


def test_serving_on_a_busy_port(tmp_path, sources):
    db = tmp_path / "a.db"
    run_cli("crawl", "--db", str(db), "--sources", str(sources), *FAST, check_exit=0)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        one_line_error(run_cli("serve", "--db", str(db), "--port", str(port)), f"127.0.0.1:{port}", "--port")


def test_a_damaged_http_cache_is_set_aside_and_rebuilt(tmp_path, sources):
    db = tmp_path / "a.db"
    run_cli("crawl", "--db", str(db), "--sources", str(sources), *FAST, check_exit=0)
    cache = tmp_path / "a.db.httpcache" / "responses.sqlite"
    for suffix in ("-wal", "-shm"):
        (cache.parent / (cache.name + suffix)).unlink(missing_ok=True)
    cache.write_bytes(b"garbage" * 1000)
    again = run_cli("crawl", "--db", str(db), "--sources", str(sources), *FAST)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stdout + again.stderr
    assert "0 new" in again.stdout
    assert list(cache.parent.glob("responses.sqlite.damaged-*"))
    import sqlite_utils

    notes = sqlite_utils.Database(db).execute("SELECT notes FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert "the HTTP cache was damaged" in notes


def test_a_damaged_page_in_the_middle_of_an_archive(tmp_path):
    """A page of the incidents' data damaged, the schema whole: the crawl refuses to write."""
    site = SyntheticStatuspage(SiteSpec("Mid", incidents=200, seed=41)).site()
    with serving(site.write(tmp_path / "site")) as server:
        sources = write_sources(tmp_path / "s.toml", [{"id": "mid", "kind": "statuspage", "name": "Mid",
                                                       "url": server.base_url}])
        db = tmp_path / "a.db"
        run_cli("crawl", "--db", str(db), "--sources", str(sources), *FAST, check_exit=0)
        import sqlite3

        conn = sqlite3.connect(db)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = conn.execute("select pageno from dbstat where name = 'incident_updates' order by pageno "
                            "limit 1 offset 10").fetchone()[0]
        conn.close()
        data = bytearray(db.read_bytes())
        data[(page - 1) * 4096:(page - 1) * 4096 + 200] = b"\x07" * 200
        db.write_bytes(bytes(data))
        before = db.read_bytes()
        one_line_error(run_cli("crawl", "--db", str(db), "--sources", str(sources), *FAST), "damaged")
        assert db.read_bytes() == before
