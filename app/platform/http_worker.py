"""gunicorn's threaded worker, with each request read whole before a thread is given to it.

gthread hands a connection to a thread as soon as its first bytes arrive; the thread then blocks on
the rest. Slow clients (a header line every few seconds, a phone's upload over a weak signal) each
hold a thread that way, and a few dozen of them leave none for anyone else, `/healthz` included.

Here the worker's event loop, which already waits on every idle kept-alive connection, also reads
each request: its headers within HEADER_SECONDS of the first byte, its body (by Content-Length or
its chunked framing, spooled to a temporary file past 1 MiB) with no pause longer than IDLE_SECONDS. Only then is it
handed to a thread, which reads it from memory or disk at once. A waiting client costs a socket
and a buffer, not a thread. What still goes to a thread at once: a body over MAX_CONTENT_LENGTH
(refused without being read), a request gunicorn's parser must refuse. A thread waits on a stalled
client at most IDLE_SECONDS, reading or writing (a response the client does not read).
"""

from __future__ import annotations

import errno
import os
import resource
import selectors
import socket
import tempfile
import time
from functools import partial

from gunicorn.workers.gthread import TConn, ThreadWorker

HEADER_SECONDS = float(os.environ.get("HTTP_HEADER_SECONDS", "10"))
IDLE_SECONDS = float(os.environ.get("HTTP_IDLE_SECONDS", "30"))
READ_SIZE = 256 * 1024
IN_MEMORY = 1024 * 1024  # a body larger than this waits on disk
MAX_HEAD = 64 * 1024  # gunicorn's own limits refuse less; this is what is read before giving up
TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
TOO_LARGE_RESPONSE = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class BufferedSocket:
    """A client's socket whose next reads come from what the event loop read ahead."""

    def __init__(self, sock: socket.socket):
        self._sock = sock
        self._head = b""
        self._body = None  # a spooled file, read after the head

    def preload(self, head: bytes, body=None) -> None:
        self._head, self._body = head, body
        if body is not None:
            body.seek(0)

    def recv(self, size: int, *flags) -> bytes:
        if self._head:
            data, self._head = self._head[:size], self._head[size:]
            return data
        if self._body is not None:
            data = self._body.read(size)
            if data:
                return data
            self._body.close()
            self._body = None
        return self._sock.recv(size, *flags)

    def setblocking(self, flag: bool) -> None:
        # a thread that waits on the client, to read or to write, gives up after IDLE_SECONDS
        self._sock.settimeout(IDLE_SECONDS if flag else 0.0)

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
        self._sock.close()

    def __getattr__(self, name):
        return getattr(self._sock, name)


class ChunkedEnd:
    """Finds where a chunked body ends (RFC 9112 7.1); gunicorn's parser decodes it later."""

    def __init__(self) -> None:
        self.phase = "size"
        self.line = bytearray()
        self.left = 0

    def feed(self, data: bytes) -> bool:
        """Whether the body ended within `data`; ValueError when it is malformed."""
        at = 0
        while at < len(data):
            if self.phase == "data":
                taken = min(self.left, len(data) - at)
                at += taken
                self.left -= taken
                if not self.left:
                    self.phase = "size"
                continue
            newline = data.find(b"\n", at)
            if newline < 0:
                self.line += data[at:]
                if len(self.line) > 8192:
                    raise ValueError("a chunk's size line is too long")
                return False
            self.line += data[at:newline]
            at = newline + 1
            line = bytes(self.line).strip()
            self.line.clear()
            if self.phase == "trailer":
                if not line:
                    return True
            elif (size := int(line.split(b";")[0], 16)) == 0:
                self.phase = "trailer"
            else:
                self.phase, self.left = "data", size + 2  # the data and its CRLF
        return False


