"""A fault-injecting replay server: any recorded endpoint can be made to misbehave.

Every fault is bounded in bytes and in time and stops by itself: it only ever talks to
the crawler under test on 127.0.0.1.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from incident_archive.testing.replay import LoggedRequest, ReplayHandler, ReplayServer, serving

MAX_STREAM_BYTES = 64 * 1024 * 1024
MAX_STREAM_SECONDS = 20.0


@dataclass
class Fault:
    """What an endpoint does instead of answering: see ``FaultHandler.serve_fault``.

    ``times`` limits how many requests get the fault (None: every one); later requests
    are answered normally. ``body``/``content_type`` replace the response for the
    ``body`` kind; ``value`` carries a number (a status code, seconds).
    """

    kind: str
    value: float | int | None = None
    body: bytes | None = None
    content_type: str | None = "application/json; charset=utf-8"
    times: int | None = None


class FaultHandler(ReplayHandler):
    def do_GET(self):  # noqa: N802
        fault = self.server.faults.get(self.path) or self.server.faults.get(urlsplit(self.path).path)
        if fault is not None and (fault.times is None or fault.times > 0):
            if fault.times is not None:
                fault.times -= 1
            self.server.record(LoggedRequest("GET", self.path, dict(self.headers), -1))
            return self.serve_fault(fault)
        return super().do_GET()

    def serve_fault(self, fault: Fault):
        kind = fault.kind
        if kind == "status":
            return self._plain(int(fault.value), b"fault\n")
        if kind == "retry-after":
            self.send_response(429)
            self.send_header("Retry-After", str(int(fault.value)))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if kind == "body":
            self.send_response(200)
            if fault.content_type:
                self.send_header("Content-Type", fault.content_type)
            self.send_header("Content-Length", str(len(fault.body)))
            self.end_headers()
            self.wfile.write(fault.body)
            return None
        if kind == "truncated":
            body = b'{"page": {"id": "x"}, "components": [' + b" " * 4000
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) * 2))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        if kind == "redirect-loop":
            return self._redirect(self.path)
        if kind == "redirect-offsite":
            return self._redirect(f"http://localhost:{int(fault.value)}{self.path}")
        if kind == "redirect-port":  # the same host, another port
            return self._redirect(f"http://127.0.0.1:{int(fault.value)}{self.path}")
        if kind in ("huge", "endless", "slow"):
            return self._stream(kind)
        if kind == "stall":  # accept, then say nothing until the client gives up
            deadline = time.monotonic() + min(float(fault.value or 10), MAX_STREAM_SECONDS)
            while time.monotonic() < deadline:
                time.sleep(0.1)
            self.close_connection = True
            return None
        if kind == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        raise ValueError(f"unknown fault {kind!r}")

    def _plain(self, status: int, body: bytes):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _stream(self, kind: str):
        """Bytes until the client hangs up or the bounds are reached."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if kind == "huge":
            self.send_header("Content-Length", str(MAX_STREAM_BYTES))
        self.end_headers()
        sent, started = 0, time.monotonic()
        chunk = b"[" if kind == "slow" else b" " * 65536
        try:
            while sent < MAX_STREAM_BYTES and time.monotonic() - started < MAX_STREAM_SECONDS:
                self.wfile.write(chunk)
                self.wfile.flush()
                sent += len(chunk)
                if kind == "slow":
                    time.sleep(0.25)
        except OSError:
            pass  # the crawler gave up: that is the point
        self.close_connection = True


class FaultServer(ReplayServer):
    def __init__(self, root, port: int = 0):
        super().__init__(root, port)
        self.RequestHandlerClass = FaultHandler
        self.faults: dict[str, Fault] = {}


def fault_serving(root):
    """A fault-injecting replay server on 127.0.0.1 for the duration of a with-block."""
    return serving(root, server_class=FaultServer)
