"""The unread-body guard: an answer given before the body was read ends the connection, unless the
little that is left can be read and dropped at once."""

from __future__ import annotations

import io
import os
import time

from app.domain.models import Video
from app.extensions import db
from app.unread_body import DRAIN_BYTES, UnreadBodyGuard
from tests.unit.conftest import upload

MB = 1024 * 1024


class ServerResponse:
    """What gunicorn hands an app: `start_response` bound to a response object that can be told to close."""

    def __init__(self):
        self.closing = False
        self.headers: list[tuple[str, str]] = []

    def start_response(self, status, headers, exc_info=None):
        self.headers = headers
        return lambda data: None

    def force_close(self):
        self.closing = True


def reads(amount: int | None):
    """A WSGI app that reads `amount` bytes of the body (None: all of it), then answers."""

    def app(environ, start_response):
        body = environ["wsgi.input"]
        body.read() if amount is None else body.read(amount)
        start_response("401 UNAUTHORIZED", [("Content-Type", "application/json")])
        return [b'{"error": "no"}']

    return app


def call(app, body: bytes, chunked: bool = False, server: ServerResponse | None = None, **guard):
    server = server or ServerResponse()
    stream = io.BytesIO(body)
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": stream}
    environ.update({"HTTP_TRANSFER_ENCODING": "chunked"} if chunked else {"CONTENT_LENGTH": str(len(body))})
    list(UnreadBodyGuard(app, **guard)(environ, server.start_response))
    return server, stream


def test_a_body_read_to_its_end_keeps_the_connection():
    server, _ = call(reads(None), os.urandom(3 * MB))
    assert not server.closing and not any(k.lower() == "connection" for k, _ in server.headers)


def test_a_large_unread_body_closes_the_connection_without_being_received():
    server, stream = call(reads(0), os.urandom(3 * MB))
    assert server.closing
    assert stream.tell() == 0, "a refused upload is not received all the same"


def test_a_large_remainder_of_a_partly_read_body_closes_the_connection():
    server, stream = call(reads(64 * 1024), os.urandom(3 * MB))
    assert server.closing and stream.tell() == 64 * 1024


def test_a_small_unread_remainder_is_dropped_and_the_connection_kept():
    server, stream = call(reads(10), os.urandom(DRAIN_BYTES))
    assert not server.closing
    assert stream.tell() == DRAIN_BYTES


def test_a_chunked_body_is_drained_when_it_ends_soon_and_closes_the_connection_when_not():
    server, stream = call(reads(0), os.urandom(100 * 1024), chunked=True)
    assert not server.closing and stream.tell() == 100 * 1024
    server, stream = call(reads(0), os.urandom(3 * MB), chunked=True)
    assert server.closing
    assert stream.tell() <= DRAIN_BYTES + 64 * 1024, "never drained beyond the limit"


class Stalling(io.RawIOBase):
    """A client that sends one byte now and then."""

    def readable(self):
        return True

    def readinto(self, buffer):
        time.sleep(0.02)
        buffer[:1] = b"x"
        return 1


class Socket:
    def __init__(self):
        self.timeouts: list[float | None] = []
        self.timeout: float | None = None

    def gettimeout(self):
        return self.timeout

    def settimeout(self, value):
        self.timeouts.append(value)
        self.timeout = value


def test_draining_a_slow_client_is_bounded_in_time_and_then_closes():
    server, sock = ServerResponse(), Socket()
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": Stalling(), "CONTENT_LENGTH": "1000", "gunicorn.socket": sock}
    started = time.monotonic()
    list(UnreadBodyGuard(reads(0), drain_seconds=0.1)(environ, server.start_response))
    assert time.monotonic() - started < 1
    assert server.closing
    assert sock.timeouts == [0.1, None], "each read of the socket is bounded, and the server's timeout put back"


def test_a_client_gone_while_draining_closes_the_connection():
    class Gone(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            if buffer:
                raise ConnectionResetError
            return 0

    server = ServerResponse()
    environ = {"REQUEST_METHOD": "POST", "wsgi.input": Gone(), "CONTENT_LENGTH": "1000"}
    list(UnreadBodyGuard(reads(0))(environ, server.start_response))
    assert server.closing


def test_a_request_without_a_body_is_left_alone():
    stream = io.BytesIO()
    environ = {"REQUEST_METHOD": "GET", "wsgi.input": stream}
    seen = {}

    def app(environ, start_response):
        seen["input"] = environ["wsgi.input"]
        start_response("200 OK", [])
        return [b""]

    server = ServerResponse()
    list(UnreadBodyGuard(app)(environ, server.start_response))
    assert seen["input"] is stream and not server.closing


def test_other_servers_are_told_with_the_connection_header(client):
    """The Flask test client stands for a server without gunicorn's response object."""
    refused = client.post(
        "/api/videos", data=os.urandom(3 * MB),
        headers={"Authorization": "Bearer not-a-token", "Content-Type": "application/octet-stream"},
    )
    assert refused.status_code == 401 and refused.get_json()["error"]
    assert refused.headers["Connection"] == "close"


def test_uploads_read_through_the_guard_arrive_whole(client, auth, tmp_path):
    path = tmp_path / "clip.mkv"
    # under 500 KiB: the test client spools a larger body to a file that it leaves open
    path.write_bytes(b"\x1a\x45\xdf\xa3" + os.urandom(400 * 1024))
    response = upload(client, auth, path)
    assert response.status_code == 202, response.get_json()
    assert db.session.get(Video, response.get_json()["id"]).size == path.stat().st_size
    assert "Connection" not in response.headers
