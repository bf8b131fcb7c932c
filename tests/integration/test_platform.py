"""What a Heroku-style platform hands out: TLS Redis with a self-signed certificate, postgres:// URLs,
Procfile scaling, and a Redis that may evict keys."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from rq import Worker

from tests.conftest import RedisServer, free_port
from tests.stack import ROOT, Stack

pytestmark = pytest.mark.integration

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class TlsRedisServer(RedisServer):
    """redis-server speaking TLS only. Its certificate is self-signed, or signed by `ca` when given:
    the URL has no query string, as a hosted Redis add-on hands it out."""

    def __init__(self, workdir, ca: Path | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(workdir)
        key, cert = workdir / "key.pem", workdir / "cert.pem"
        if ca is None:
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=redis",
                    "-keyout", str(key), "-out", str(cert))
        else:
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key),
                    "-out", str(workdir / "server.csr"))
            (workdir / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
            openssl("x509", "-req", "-in", str(workdir / "server.csr"), "-CA", str(ca / "ca.pem"),
                    "-CAkey", str(ca / "ca.key"), "-CAcreateserial", "-days", "1", "-extfile", str(workdir / "san.ext"),
                    "-out", str(cert))
        self.url = f"rediss://127.0.0.1:{self.port}/0"

    def client(self, **options) -> redis.Redis:
        """The tests' own look inside, trusting the server whatever signed it."""
        return redis.Redis.from_url(self.url, ssl_cert_reqs="none", ssl_check_hostname=False, **options)

    def arguments(self) -> list[str]:
        return ["--port", "0", "--tls-port", str(self.port), "--tls-auth-clients", "no",
                "--tls-cert-file", str(self.workdir / "cert.pem"), "--tls-key-file", str(self.workdir / "key.pem")]


def make_ca(folder: Path) -> Path:
    folder.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Test CA",
            "-keyout", str(folder / "ca.key"), "-out", str(folder / "ca.pem"))
    return folder


def converts(stack: Stack, clip) -> dict:
    alice = stack.create_user(f"u{uuid.uuid4().hex[:8]}")
    return stack.wait_final(alice, stack.upload(alice, clip).json()["id"])


@pytest.mark.slow
def test_tls_redis_with_a_self_signed_certificate(tmp_path, clips):
    server = TlsRedisServer(tmp_path)
    server.start()
    stack = Stack(tmp_path / "stack", server.url, free_port(), REDIS_TLS_VERIFY="false")
    try:
        stack.migrate()
        stack.start_web()
        stack.start_worker()
        assert requests.get(f"{stack.url}/healthz", timeout=10).json()["redis"] == "ok"
        assert converts(stack, clips("c320x240", width=320, height=240, seconds=1))["state"] == "ready"
        assert "conveyor_queue_depth" in requests.get(f"{stack.url}/metrics", timeout=10).text
        stack.create_user("root", admin=True)
        queues = stack.log_in("root").get(f"{stack.url}/rq/0/data/queues.json", timeout=10).json()["queues"]
        assert "conveyor-default" in {queue["name"] for queue in queues}
        done = stack.flask("videos", "convert", str(clips("c320x240", width=320, height=240, seconds=1)),
                           "--user", "root", "--wait")
        assert "ready" in done
    finally:
        stack.stop()
        server.stop()


def test_certificates_are_verified_unless_told_otherwise(tmp_path, monkeypatch):
    from app.platform.queueing import connect

    self_signed = TlsRedisServer(tmp_path / "self")
    ca = make_ca(tmp_path / "ca")
    signed = TlsRedisServer(tmp_path / "signed", ca=ca)
    self_signed.start()
    signed.start()
    try:
        with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
            connect(self_signed.url).ping()
        assert connect(self_signed.url, tls_verify=False).ping()
        monkeypatch.setenv("SSL_CERT_FILE", str(ca / "ca.pem"))  # the machine trusts this CA, as a real one
        assert connect(signed.url).ping()
    finally:
        self_signed.stop()
        signed.stop()


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
        stack.stop()  # none of the dyno's processes outlives it
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
        stack.stop()  # none of honcho's processes outlives it


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
