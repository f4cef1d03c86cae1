"""The watch service: polls every source at its own interval and keeps the archive current.

Each poll is the incremental crawl the ``crawl`` command makes (conditional requests,
only what is new or open, the walk state), run as a child process for the sources that
are due together, so a poll that fails or hangs never takes the service down, and the archive's
crawl lock keeps polls from overlapping a crawl started by hand. A source that fails is
polled again later and later (its interval doubled per failure, capped); a little
jitter keeps sources from firing together. SIGTERM or SIGINT ends the poll in flight
cleanly (the child writes what it fetched) and the service exits 143 or 130.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from incident_archive.alerts import send_due
from incident_archive.core.sources import NotifyTarget, Source

DEFAULT_EVERY_S = 300
BACKOFF_CAP_S = 3600
JITTER = 0.1  # each wait is its interval, give or take a tenth


@dataclass
class Schedule:
    """When each source is due next, and how many polls in a row it has failed."""

    every_s: dict[str, int]
    due_at: dict[str, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def start(self, now: float) -> None:
        for source, every in self.every_s.items():  # spread the first polls over a tenth of each interval
            self.due_at[source] = now + self.rng.uniform(0, JITTER) * min(every, 60)

    def due(self, now: float) -> list[str]:
        """The sources due now, the longest overdue first (none waits behind the others)."""
        return sorted((source for source, at in self.due_at.items() if at <= now), key=lambda s: self.due_at[s])

    def polled(self, source: str, ok: bool, now: float) -> float:
        """Schedule the next poll after one that succeeded or failed; returns the wait."""
        self.failures[source] = 0 if ok else self.failures.get(source, 0) + 1
        wait = min(self.every_s[source] * 2 ** self.failures[source], max(BACKOFF_CAP_S, self.every_s[source]))
        wait *= 1 + self.rng.uniform(-JITTER, JITTER)
        self.due_at[source] = now + wait
        return wait


class Poll:
    """One child process polling a batch of sources; its output file is read as it grows,
    so each source is rescheduled as soon as its own line appears."""

    def __init__(self, command: list[str], sources: list[str]):
        self.sources = set(sources)
        # Output goes to a file (a pipe left unread could fill and stall the child); a
        # session of its own: a Ctrl-C at the terminal reaches the poll once, through stop().
        self.log = tempfile.TemporaryFile("w+b")
        self.child = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.read_to = 0
        self.last_line = ""

    def new_lines(self) -> list[str]:
        """Whole lines written since the last look."""
        self.log.seek(self.read_to)
        data = self.log.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.read_to += len(complete)
        lines = complete.decode(errors="replace").splitlines()
        self.last_line = next((line for line in reversed(lines) if line.strip()), self.last_line)
        return lines


class Watcher:
    """Runs the polls of a Schedule until told to stop (a signal, or ``until``).

    The sources due at one moment are polled together by one child process (one Scrapy
    crawler for all of them, each host with its own politeness), a few children at
    once, so the interpreter's start-up is paid per batch, not per source. A slow or
    failing source never delays the others: each is rescheduled as its own line appears,
    and sources due meanwhile go to another child. SQLite takes the children's short
    transactions one at a time.
    """

    MAX_POLLS_AT_ONCE = 4
    MAX_SOURCES_PER_POLL = 1000

    def __init__(self, db_path: str, sources_file: str | None, sources: list[Source], every_s: int,
                 settings: tuple[str, ...] = (), until: float | None = None, out=print,
                 targets: list[NotifyTarget] = ()):
        self.db_path = db_path
        self.alerts = Alerter(db_path, list(targets), out) if targets else None
        self.sources_file = sources_file
        self.schedule = Schedule({s.id: s.options.get("every_s") or every_s for s in sources})
        self.settings = settings
        self.until = until
        self.out = out
        self.stopped_by: int | None = None
        self.polls: list[Poll] = []

    def stop(self, signum, _frame=None) -> None:
        second = self.stopped_by is not None
        self.stopped_by = self.stopped_by or signum
        for poll in self.polls:
            if poll.child.poll() is None:
                # The first signal: each poll writes what it fetched and stops; a second: at once.
                poll.child.kill() if second else poll.child.send_signal(signum)

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        if self.alerts:
            self.alerts.start()
        try:
            self.schedule.start(time.time())
            while self.stopped_by is None and (self.until is None or time.time() < self.until):
                self.collect()
                due = self.schedule.due(time.time())
                if due and len(self.polls) < self.MAX_POLLS_AT_ONCE:
                    self.start_poll(due[: self.MAX_SOURCES_PER_POLL])
                time.sleep(0.1)
            for poll in self.polls:  # the polls in flight finish (or stop, on a signal)
                poll.child.wait()
            self.collect()
        finally:
            if self.alerts:
                self.alerts.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 128 + self.stopped_by if self.stopped_by is not None else 0

    def start_poll(self, sources: list[str]) -> None:
        command = [sys.executable, "-m", "incident_archive.cli", "crawl", "--db", self.db_path, "--under-watch",
                   *(["--sources", self.sources_file] if self.sources_file else []), *self.settings, *sources]
        self.polls.append(Poll(command, sources))
        for source in sources:
            self.schedule.due_at[source] = float("inf")  # not due again until its poll ends

    def collect(self) -> None:
        """Schedule the next poll of every source whose line has appeared, and say how it went."""
        for poll in list(self.polls):
            ended = poll.child.poll() is not None
            for line in poll.new_lines():
                source = line.split()[0] if line.split() else None
                if source in poll.sources:
                    poll.sources.discard(source)
                    self.polled(source, line.split()[1] == "ok", line)
            if not ended:
                continue
            self.polls.remove(poll)
            poll.log.close()
            for source in sorted(poll.sources):  # no line of its own: the poll ended before it
                self.polled(source, False,
                            f"{source} FAILED  the poll ended with {poll.child.returncode}: {poll.last_line}")

    def polled(self, source: str, ok: bool, line: str) -> None:
        now = time.time()
        if self.alerts:
            self.alerts.poke()
        wait = self.schedule.polled(source, ok, now)
        self.out(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(now))} {line.strip()} (next in {wait:.0f} s)")


class Alerter:
    """Sends the alerts due after each poll from a thread of its own: a slow or failing
    receiver never holds up a poll, and what it could not send is tried again later."""

    RETRY_S = 30.0

    def __init__(self, db_path: str, targets: list[NotifyTarget], out=print):
        self.db_path = db_path
        self.database = Path(db_path).stem
        self.targets = targets
        self.out = out
        self.wake = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, name="alerts", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def poke(self) -> None:
        self.wake.set()

    def stop(self) -> None:
        self.done.set()
        self.wake.set()
        self.thread.join(timeout=60)

    def loop(self) -> None:
        while not self.done.is_set():
            self.wake.wait(self.RETRY_S)
            self.wake.clear()
            try:
                for failure in send_due(self.db_path, self.targets, self.database):
                    self.out(f"alert not sent, tried again later: {failure}")
            except Exception as error:  # the service goes on; the next poll tries again
                self.out(f"alerts failed, tried again later: {type(error).__name__}: {error}")


def serve_beside(db_path: str, port: int) -> subprocess.Popen:
    """Datasette serving the same archive while the service polls (updated live: WAL)."""
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "incident_archive.cli", "serve", "--db", db_path,
                             "--port", str(port)])
