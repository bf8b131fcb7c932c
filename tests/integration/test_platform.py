"""What a Heroku-style platform hands out: TLS Redis with a self-signed certificate, postgres:// URLs,
Procfile scaling, and a Redis that may evict keys."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import psycopg
import pytest
import requests
from rq import Worker

from tests.conftest import RedisServer, free_port
from tests.stack import ROOT, Stack

pytestmark = pytest.mark.integration

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


class TlsRedisServer(RedisServer):
    """redis-server speaking TLS only, with a certificate nobody signed."""

    def __init__(self, workdir):
        super().__init__(workdir)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=redis",
             "-keyout", str(workdir / "key.pem"), "-out", str(workdir / "cert.pem")],
            check=True, capture_output=True,
        )
        self.url = f"rediss://127.0.0.1:{self.port}/0?ssl_cert_reqs=none"

    def arguments(self) -> list[str]:
        return ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no",
                "--tls-cert-file", str(self.workdir / "cert.pem"), "--tls-key-file", str(self.workdir / "key.pem")]


def converts(stack: Stack, clip) -> dict:
    alice = stack.create_user(f"u{uuid.uuid4().hex[:8]}")
    return stack.wait_final(alice, stack.upload(alice, clip).json()["id"])


def test_tls_redis_with_a_self_signed_certificate(tmp_path, clips):
    server = TlsRedisServer(tmp_path)
    server.start()
    stack = Stack(tmp_path / "stack", server.url, free_port())
    try:
        stack.migrate()
        stack.start_web()
        stack.start_worker()
        assert requests.get(f"{stack.url}/healthz", timeout=10).json()["redis"] == "ok"
        assert converts(stack, clips("c320x240", width=320, height=240, seconds=1))["state"] == "ready"
        assert "conveyor_queue_depth" in requests.get(f"{stack.url}/metrics", timeout=10).text
    finally:
        stack.stop()
        server.stop()


@pytest.fixture
def postgres_database():
    try:
        admin = psycopg.connect(POSTGRES.replace("postgres://", "postgresql://", 1), connect_timeout=2)
    except psycopg.OperationalError:
        pytest.skip("no PostgreSQL server answers")
    admin.autocommit = True
    name = f"conveyor_test_{uuid.uuid4().hex[:8]}"
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES.rsplit("/", 1)[0] + f"/{name}"  # the postgres:// form add-ons hand out
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def test_postgres_url_from_an_add_on(tmp_path, redis_server, postgres_database, clips):
    redis_server.client().flushdb()
    assert postgres_database.startswith("postgres://")
    stack = Stack(tmp_path, redis_server.url, free_port(), DATABASE_URL=postgres_database)
    try:
        stack.migrate()
        stack.start_web()
        stack.start_worker()
        assert converts(stack, clips("c320x240", width=320, height=240, seconds=1))["state"] == "ready"
    finally:
        stack.stop()


def test_an_evicting_redis_is_reported_at_start(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    server.client().config_set("maxmemory-policy", "allkeys-lru")
    stack = Stack(tmp_path / "stack", server.url, free_port())
    try:
        stack.migrate()
        stack.start_web()
        stack.start_worker()
        deadline = time.monotonic() + 20
        while "REDIS MISCONFIGURED" not in (stack.workdir / "worker-0.log").read_text():
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert "REDIS MISCONFIGURED" in (stack.workdir / "web.log").read_text()
    finally:
        stack.stop()
        server.stop()


def test_worker_processes_option_replaces_dead_workers(tmp_path, redis_server):
    redis_server.client().flushdb()
    stack = Stack(tmp_path, redis_server.url, free_port())
    stack.migrate()
    dyno = stack.start_worker("--processes", "2")
    connection = redis_server.client()
    try:
        wait_for_workers(connection, 2)
        victim = Worker.all(connection=connection)[0]
        os.kill(victim.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:  # the killed one's registration stays until it expires; count live pids instead
            live = [w for w in Worker.all(connection=connection) if _running(w.pid) and w.pid != victim.pid]
            if len(live) == 2:
                break
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
    finally:
        stack.stop_worker(dyno)
    assert dyno.returncode == 0


def test_honcho_scales_workers_from_the_procfile(tmp_path, redis_server):
    redis_server.client().flushdb()
    stack = Stack(tmp_path, redis_server.url, free_port())
    stack.migrate()
    honcho = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-f", "Procfile", "-c", "worker=3", "worker"],
        cwd=ROOT, env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_for_workers(redis_server.client(), 3)
    finally:
        os.killpg(honcho.pid, signal.SIGTERM)
        honcho.wait(timeout=30)


def wait_for_workers(connection, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len([w for w in Worker.all(connection=connection) if _running(w.pid)]) < count:
        assert time.monotonic() < deadline, f"fewer than {count} workers started"
        time.sleep(0.2)


def _running(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