class Arrival:
    """One request on its way in: its head, then its body, read without blocking."""

    def __init__(self, conn: TConn, max_body: int | None):
        self.conn = conn
        self.max_body = max_body
        self.head = bytearray()
        self.body = None
        self.remaining = 0
        self.chunks: ChunkedEnd | None = None
        self.header_deadline = time.monotonic() + HEADER_SECONDS
        self.idle_deadline = time.monotonic() + IDLE_SECONDS
        self.complete = False

    @property
    def deadline(self) -> float:
        return self.idle_deadline if self.body is not None else min(self.header_deadline, self.idle_deadline)

    def feed(self, data: bytes) -> bytes | None:
        """Take what arrived; returns a response to end the connection with, if it must end."""
        self.idle_deadline = time.monotonic() + IDLE_SECONDS
        if self.body is not None:
            self._take_body(data)
            return None
        if not self.head:
            self.header_deadline = time.monotonic() + HEADER_SECONDS  # from the first byte
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            return TOO_LARGE_RESPONSE if len(self.head) > MAX_HEAD else None
        extra = bytes(self.head[end + 4 :])
        del self.head[end + 4 :]
        length = self._body_length()
        if length is None:  # chunked, malformed, or over the limit: for gunicorn and the app
            self.head += extra
            self.complete = True
            return None
        self.remaining = length
        self.body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)
        if length or self.chunks is not None:
            self._take_body(extra)
        else:
            self.body.write(extra)
            self.complete = True
        return None

    def _take_body(self, data: bytes) -> None:
        self.body.write(data)  # bytes past the body are the next request's: the parser reads them next
        self.remaining -= len(data)
        if self.chunks is None:
            self.complete = self.remaining <= 0
            return
        try:
            self.complete = self.chunks.feed(data) or self.remaining < 0  # over the limit: the app says 413
        except ValueError:
            self.complete = True  # gunicorn's parser answers 400

    def _body_length(self) -> int | None:
        """The Content-Length to wait for; None: hand the request on as it is. Answers Expect itself."""
        lines = bytes(self.head).split(b"\r\n")
        lengths, chunked, expect = [], False, None
        for index, line in enumerate(lines[1:], 1):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                lengths.append(value.strip())
            elif name == b"transfer-encoding":
                if value.strip().lower().rsplit(b",", 1)[-1].strip() != b"chunked":
                    return None  # framing only gunicorn knows to refuse
                chunked = True
            elif name == b"expect" and value.strip().lower() == b"100-continue":
                expect = index
        if (chunked and lengths) or len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
            return None
        if chunked:
            self.chunks = ChunkedEnd()
        length = int(lengths[0]) if lengths else self.max_body if chunked else 0
        if length is None or (self.max_body is not None and length > self.max_body):
            return None  # refused at once by the app (413), unread
        if expect is not None:
            if length or chunked:
                self.conn.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")  # 25 bytes: never blocks
            del lines[expect]
            self.head[:] = b"\r\n".join(lines)
        return length


class BufferingWorker(ThreadWorker):
    """gthread, but a request reaches a thread only once it has arrived whole (see the module's doc)."""

    def init_process(self) -> None:
        self.arrivals: set[Arrival] = set()
        self._arrival_of: dict[TConn, Arrival] = {}
        # each waiting client is a file descriptor: allow as many as the system lets this process have
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        super().init_process()  # runs the worker

    def _max_body(self) -> int | None:
        config = getattr(self.wsgi, "config", None)
        return config.get("MAX_CONTENT_LENGTH") if config else None

    def accept(self, listener) -> None:
        if self.cfg.is_ssl:  # TLS ends at the platform's router; a TLS socket is left to gthread
            return super().accept(listener)
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, BufferedSocket(client), address, listener.getsockname())
        self._wait_for_request(conn)

    def on_client_socket_readable(self, conn, client) -> None:
        """A kept-alive connection's next request: read it whole too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        if not isinstance(conn.sock, BufferedSocket):
            return self.enqueue_req(conn)
        self._wait_for_request(conn)
        self._readable(self._arrival_of[conn], client)

    def _wait_for_request(self, conn: TConn) -> None:
        arrival = Arrival(conn, self._max_body())
        self.arrivals.add(arrival)
        self._arrival_of[conn] = arrival
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._readable, arrival))

    def _readable(self, arrival: Arrival, client) -> None:
        try:
            data = arrival.conn.sock._sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self._drop(arrival)
        if not data:
            return self._drop(arrival)
        try:
            ending = arrival.feed(data)
        except OSError:
            return self._drop(arrival)
        if ending is not None:
            return self._drop(arrival, ending)
        if arrival.complete:
            self._forget(arrival)
            arrival.conn.sock.preload(bytes(arrival.head), arrival.body)
            arrival.conn.data_ready = True
            self.enqueue_req(arrival.conn)

    def _forget(self, arrival: Arrival) -> None:
        self.arrivals.discard(arrival)
        self._arrival_of.pop(arrival.conn, None)
        try:
            self.poller.unregister(arrival.conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, arrival: Arrival, response: bytes | None = None) -> None:
        self._forget(arrival)
        if arrival.body is not None:
            arrival.body.close()
        if response is not None:
            try:
                arrival.conn.sock._sock.send(response)
            except OSError:
                pass
        self.nr_conns -= 1
        arrival.conn.close()

    def murder_pending(self) -> None:
        """Also end requests that stopped arriving: 408."""
        super().murder_pending()
        now = time.monotonic()
        for arrival in [a for a in self.arrivals if a.deadline <= now]:
            self._drop(arrival, TIMEOUT_RESPONSE)
