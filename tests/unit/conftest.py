"""Unit fixtures: a fresh app per test on SQLite and fakeredis, and an in-process worker."""

from __future__ import annotations

import fakeredis
import pytest
from flask_migrate import upgrade
from rq import SimpleWorker

from app import create_app
from app.domain.models import User
from app.extensions import db
from app.platform.queueing import QUEUE_NAMES


@pytest.fixture
def app(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}",
            "STORAGE_URL": f"file://{tmp_path / 'storage'}",
            "REDIS_CONNECTION": fakeredis.FakeRedis(),
            "RENDITIONS": [144, 240, 480],
            "X264_PRESET": "ultrafast",
            "JOB_RETRIES": 0,
        }
    )
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()


@pytest.fixture
def database_away(tmp_path):
    """An app whose database refuses every connection (a port nothing listens on)."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
            "STORAGE_URL": f"file://{tmp_path / 'storage'}",
            "REDIS_CONNECTION": fakeredis.FakeRedis(),
        }
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    def make(name: str = "alice", admin: bool = False) -> tuple[User, str]:
        user = User(username=name, is_admin=admin)
        user.set_password("password1")
        token = user.new_token()
        db.session.add(user)
        db.session.commit()
        return user, token

    return make


@pytest.fixture
def token(make_user) -> str:
    return make_user()[1]


@pytest.fixture
def auth(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def run_jobs(app):
    """Run every queued job now, in this process."""

    def run() -> None:
        connection = app.extensions["redis"]
        SimpleWorker(list(app.extensions["queues"][name] for name in QUEUE_NAMES), connection=connection).work(
            burst=True
        )
        db.session.expire_all()

    return run


def upload(client, auth, path, **fields):
    with open(path, "rb") as handle:
        data = {"file": (handle, path.name), **fields}
        return client.post("/api/videos", headers=auth, data=data, content_type="multipart/form-data")
