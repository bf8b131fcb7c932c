"""Slow clients against a real gunicorn (one process, 32 threads): the web keeps answering everyone else.

Bounded on loopback: at most a few hundred connections, each case well under a minute.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import ExitStack, contextmanager

import pytest
import requests

from tests.conftest import free_port
from tests.stack import running_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLOWLORIS = 300  # connections sending one header line every 2 s: ten times the threads
SLOW_UPLOADS = 48  # more than the threads (32) and the database pool (32, one per thread)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    with running_stack(
        tmp_path_factory.mktemp("stack"), redis_server, free_port(), workers=0, HTTP_HEADER_SECONDS="10",
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def alice(stack):
    return stack.create_user("alice")


def answers_within(url: str, seconds: float = 2.0, **kwargs) -> requests.Response:
    started = time.monotonic()
    response = requests.get(url, timeout=seconds, **kwargs)
    assert time.monotonic() - started < seconds
    return response


def connections(port: int, count: int) -> list[socket.socket]:
    opened = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        opened.append(sock)
    return opened


@contextmanager
def trickling(socks: list[socket.socket], pieces, every: float):
    """Send each socket the next of `pieces` every `every` seconds, in the background; yields how many
    went out (to every socket) so far."""
    stop = threading.Event()
    sent = [0]

    def run():
        for piece in pieces:
            for sock in socks:
                try:
                    sock.sendall(piece)
                except OSError:
                    pass
            sent[0] += 1
            if stop.wait(every):
                return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield sent
    finally:
        stop.set()
        thread.join(timeout=10)


def test_hundreds_of_slowloris_connections_leave_the_web_answering(stack, alice):
    with ExitStack() as closing:
        socks = connections(stack.port, SLOWLORIS)
        for sock in socks:
            closing.callback(sock.close)
        lines = [b"GET /healthz HTTP/1.1\r\nHost: x\r\n"] + [f"X-Slow-{n}: 1\r\n".encode() for n in range(20)]
        with trickling(socks, lines, every=2.0):
            time.sleep(1)
            for _ in range(16):  # about 8 s, while every one of them is open and sending
                health = answers_within(f"{stack.url}/healthz")
                assert health.status_code == 200, health.text
                listed = answers_within(f"{stack.url}/api/videos", headers=alice.headers)
                assert listed.status_code == 200, listed.text
                time.sleep(0.5)
        # the header block did not arrive within HTTP_HEADER_SECONDS: the server closed them, with a 408
        time.sleep(4)
        socks[0].settimeout(5)
        assert socks[0].recv(200).startswith(b"HTTP/1.1 408")


def multipart(boundary: str) -> tuple[bytes, bytes]:
    """The head and tail of a one-file form."""
    head = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"phone.mp4\"\r\n"
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    return head, f"\r\n--{boundary}--\r\n".encode()


def test_slow_uploads_hold_no_thread_and_no_database_connection(stack, alice, clips):
    boundary = "slowslowslow"
    video = clips("c320x180", width=320, height=180, seconds=1).read_bytes()
    head, tail = multipart(boundary)
    length = len(head) + len(video) + len(tail)
    request = (
        f"POST /api/videos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {alice.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n"
    ).encode() + head
    with ExitStack() as closing:
        socks = connections(stack.port, SLOW_UPLOADS)
        for sock in socks:
            closing.callback(sock.close)
        piece = len(video) // 40 + 1  # a fortieth a second each: a phone in a basement
        body = [video[at : at + piece] for at in range(0, len(video), piece)]
        with trickling(socks, [request, *body], every=1.0) as sent:
            time.sleep(2)
            for _ in range(6):  # while all of them are sending
                assert answers_within(f"{stack.url}/healthz").status_code == 200
                assert answers_within(f"{stack.url}/api/videos", headers=alice.headers).status_code == 200
                time.sleep(0.5)
            quick = stack.upload(alice, clips("c320x180", width=320, height=180, seconds=1))
            assert quick.status_code == 202, quick.text  # another user's upload is not held up
        assert 0 < sent[0] - 1 < len(body)  # they were still sending
        for sock in socks:  # the rest at once: every slow upload is accepted
            sock.sendall(b"".join(body[sent[0] - 1 :]) + tail)
        for sock in socks:
            sock.settimeout(20)
            answer = sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 202"), answer[:300]
    log = (stack.workdir / "web.log").read_text()
    assert "QueuePool limit" not in log and " 500 " not in log
