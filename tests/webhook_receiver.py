"""A real HTTP receiver for webhook tests: http.server in a thread on 127.0.0.1, port 0."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int
    path: str = "/"

    @property
    def event(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """Records every request; answers `failing_status` to the next `fail_next` requests."""

    def __init__(self):
        self.requests: list[Received] = []
        self.fail_next = 0
        self.failing_status = 500
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    status = 200
                    if receiver.fail_next > 0:
                        receiver.fail_next -= 1
                        status = receiver.failing_status
                    receiver.requests.append(Received(dict(self.headers), body, status,
                                                      self.path))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/moderation"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    @property
    def accepted(self) -> list[Received]:
        return [request for request in self.requests if 200 <= request.answered < 300]


class Trickler:
    """A receiver that answers a byte at a time, each well within any socket timeout, and
    would finish (with 200) only after `total_bytes` pauses. `disconnected` is set when the
    client hangs up first."""

    def __init__(self, pause: float = 0.1, total_bytes: int = 300):
        self.pause, self.total_bytes = pause, total_bytes
        self.disconnected = threading.Event()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/slow"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        try:
            connection, _ = self._listener.accept()
        except OSError:  # closed before anyone called
            return
        with connection:
            connection.recv(65536)  # the request: its content does not matter here
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(self.total_bytes):
                    if self._stop.wait(self.pause):  # the pace of a slow peer, not a test wait
                        return
                    connection.sendall(b"a")
                connection.sendall(b"\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                self.disconnected.set()

    def __enter__(self) -> Trickler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join()
