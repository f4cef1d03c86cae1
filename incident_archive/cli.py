"""The ``incident-archive`` command: crawl, serve, demo.

Other tools depend on this contract: ``crawl`` prints one line per source and exits 0
only when every source succeeded, 1 when any failed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click
import yaml

from incident_archive.archive.checks import ArchiveProblem, check_archive, check_integrity, describe_database_error
from incident_archive.archive.lock import ArchiveBusy, exclusive
from incident_archive.core.sources import SourcesError, load_notify, load_sources, select_sources, toml_value

DEFAULT_DB = "archive.db"
# Exit codes: 0 every source ok, 1 a source failed or the archive cannot be used, 2 a
# usage error (click's), 75 another crawl holds the archive (EX_TEMPFAIL: try again
# later), 130 / 143 stopped by SIGINT / SIGTERM.
EXIT_BUSY = 75


def parse_setting(values: tuple[str, ...]) -> dict:
    overrides = {}
    for value in values:
        name, sep, setting = value.partition("=")
        if not sep:
            raise click.BadParameter(f"{value!r} should be NAME=VALUE", param_hint="--setting")
        overrides[name] = setting
    return overrides


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def format_run(row: dict, width: int = 12) -> str:
    """One line per source: what the crawl did, or why it failed."""
    source = f"{row['source']:<{width}}"
    if row.get("outcome") == "ok" and row.get("kind") == "news":
        return (
            f"{source} ok      {row['articles_new']} new, {row['articles_updated']} updated, "
            f"{row['articles_unchanged']} unchanged articles ({plural(row['requests'], 'request')}, "
            f"{row['responses_not_modified']} not modified)"
        )
    if row.get("outcome") == "ok":
        removed = f", {row['incidents_removed']} removed" if row.get("incidents_removed") else ""
        problems = f"; page problems: {row['problems']}" if row.get("problems") else ""
        return (
            f"{source} ok      {row['incidents_new']} new, {row['incidents_updated']} updated, "
            f"{row['incidents_unchanged']} unchanged{removed} incidents; {row['updates_new']} new updates "
            f"({plural(row['requests'], 'request')}, {row['responses_not_modified']} not modified){problems}"
        )
    if row.get("outcome") == "interrupted":
        return f"{source} STOPPED {row.get('error') or 'interrupted'}"
    counts = ""
    if row.get("incidents_new") is not None:
        counts = f" [{row['incidents_new']} new, {row['incidents_updated']} updated, {row['items_skipped']} skipped]"
    return f"{source} FAILED  {row.get('error') or 'no reason recorded'}{counts}"


@click.group()
@click.version_option(package_name="incident-archive")
def cli():
    """Archive status-page incidents into SQLite and publish them with Datasette."""


@cli.command()
@click.argument("source_ids", nargs=-1)
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file (created or upgraded).")
@click.option("--sources", "sources_file", type=click.Path(dir_okay=False), help="Sources TOML (default: shipped list).")
@click.option("--setting", "-s", "settings", multiple=True, help="Scrapy setting override, NAME=VALUE.")
@click.option("--verbose", "-v", is_flag=True, help="Show Scrapy's own log.")
@click.option("--wait", "wait_seconds", type=float, default=0, help="Wait this long for another crawl to finish.")
@click.option("--under-watch", is_flag=True, hidden=True, help="A poll of the watch service, which holds the lock.")
def crawl(source_ids, db_path, sources_file, settings, verbose, wait_seconds, under_watch):
    """Crawl every source in the sources file (or only SOURCE_IDS) into the archive."""
    from incident_archive.crawl.runner import run_crawl

    try:
        all_sources = load_sources(sources_file)
        sources = select_sources(all_sources, list(source_ids))
    except SourcesError as error:
        raise click.ClickException(str(error)) from None
    overrides = parse_setting(settings)
    if verbose:
        overrides.setdefault("LOG_LEVEL", "INFO")
    from incident_archive.crawl.runner import CrawlInterrupted

    usable(db_path)
    stopped_by = None
    try:
        with contextlib.nullcontext() if under_watch else exclusive(db_path, wait_seconds):
            if Path(db_path).exists() and not under_watch:  # the service checked it when it started
                check_integrity(db_path)
            click.echo(f"Crawling {len(sources)} source(s) into {db_path}", err=True)
            # Under watch each source's line is printed as it ends: the service reschedules
            # it then, not when the last source of the poll ends.
            printed = (lambda row: click.echo(format_run(row))) if under_watch else None
            rows = run_crawl(sources, db_path, overrides, all_sources, printed)
    except ArchiveBusy as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_BUSY)
    except CrawlInterrupted as interrupted:
        rows, stopped_by = interrupted.rows, interrupted.signum
    except sqlite3.Error as error:
        raise click.ClickException(describe_database_error(db_path, error)) from None
    except ArchiveProblem as problem:
        raise click.ClickException(str(problem)) from None
    width = max([12, *(len(row["source"]) + 1 for row in rows)])
    for row in rows if not under_watch else ():
        click.echo(format_run(row, width))
    if stopped_by is not None:
        click.echo(f"Stopped by {signal.Signals(stopped_by).name}: what was fetched is archived; "
                   "the next crawl goes on from there.", err=True)
        sys.exit(128 + stopped_by)  # the shell's convention: 130 for SIGINT, 143 for SIGTERM
    sys.exit(0 if all(row.get("outcome") == "ok" for row in rows) else 1)


@cli.command()
@click.argument("source_ids", nargs=-1)
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, help="Archive file (created or upgraded).")
@click.option("--sources", "sources_file", type=click.Path(dir_okay=False), help="Sources TOML (default: shipped list).")
@click.option("--every", "every", default="5m", show_default=True,
              help="How often to poll a source that sets no 'every' of its own (30s, 5m, 1h).")
@click.option("--serve", "serve_too", is_flag=True, help="Serve the archive with Datasette while polling.")
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--for", "run_for", default=None, help="Stop after this long (a duration); default: until stopped.")
@click.option("--setting", "-s", "settings", multiple=True, help="Scrapy setting override for every poll, NAME=VALUE.")
def watch(source_ids, db_path, sources_file, every, serve_too, port, run_for, settings):
    """Keep the archive current: poll every source at its own interval until stopped
    (SIGTERM or Ctrl-C: the poll in flight writes what it fetched)."""
    from incident_archive.archive.store import open_archive
    from incident_archive.core.sources import duration_seconds
    from incident_archive.watch import Watcher, serve_beside

    try:
        all_sources = load_sources(sources_file)
        sources = select_sources(all_sources, list(source_ids))
        targets = load_notify(sources_file, {s.id for s in all_sources})
        every_s = duration_seconds(every)
        until = time.time() + duration_seconds(run_for) if run_for else None
    except (SourcesError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    usable(db_path)
    parse_setting(settings)
    try:
        open_archive(db_path).close()
    except sqlite3.Error as error:
        raise click.ClickException(describe_database_error(db_path, error)) from None
    server = None
    if serve_too:
        port_is_free("127.0.0.1", port)
    watcher = Watcher(db_path, sources_file, sources, every_s,
                      tuple(arg for value in settings for arg in ("--setting", value)), until,
                      out=lambda line: click.echo(line), targets=targets)
    try:
        # The service is the archive's one writer while it runs; its polls run side by side.
        with exclusive(db_path):
            check_integrity(db_path)
            if serve_too:
                server = serve_beside(db_path, port)
            click.echo(f"Watching {len(sources)} source(s) into {db_path}; SIGTERM or Ctrl-C stops.", err=True)
            code = watcher.run()
    except ArchiveBusy as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_BUSY)
    except ArchiveProblem as problem:
        raise click.ClickException(str(problem)) from None
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    if code:
        click.echo(f"Stopped by {signal.Signals(code - 128).name}.", err=True)
    sys.exit(code)


@cli.command("import-research")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
def import_research(paths, db_path):
    """Import published research datasets (the ICPE 2025 raw scrapes and uptime files,
    the FAILS table) into the archive, merging with what the spiders found."""
    from incident_archive.importers.research import import_paths

    with exclusive(db_path):
        counts = import_paths([Path(p) for p in paths], db_path)
    click.echo(
        f"research: {counts['new']} new, {counts['updated']} updated, {counts['unchanged']} unchanged incidents; "
        f"{counts['updates_new']} new updates; {counts['days']} service-days of outage minutes"
    )


def usable(db_path: str, writing: bool = True, must_exist: bool = False) -> None:
    """Stop with one line if the archive file cannot be used as asked."""
    try:
        check_archive(db_path, writing=writing, must_exist=must_exist)
    except ArchiveProblem as problem:
        raise click.ClickException(str(problem)) from None


def port_is_free(host: str, port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: TIME_WAIT is free
        try:
            probe.bind((host, port))
        except OSError as error:
            raise click.ClickException(
                f"cannot serve on {host}:{port} ({error.strerror}); choose another port with --port N "
                "(make run PORT=N)") from None


def exec_datasette(db_path: str, host: str, port: int, public: bool = False) -> None:
    """Replace this process with Datasette serving the archive."""
    args = datasette_command(db_path, host, port, public)
    os.execv(sys.executable, args)


def datasette_command(db_path: str, host: str, port: int, public: bool = False) -> list[str]:
    """The command that serves the archive with Datasette, its metadata and plugins."""
    from incident_archive.archive.store import open_archive
    from incident_archive.archive.web import load_metadata, serve_arguments

    port_is_free(host, port)
    try:
        open_archive(db_path).close()  # upgrade it, so an older archive serves
    except sqlite3.Error as error:
        raise click.ClickException(describe_database_error(db_path, error)) from None
    metadata_file = Path(tempfile.gettempdir()) / f"incident-archive-metadata-{os.getpid()}.yaml"
    metadata_file.write_text(yaml.safe_dump(load_metadata(db_path, public), sort_keys=False), encoding="utf-8")
    click.echo(f"Serving {db_path} at http://{host}:{port}/", err=True)
    return [sys.executable, "-m", "datasette", *serve_arguments(db_path, metadata_file, host, port)]


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--public", is_flag=True,
              help="For a server others reach: no arbitrary SQL (tables, views, canned queries and exports stay).")
def serve(db_path, host, port, public):
    """Serve the archive with Datasette, its metadata and its plugins."""
    usable(db_path, must_exist=True)
    exec_datasette(db_path, host, port, public)


@cli.command()
@click.option("--db", "db_path", default="demo.db", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--replay-port", default=8002, show_default=True, type=int,
              help="Where the recorded sites are served: fixed, so a second demo changes no row.")
@click.option("--no-serve", is_flag=True, help="Crawl the recorded sites and stop.")
@click.option("--research", "research_paths", multiple=True, type=click.Path(exists=True),
              help="Import these research datasets first (as import-research does), for years of history.")
def demo(db_path, port, replay_port, no_serve, research_paths):
    """Crawl the project's recorded status pages from a local server, then serve them.

    Needs no network: a newcomer sees a populated archive in a minute. With
    ``--research``, the ICPE 2025 dataset is imported first, so the dashboards show
    2021-2024 history and OpenAI's republished incidents link to their Statuspage records.
    The recorded sites stay served while Datasette serves, so the archive's links to
    them work.
    """
    from incident_archive.testing.demo import write_demo_news, write_demo_sites
    from incident_archive.testing.replay import serving

    usable(db_path)
    if research_paths:
        from incident_archive.importers.research import import_paths

        with exclusive(db_path):
            counts = import_paths([Path(p) for p in research_paths], db_path)
        click.echo(f"research: {counts['new']} new incidents, {counts['days']} service-days of outage minutes")

    if not no_serve:
        port_is_free("127.0.0.1", port)
    port_is_free("127.0.0.1", replay_port)
    with tempfile.TemporaryDirectory(prefix="incident-archive-demo-") as folder:
        folder = Path(folder)
        sites = write_demo_sites(folder / "sites")
        with serving(folder / "sites", port=replay_port) as server:
            write_demo_news(folder / "sites", server.base_url)
            lines = ["# Recorded demo sites, served from a local replay server"]
            for site in sites:
                lines += [
                    "[[sources]]",
                    f'id = "{site.id}"',
                    f'kind = "{site.kind}"',
                    f'name = "{site.name}"',
                    f'url = "{server.base_url}/{site.folder}"',
                    *(f"{key} = {toml_value(value)}" for key, value in site.options.items()),
                    "",
                ]
            sources_file = folder / "sources.toml"
            sources_file.write_text("\n".join(lines), encoding="utf-8")
            result = subprocess.run(
                [sys.executable, "-m", "incident_archive.cli", "crawl", "--db", db_path, "--sources", str(sources_file),
                 "--setting", "AUTOTHROTTLE_ENABLED=False", "--setting", "ROBOTSTXT_OBEY=False"],
                check=False,
            )
            if result.returncode != 0:
                click.echo("The demo crawl reported failures (see above).", err=True)
            if not no_serve:
                click.echo(f"The recorded sites stay served at {server.base_url} while the demo runs; "
                           "Ctrl-C stops both.", err=True)
                with contextlib.suppress(KeyboardInterrupt):
                    subprocess.run(datasette_command(db_path, "127.0.0.1", port), check=False)


if __name__ == "__main__":
    cli()
