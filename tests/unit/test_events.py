"""`GET /api/videos/<id>/events`: server-sent events fed by Redis pub/sub."""

from __future__ import annotations

import json

import pytest

from app.domain.models import User, Video
from app.extensions import db
from app.live import Hub
from app.platform.queueing import publish_change


class Stream:
    """Reads a streamed response one server-sent event (or comment) at a time."""

    def __init__(self, response):
        self.response = response
        self._chunks = response.iter_encoded()
        self._buffer = ""

    def next(self) -> str:
        while "\n\n" not in self._buffer:
            self._buffer += next(self._chunks).decode()
        block, self._buffer = self._buffer.split("\n\n", 1)
        return block

    def next_video(self) -> dict:
        while True:
            block = self.next()
            if block.startswith("data: "):
                return json.loads(block[len("data: ") :])

    def ended(self) -> bool:
        try:
            self.next()
        except StopIteration:
            return True
        return False


@pytest.fixture
def video_id(token):
    video = Video(user_id=User.by_token(token).id, title="Clip", filename="clip.mp4")
    db.session.add(video)
    db.session.commit()
    return video.id


def open_stream(client, auth, video_id) -> Stream:
    response = client.get(f"/api/videos/{video_id}/events", headers=auth, buffered=False)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    return Stream(response)


def change(app, video_id: str, state: str, status: float) -> None:
    """What the worker does: write the database, then publish."""
    db.session.execute(db.update(Video).where(Video.id == video_id).values(state=state, status=status))
    db.session.commit()
    publish_change(app.extensions["redis"], video_id, state, status)


def test_the_current_state_comes_first_then_every_change_until_a_final_one(app, client, auth, video_id):
    stream = open_stream(client, auth, video_id)
    first = stream.next_video()
    assert first["id"] == video_id and first["state"] == "queued" and first["status"] == 0.0
    change(app, video_id, "processing", 0.25)
    seen = stream.next_video()
    assert (seen["state"], seen["status"]) == ("processing", 0.25)
    change(app, video_id, "processing", 0.5)
    assert stream.next_video()["status"] == 0.5
    change(app, video_id, "failed", 0.5)
    last = stream.next_video()
    assert last["state"] == "failed" and last["error"]
    assert stream.ended()


def test_a_late_subscriber_gets_the_final_state_and_the_end(client, auth, video_id):
    db.session.execute(db.update(Video).where(Video.id == video_id).values(state="cancelled"))
    db.session.commit()
    stream = open_stream(client, auth, video_id)
    assert stream.next_video()["state"] == "cancelled"
    assert stream.ended()


def test_an_idle_stream_sends_keep_alive_comments(app, client, auth, video_id):
    app.config["EVENTS_KEEPALIVE_SECONDS"] = 0.05
    stream = open_stream(client, auth, video_id)
    stream.next_video()
    assert stream.next().startswith(":")
    stream.response.close()


def test_progress_never_goes_back(app, client, auth, video_id):
    stream = open_stream(client, auth, video_id)
    stream.next_video()
    change(app, video_id, "processing", 0.6)
    assert stream.next_video()["status"] == 0.6
    publish_change(app.extensions["redis"], video_id, "processing", 0.3)  # a stale message
    change(app, video_id, "processing", 0.7)
    assert stream.next_video()["status"] == 0.7
    stream.response.close()


def test_streams_are_capped_per_process_and_a_closed_one_frees_its_slot(app, client, auth, video_id):
    app.extensions["live"] = Hub(app.extensions["redis"], limit=1)
    first = open_stream(client, auth, video_id)
    first.next_video()
    refused = client.get(f"/api/videos/{video_id}/events", headers=auth)
    assert refused.status_code == 503 and "poll" in refused.json["error"]
    first.response.close()
    again = open_stream(client, auth, video_id)
    assert again.next_video()["id"] == video_id
    again.response.close()


def test_events_need_a_token_or_a_session_and_only_for_ones_own_video(client, make_user, video_id):
    assert client.get(f"/api/videos/{video_id}/events").status_code == 401
    _, other = make_user("bob")
    response = client.get(f"/api/videos/{video_id}/events", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404
