"""A database that accepts connections and never answers, or takes no writes: a real gunicorn says 503
within seconds, and no request hangs."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.conftest import free_port
from tests.integration.test_platform import postgres_database  # noqa: F401  (a fixture)
from tests.stack import Stack
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def silent_database():
    """A TCP server on loopback that accepts every connection and never says a word."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql://conveyor@127.0.0.1:{server.getsockname()[1]}/conveyor"
    stop.set()
    thread.join()
    for sock in held:
        sock.close()
    server.close()


def start_web(stack: Stack) -> None:
    """gunicorn as the Procfile runs it, waiting only for it to answer at all: it is not healthy."""
    log = open(stack.workdir / "web.log", "ab")  # noqa: SIM115  (closed with the process)
    stack.web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "app:create_app()", "--config", "gunicorn.conf.py"],
        cwd=stack.root, env=stack.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    log.close()
    wait_until(lambda: requests.get(f"{stack.url}/healthz", timeout=10).status_code, 30, "the web to answer",
               ignoring=(requests.ConnectionError,))


def timed(call) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_database_that_never_answers_is_a_503_within_seconds(tmp_path, redis_server, silent_database):
    stack = Stack(tmp_path, redis_server.url, free_port(), DATABASE_URL=silent_database)
    try:
        start_web(stack)
        health, took = timed(lambda: requests.get(f"{stack.url}/healthz", timeout=15))
        assert health.status_code == 503 and health.json()["database"] == "unavailable"
        assert health.json()["redis"] == "ok"
        assert took < 5, took
        headers = {"Authorization": "Bearer some-token"}
        for _ in range(3):  # again and again: no request waits out more than the connect timeout
            listed, took = timed(lambda: requests.get(f"{stack.url}/api/videos", headers=headers, timeout=15))
            assert listed.status_code == 503 and "database" in listed.json()["error"]
            assert took < 8, took
        page, _ = timed(lambda: requests.get(f"{stack.url}/login", timeout=15))
        assert page.status_code != 500
    finally:
        stack.stop()


def test_a_read_only_sqlite_database_is_unhealthy(tmp_path, redis_server):
    stack = Stack(tmp_path, redis_server.url, free_port())
    stack.migrate()
    path = stack.env["DATABASE_URL"].removeprefix("sqlite:///")
    stack.env["DATABASE_URL"] = f"sqlite:///file:{path}?mode=ro&uri=true"  # as a read-only mount opens it
    assert_unhealthy(stack)


@pytest.mark.postgres
def test_a_read_only_postgresql_database_is_unhealthy(tmp_path, redis_server, postgres_database):  # noqa: F811
    import psycopg

    stack = Stack(tmp_path, redis_server.url, free_port(), DATABASE_URL=postgres_database)
    stack.migrate()
    name = postgres_database.rsplit("/", 1)[1]
    with psycopg.connect(postgres_database.replace("postgres://", "postgresql://", 1), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')  # a standby's answer
    assert_unhealthy(stack)


def assert_unhealthy(stack: Stack) -> None:
    """The web started on a database that takes no writes: /healthz says so with a 503."""
    try:
        start_web(stack)
        health = requests.get(f"{stack.url}/healthz", timeout=10)
        assert health.status_code == 503 and health.json()["database"] == "unavailable", health.text
    finally:
        stack.stop()
