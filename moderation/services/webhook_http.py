"""One webhook request, bounded as a whole: resolving the host, connecting, TLS, sending and
reading the answer all end by one deadline (MODERATION_WEBHOOKS_TIMEOUT_SECONDS from the
start). A socket timeout alone bounds each read or write, not the request, so a receiver that
trickles its answer a byte at a time could otherwise hold the worker for as long as it likes."""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
from dataclasses import dataclass

from moderation.services import webhook_guard

MAX_ERROR = 500
MAX_ANSWER_BYTES = 4096  # of the answer's body: only its status matters
USER_AGENT = "moderation-webhooks/1"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    status: int | None  # the HTTP status, when the endpoint answered
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Deadline:
    """When a request must be over. At that moment a timer shuts the request's socket down,
    which ends a blocked read, write or TLS handshake at once. It watches a duplicate of the
    socket's descriptor (TLS takes the original over) and closes it only after the timer has
    stopped, so it can never shut down a descriptor the process has reused meanwhile."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(max(0.0, seconds), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        self._timer.join()
        for duplicate in self._watched:
            duplicate.close()

    def remaining(self) -> float:
        """Seconds left; TimeoutError when none are."""
        left = self.at - time.monotonic()
        if self.expired or left <= 0:
            raise TimeoutError(f"no complete answer within {self.seconds:g} s")
        return left

    def watch(self, sock: socket.socket) -> None:
        duplicate = sock.dup()
        with self._lock:
            self._watched.append(duplicate)
            if self.expired:
                _shut(duplicate)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for duplicate in self._watched:
                _shut(duplicate)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by the other end
        pass


def send(url: str, headers: dict[str, str], body: bytes, *, timeout: float,
         allow_private: bool) -> Result:
    """POST `body` to `url` (checked again now) within `timeout` seconds in all. It never
    raises: whatever goes wrong is a failed attempt with the error's text."""
    deadline = Deadline(timeout)
    try:
        with deadline:
            return _post(url, headers, body, deadline, allow_private)
    except webhook_guard.UnsafeURL as refused:
        return Result(None, f"refused: {refused}"[:MAX_ERROR])
    except Exception as error:
        if deadline.expired or isinstance(error, TimeoutError):
            return Result(None, f"timed out: no complete answer within {timeout:g} s")
        if not isinstance(error, (OSError, http.client.HTTPException)):
            log.exception("a webhook request to %s failed unexpectedly", url)
        return Result(None, f"{error.__class__.__name__}: {error}"[:MAX_ERROR])


def _post(url: str, headers: dict[str, str], body: bytes, deadline: Deadline,
          allow_private: bool) -> Result:
    target = webhook_guard.check(url, allow_private=allow_private, timeout=deadline.remaining())
    headers = {**headers, "User-Agent": USER_AGENT}
    connection = _pinned(target, deadline)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
        if deadline.expired:  # the shutdown can look like the end of the headers: not an answer
            raise TimeoutError
        return Result(response.status, None if 200 <= response.status < 300
                      else f"HTTP {response.status} {response.reason}"[:MAX_ERROR])
    finally:
        connection.close()


def _pinned(target: webhook_guard.Target, deadline: Deadline) -> http.client.HTTPConnection:
    """A connection to the checked address, with the URL's host name for the Host header and
    for TLS (server name and certificate check), watched by the deadline. It never follows
    redirects."""
    kind = http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    connection = kind(target.host, target.port, timeout=deadline.remaining())

    def connect_to_checked(_address, *_args):
        sock = socket.create_connection((target.address, target.port), deadline.remaining())
        deadline.watch(sock)
        return sock

    connection._create_connection = connect_to_checked
    return connection
