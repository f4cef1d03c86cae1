"""What is wrong with an archive file before anything opens it, in one line a person can
act on: a directory that does not exist, a file that is not SQLite, one that cannot be
written, one that is not there to serve."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"


class ArchiveProblem(ValueError):
    """An archive file that cannot be used as asked, and why."""


def check_archive(db_path: str | Path, writing: bool = True, must_exist: bool = False) -> None:
    """Raise ArchiveProblem naming the file and the problem, or return."""
    path = Path(db_path)
    if not path.parent.is_dir():
        raise ArchiveProblem(f"{path}: the directory {path.parent} does not exist")
    if not path.exists():
        if must_exist:
            raise ArchiveProblem(f"{path}: no archive there (run 'incident-archive crawl --db {path}' first, "
                                 "or 'make demo')")
        if writing and not os.access(path.parent, os.W_OK):
            raise ArchiveProblem(f"{path}: the directory {path.parent} is read-only")
        return
    if path.is_dir():
        raise ArchiveProblem(f"{path}: is a directory, not an archive file")
    with open(path, "rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise ArchiveProblem(f"{path}: not an SQLite database (is it the right file?)")
    if writing and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        raise ArchiveProblem(f"{path}: read-only (the file or its directory cannot be written)")


def describe_database_error(db_path: str | Path, error: sqlite3.Error) -> str:
    """A SQLite error met while using the archive, as one line."""
    text = str(error)
    if "disk is full" in text or "database or disk is full" in text:
        return f"{db_path}: the disk is full; free some space and crawl again (nothing archived is lost)"
    if "malformed" in text or "not a database" in text:
        return f"{db_path}: the archive is damaged ({text}); restore a copy, or check it with sqlite3's .recover"
    if "readonly" in text or "read-only" in text:
        return f"{db_path}: read-only ({text})"
    return f"{db_path}: {text}"


def check_integrity(db_path: str | Path) -> None:
    """A damaged page anywhere in the archive (a disk fault, a copy cut short): refuse to
    write into it. ``quick_check`` reads every page once, without the index checks."""
    conn = sqlite3.connect(f"file:{Path(db_path).resolve()}?mode=ro", uri=True)
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.DatabaseError as error:
        problems = [str(error)]
    finally:
        conn.close()
    if problems != ["ok"]:
        raise ArchiveProblem(f"{db_path}: the archive is damaged ({'; '.join(problems)}); restore a copy, "
                             "or recover it with sqlite3's .recover")
