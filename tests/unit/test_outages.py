"""Redis or the database away: a 503 with a JSON error, never a 500, and no upload lost."""

from __future__ import annotations

import fakeredis
import pytest

from app.domain.models import Video
from app.extensions import db
from tests.unit.conftest import upload


@pytest.fixture
def redis_away(app):
    server = fakeredis.FakeServer()
    server.connected = False
    app.extensions["redis"] = fakeredis.FakeRedis(server=server)
    for queue in app.extensions["queues"].values():
        queue.connection = app.extensions["redis"]


def test_uploads_are_kept_while_redis_is_away(client, auth, clips, redis_away):
    response = upload(client, auth, clips("c320x240", width=320, height=240, seconds=1))
    assert response.status_code == 202
    video = db.session.get(Video, response.json["id"])
    assert video.state == "queued"  # the recovery pass enqueues it once Redis is back
    shown = client.get(f"/api/videos/{video.id}", headers=auth)
    assert shown.status_code == 200
    cancel = client.post(f"/api/videos/{video.id}/cancel", headers=auth)
    assert cancel.status_code == 503 and "unavailable" in cancel.json["error"]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["redis"] == "unavailable"


def test_database_away_is_a_503(database_away):
    client = database_away.test_client()
    response = client.get("/api/videos", headers={"Authorization": "Bearer whatever"})
    assert response.status_code == 503 and "database" in response.json["error"].lower()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["database"] == "unavailable"
