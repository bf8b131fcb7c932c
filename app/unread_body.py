"""Ends the connection after an answer given before the request's body was read to its end.

Views refuse many requests without reading the body: 413 too large, 401 bad token, 415 not
multipart, 429 over the rate limit, 403 plain HTTP. The rest of that body is still on its way.
gunicorn answers "Connection: keep-alive" anyway, then reads at most 64 KiB of what is left and,
when there is more, closes the connection. A client that reuses the connection it was told it
could keep (a `requests.Session` does) sends its next request into that closing socket and gets
`RemoteDisconnected`. So, when the body was not read to its end:

- a small remainder (up to DRAIN_BYTES, within DRAIN_SECONDS) is read and dropped, and the
  connection is kept;
- otherwise the answer says "Connection: close" and the server closes the connection after it.
  A large body is never drained: a refused 2 GB upload must not be received all the same.

gunicorn ignores a Connection header set by the application (PEP 3333 leaves hop-by-hop headers
to the server), so it is told through its own response object, whose `start_response` the app
was handed: `force_close()`. Other servers get the header.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO

DRAIN_BYTES = 1 << 20
DRAIN_SECONDS = 2.0
DRAIN_CHUNK = 64 * 1024


class CountedInput:
    """`wsgi.input`, counting what is read of it, so the end of the body is known without guessing."""

    def __init__(self, stream: IO[bytes], length: int | None):
        self.stream = stream
        self.length = length  # None: chunked, its end is where a read comes back empty
        self.consumed = 0
        self.ended = False

    @property
    def finished(self) -> bool:
        return self.ended or (self.length is not None and self.consumed >= self.length)

    @property
    def remaining(self) -> int | None:
        """Bytes still to come; None when the client did not say (chunked)."""
        if self.finished:
            return 0
        return None if self.length is None else self.length - self.consumed

    def _count(self, data: bytes, asked: int | None) -> bytes:
        self.consumed += len(data)
        if not data and asked != 0:
            self.ended = True
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._count(self.stream.read() if size is None else self.stream.read(size), size)

    def readline(self, size: int | None = -1) -> bytes:
        return self._count(self.stream.readline() if size is None else self.stream.readline(size), size)

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        while line := self.readline():
            lines.append(line)
            if 0 < hint <= sum(map(len, lines)):
                break
        return lines

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


class UnreadBodyGuard:
    """WSGI middleware: see the module's docstring."""

    def __init__(self, app: Callable, drain_bytes: int = DRAIN_BYTES, drain_seconds: float = DRAIN_SECONDS):
        self.app = app
        self.drain_bytes = drain_bytes
        self.drain_seconds = drain_seconds

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        body = counted_input(environ)
        if body is None:
            return self.app(environ, start_response)

        def answer(status: str, headers: list[tuple[str, str]], exc_info=None):
            if not self.drain(body, environ.get("gunicorn.socket")):
                headers = close_after(start_response, headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, answer)

    def drain(self, body: CountedInput, sock) -> bool:
        """Read and drop a small remainder of the body; whether the body then came to its end."""
        if body.finished:
            return True
        if body.remaining is not None and body.remaining > self.drain_bytes:
            return False
        deadline = time.monotonic() + self.drain_seconds
        dropped = 0
        try:
            with read_timeout(sock, self.drain_seconds):
                while not body.finished and dropped <= self.drain_bytes and time.monotonic() < deadline:
                    dropped += len(body.read(DRAIN_CHUNK))
        except Exception:  # noqa: BLE001  (a timeout, a client gone, a broken chunk: close instead)
            return False
        return body.finished


def counted_input(environ: dict) -> CountedInput | None:
    """Puts a counting `wsgi.input` in place when the request has a body; None when it has none."""
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # the server refuses such a request before the app sees it
    if (not chunked and length <= 0) or "wsgi.input" not in environ:
        return None
    body = CountedInput(environ["wsgi.input"], None if chunked else length)
    environ["wsgi.input"] = body
    return body


def close_after(start_response: Callable, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Makes the server close the connection after this answer, and say so in it."""
    force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
    if callable(force_close):
        force_close()  # gunicorn: it then sends "Connection: close" itself, and closes
        return headers
    return [*((k, v) for k, v in headers if k.lower() != "connection"), ("Connection", "close")]


@contextmanager
def read_timeout(sock, seconds: float) -> Iterator[None]:
    """Bounds each read of the server's socket while draining; a stalled client cannot hold a thread."""
    if sock is None or not hasattr(sock, "gettimeout") or not hasattr(sock, "settimeout"):
        yield
        return
    before = sock.gettimeout()
    sock.settimeout(seconds)
    try:
        yield
    finally:
        sock.settimeout(before)
