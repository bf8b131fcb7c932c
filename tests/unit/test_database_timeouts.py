"""The database pool and its timeouts: an upload holds no connection while its body arrives; an empty
pool is a 503; a read-only database is unhealthy."""

from __future__ import annotations

import io
import sqlite3

import fakeredis
import pytest

from app import create_app
from app.config import engine_options
from app.extensions import db

BOUNDARY = "b0undary"


class Counting(io.RawIOBase):
    """A request body that notes how many pooled connections are out while it is being read."""

    def __init__(self, data: bytes, engine):
        self.data = io.BytesIO(data)
        self.engine = engine
        self.out_while_read: list[int] = []

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.data.seek(offset, whence)

    def tell(self) -> int:
        return self.data.tell()

    def readinto(self, buffer) -> int:
        self.out_while_read.append(self.engine.pool.checkedout())
        chunk = self.data.read(min(len(buffer), 4096))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def form(path) -> bytes:
    return (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{path.name}\"\r\n"
        f"Content-Type: video/mp4\r\n\r\n"
    ).encode() + path.read_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode()


def test_an_upload_holds_no_database_connection_while_its_body_arrives(app, client, auth, clips):
    body = Counting(form(clips("c320x240", width=320, height=240, seconds=1)), db.engine)
    response = client.post(
        "/api/videos", headers=auth, input_stream=body, content_length=len(body.data.getvalue()),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 202, response.json
    assert body.out_while_read and set(body.out_while_read) == {0}


def test_a_pool_with_no_connection_free_is_a_503_not_a_500(tmp_path, auth):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}",
        "STORAGE_URL": f"file://{tmp_path / 'storage'}", "REDIS_CONNECTION": fakeredis.FakeRedis(),
        "DATABASE_POOL_SIZE": 1, "DATABASE_TIMEOUT": 1,
    })
    with app.app_context():
        held = db.engine.connect()  # the one connection, taken
        try:
            response = app.test_client().get("/api/videos", headers=auth)
        finally:
            held.close()
    assert response.status_code == 503
    assert "busy" in response.json["error"]


def test_a_read_only_database_is_unhealthy(app, tmp_path):
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    read_only = create_app({
        "TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///file:{path}?mode=ro&uri=true",
        "STORAGE_URL": f"file://{tmp_path / 'storage'}", "REDIS_CONNECTION": fakeredis.FakeRedis(),
    })
    health = read_only.test_client().get("/healthz")
    assert health.status_code == 503 and health.json["database"] == "unavailable"
    assert sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("SELECT count(*) FROM users").fetchone()
    assert app.test_client().get("/healthz").status_code == 200  # the same file, writable


@pytest.mark.parametrize(
    ("uri", "connect_args"),
    [
        ("sqlite:////x/conveyor.db", {"timeout": 3}),
        ("postgresql+psycopg://u@h/d", {"connect_timeout": 3, "options": "-c statement_timeout=30000"}),
    ],
)
def test_connections_time_out_and_the_pool_has_one_per_thread(uri, connect_args):
    options = engine_options({
        "SQLALCHEMY_DATABASE_URI": uri, "DATABASE_TIMEOUT": 3, "DATABASE_STATEMENT_TIMEOUT": 30,
        "DATABASE_POOL_SIZE": 32,
    })
    assert options["pool_pre_ping"] and options["pool_timeout"] == 3
    assert options["pool_size"] + options["max_overflow"] == 32
    assert connect_args.items() <= options["connect_args"].items()
