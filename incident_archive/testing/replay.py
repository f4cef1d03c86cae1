"""A local HTTP server that replays recorded responses, for tests, the demo and benchmarks.

It serves a folder of recorded bodies exactly as a status page would: the spiders
crawl it over real HTTP, so the same code path runs as in production. The folder maps
URLs to files: ``/api/v2/summary.json`` is ``api/v2/summary.json``; a query string
follows an ``@``, so ``/history.json?page=2`` is ``history.json@page=2``; a path that is also a
folder (``/proxy/host`` beside ``/proxy/host/incidents``) is that folder's ``_index``.

Like Statuspage, it answers with an ``ETag`` and ``Cache-Control: max-age=0,
must-revalidate``, and a matching ``If-None-Match`` gets ``304 Not Modified``, so
conditional requests are exercised too; a site that sends no validators, or ignores
them (``validators``), is served that way. Every request is logged for the tests.
"""

from __future__ import annotations

import hashlib
import selectors
import socket
import threading
from email.utils import formatdate
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit


FOLDER_INDEX = "_index"


@dataclass
class LoggedRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int


def path_for(url_path: str, query: str = "") -> str:
    """The file (relative to the site folder) that holds the response for a URL."""
    relative = url_path.lstrip("/") or "index.html"
    if relative.endswith("/"):
        relative += "index.html"
    return f"{relative}@{query}" if query else relative


def write_response(root: Path, url: str, body: bytes | str) -> Path:
    """Record ``body`` as the response for ``url`` (path and query) under ``root``."""
    root = Path(root)
    path, _, query = url.partition("?")
    file = root / path_for(path, query)
    # A path that is also a folder keeps its own body in the folder, as _index.
    for parent in reversed(file.relative_to(root).parents[:-1]):
        folder = root / parent
        if folder.is_file():
            content = folder.read_bytes()
            folder.unlink()
            folder.mkdir()
            (folder / FOLDER_INDEX).write_bytes(content)
    if file.is_dir():
        file = file / FOLDER_INDEX
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
    return file


def sniff_content_type(body: bytes) -> str:
    head = body.lstrip()[:64].lower()
    if head.startswith((b"{", b"[")):
        return "application/json; charset=utf-8"
    if head.startswith((b"<?xml", b"<rss", b"<feed")):
        return "application/xml; charset=utf-8"
    if head.startswith(b"<"):
        return "text/html; charset=utf-8"
    return "text/plain; charset=utf-8"


class ReplayHandler(BaseHTTPRequestHandler):
    server_version = "replay/1"

    def do_GET(self):  # noqa: N802 (the name http.server asks for)
        split = urlsplit(self.path)
        file = self.server.root / path_for(split.path, split.query)
        if split.query and not file.exists():
            file = self.server.root / path_for(split.path)  # a query the recording ignores
        if file.is_dir():
            file = file / FOLDER_INDEX
        root = self.server.root.resolve()
        if not file.resolve().is_relative_to(root) or not file.is_file():
            return self._answer(404, b"not recorded\n", "text/plain")
        body = file.read_bytes()
        validators = self.server.validators
        if validators == "none":  # incident.io's Statuspage-compatible shim
            return self._answer(200, body, sniff_content_type(body))
        if validators == "ignored":  # Google Cloud: Last-Modified sent, If-Modified-Since ignored
            modified = formatdate(file.stat().st_mtime, usegmt=True)
            return self._answer(200, body, sniff_content_type(body), last_modified=modified)
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if self.headers.get("If-None-Match") == etag:
            return self._answer(304, b"", None, etag)
        return self._answer(200, body, sniff_content_type(body), etag)

    def _answer(self, status: int, body: bytes, content_type: str | None, etag: str | None = None,
                last_modified: str | None = None):
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if last_modified:
            self.send_header("Last-Modified", last_modified)
        if etag:
            self.send_header("ETag", etag)
            self.send_header("Cache-Control", "max-age=0, private, must-revalidate")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.server.record(LoggedRequest("GET", self.path, dict(self.headers), status))

    def log_message(self, format, *args):  # keep test output quiet
        pass


class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default listen backlog is 5: with hundreds of sources connecting at
    # once, the kernel drops SYNs and clients wait out SYN retransmissions, which a
    # benchmark would blame on the crawler.
    request_queue_size = 1024

    def __init__(self, root: Path, port: int = 0):
        super().__init__(("127.0.0.1", port), ReplayHandler)
        self.root = Path(root)
        self.log: list[LoggedRequest] = []
        # What the site does with conditional requests, as the real one does: "etag"
        # (Statuspage: ETag, 304 on If-None-Match), "none" (no validators at all),
        # "ignored" (Last-Modified sent, every request answered in full).
        self.validators = "etag"
        # Tests assert on every request made; a benchmark serving hundreds of thousands
        # turns this off (the log of their headers would be the benchmark's own memory).
        self.keep_log = True

    def record(self, request: LoggedRequest) -> None:
        if self.keep_log:
            self.log.append(request)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class ManyHostsReplayServer(ReplayServer):
    """One replay server answering on many loopback addresses (127.1.x.y), all on one
    port: a benchmark's sites each get a host of their own, as real status pages have,
    so a crawler's per-host politeness applies to each. Only the benchmark uses it;
    tests serve on 127.0.0.1 alone."""

    def __init__(self, root: Path, hosts: int):
        super().__init__(root)
        self.stopped = threading.Event()
        self.done = threading.Event()
        self.hosts = [loopback_host(k) for k in range(hosts)]
        self.sockets = []
        for host in self.hosts:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((host, self.server_address[1]))
            listener.listen(self.request_queue_size)
            listener.setblocking(False)
            self.sockets.append(listener)

    def serve_forever(self, poll_interval: float = 0.2) -> None:
        with selectors.DefaultSelector() as selector:
            for listener in [self.socket, *self.sockets]:
                selector.register(listener, selectors.EVENT_READ)
            while not self.stopped.is_set():
                for key, _ in selector.select(poll_interval):
                    try:
                        connection, address = key.fileobj.accept()
                    except (BlockingIOError, OSError):
                        continue
                    connection.setblocking(True)
                    self.process_request(connection, address)
        self.done.set()

    def shutdown(self) -> None:
        self.stopped.set()
        self.done.wait(10)

    def server_close(self) -> None:
        super().server_close()
        for listener in self.sockets:
            listener.close()

    def url_of(self, k: int) -> str:
        return f"http://{self.hosts[k]}:{self.server_address[1]}"


def loopback_host(k: int) -> str:
    """The k-th benchmark host: 127.1.0.1, 127.1.0.2, ... 250 to a block."""
    return f"127.1.{k // 250}.{k % 250 + 1}"


def serving_many_hosts(root: Path, hosts: int, validators: str = "etag"):
    """Serve ``root`` on ``hosts`` loopback addresses (see ManyHostsReplayServer)."""
    return running(ManyHostsReplayServer(root, hosts), keep_log=False, validators=validators)


def serving(root: Path, port: int = 0, server_class: type[ReplayServer] = ReplayServer, keep_log: bool = True,
            validators: str = "etag"):
    """Serve ``root`` on 127.0.0.1 in a background thread for the duration of the block."""
    return running(server_class(root, port), keep_log, validators)


@contextmanager
def running(server: ReplayServer, keep_log: bool, validators: str):
    """A replay server answering in a background thread for the duration of the block."""
    server.keep_log = keep_log
    server.validators = validators
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
