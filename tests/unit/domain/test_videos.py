"""The video service: the one writer of a video's state, by the transitions declared once."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.domain import videos
from app.domain.models import Delivery, Rendition, User, Video
from app.domain.states import FINAL_STATES, TRANSITIONS, State
from app.extensions import db
from app.platform.queueing import events_channel

ROOT = Path(__file__).resolve().parents[3]
STATE_WRITES = re.compile(r"\.state\s*=[^=]|values\([^)]*\bstate\s*=")


@pytest.fixture
def video(app, make_user) -> Video:
    user, _ = make_user()
    made = Video(user_id=user.id, title="clip", filename="clip.mp4", callback_url="https://example.com/hook")
    db.session.add(made)
    db.session.commit()
    return made


def listen(app, video_id: str):
    pubsub = app.extensions["redis"].pubsub()
    pubsub.subscribe(events_channel(video_id))
    pubsub.get_message(timeout=1)  # the subscription's confirmation
    return pubsub


def test_no_module_but_the_service_writes_a_videos_state():
    writers = [
        str(path.relative_to(ROOT))
        for package in ("app", "jobs")
        for path in (ROOT / package).rglob("*.py")
        if STATE_WRITES.search(path.read_text())
    ]
    assert writers == []  # not `video.state = ...`, not `update(Video).values(state=...)`
    assert videos._fields(State.READY, None, None)["state"] == "ready"  # the service's own UPDATE sets it


def test_final_states_have_no_way_out_but_review_and_retry():
    assert {state for state in FINAL_STATES if TRANSITIONS[state]} == {State.FAILED, State.REJECTED}
    # failed: an operator's retry from /rq (processing), or its owner's (queued); rejected: released
    assert TRANSITIONS[State.FAILED] == {State.PROCESSING, State.QUEUED}
    assert TRANSITIONS[State.REJECTED] == {State.QUEUED}


def test_a_move_the_lifecycle_lacks_is_refused_and_changes_nothing(video):
    assert videos.move(video, State.PROCESSING)
    assert videos.move(video, State.READY)
    with pytest.raises(videos.NotAllowed, match="a ready video can't become queued"):
        videos.move(video, State.QUEUED)
    assert db.session.get(Video, video.id).state == "ready"


def test_each_move_commits_announces_and_a_final_one_notifies(app, video):
    pubsub = listen(app, video.id)
    assert videos.move(video, State.PROCESSING)
    assert video.attempts == 1 and video.started_at is not None and video.finished_at is None
    assert videos.move(video, State.FAILED, error="The file is damaged.")
    heard = [json.loads(m["data"])["state"] for m in iter(lambda: pubsub.get_message(timeout=0.5), None)]
    assert heard == ["processing", "failed"]
    db.session.expire_all()
    stored = db.session.get(Video, video.id)
    assert stored.state == "failed" and stored.error == "The file is damaged." and stored.finished_at is not None
    assert [(d.kind, d.event) for d in stored.deliveries] == [("callback", "video.failed")]


def test_someone_elses_move_first_wins_and_what_came_with_mine_is_not_kept(app, video):
    assert videos.move(video, State.PROCESSING)
    assert video.state == "processing"  # what this worker's session holds
    with db.engine.begin() as other:  # the uploader's request, meanwhile
        other.execute(db.update(Video).where(Video.id == video.id).values(state="cancelled"))
    video.renditions = [Rendition(name="144p", width=192, height=144, size=1, key=f"{video.prefix}144p.mp4")]
    assert videos.move(video, State.READY) is False
    db.session.expire_all()
    assert db.session.get(Video, video.id).state == "cancelled"
    assert db.session.scalars(db.select(Rendition)).all() == []
    assert db.session.scalars(db.select(Delivery).where(Delivery.event == "video.ready")).all() == []


def test_cancel_ends_a_queued_video_with_its_time_and_its_notification(app, video):
    assert videos.cancel(video)
    db.session.expire_all()
    stored = db.session.get(Video, video.id)
    assert stored.state == "cancelled" and stored.finished_at is not None
    assert [d.event for d in stored.deliveries] == ["video.cancelled"]
    assert videos.cancel(stored) is False  # over already


def test_ready_is_status_one_and_nothing_else_is(video):
    video.status = 0.4
    db.session.commit()
    videos.move(video, State.PROCESSING)
    assert video.status == 0.4
    videos.move(video, State.READY)
    assert video.status == 1.0


def test_delete_removes_the_video_its_files_and_its_rows(app, video):
    folder = Path(app.extensions["storage"].path(video.prefix.rstrip("/")))
    folder.mkdir(parents=True)
    (folder / "source").write_bytes(b"x")
    videos.delete(video)
    assert not folder.exists()
    assert db.session.get(Video, video.id) is None
    assert db.session.scalars(db.select(User)).one()  # the owner stays


def test_a_video_handed_back_keeps_its_status_and_one_converted_again_starts_over(app, video):
    videos.move(video, State.PROCESSING)
    db.session.execute(db.update(Video).where(Video.id == video.id).values(status=0.4))
    db.session.commit()
    assert videos.requeue(video) and video.status == 0.4 and video.requeued_at is None  # it only grows
    videos.move(video, State.PROCESSING)
    assert videos.move(video, State.FAILED, error="The conversion failed after 3 attempts: timeout", retryable=True)
    assert video.retryable and video.status == 0.4
    assert videos.move(video, State.QUEUED)
    assert (video.state, video.status, video.attempts, video.error, video.retryable) == ("queued", 0.0, 0, None, False)
    assert video.requeued_at is not None  # its turn among its owner's videos counts from now
