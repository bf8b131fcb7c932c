"""Cost and fairness through the real service, on one worker: a user's backlog waits outside RQ's
queues beyond MAX_ACTIVE_CONVERSIONS, so another user's upload starts before that backlog is done;
a video over the work budget fails with the limit's message; a picture that grows partway through
the video past the size limit stops its conversion with a message that says so."""

from __future__ import annotations

import sqlite3
import time

import pytest

from tests.conftest import free_port
from tests.hostile import growing_picture
from tests.media import make_clip
from tests.stack import FINAL, running_stack

pytestmark = pytest.mark.integration

CAP = 2


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    with running_stack(
        tmp_path_factory.mktemp("fair"), redis_server, free_port(),
        MAX_ACTIVE_CONVERSIONS=str(CAP),
        MAX_VIDEO_WORK_HOURS="0.0001",  # 0.36 s of 1080p30: about 3.9 s of a small clip at 25 fps
        MAX_WIDTH="1280", MAX_HEIGHT="1280", MAX_PIXELS="200000",
    ) as stack:
        yield stack


def started_at(stack, video_id: str) -> str:
    with sqlite3.connect(stack.env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        return db.execute("SELECT started_at FROM videos WHERE id = ?", (video_id,)).fetchone()[0]


def in_rq(connection, stack, session, backlog: list[str]) -> tuple[int, dict[str, str]]:
    """How many of these videos had a job queued or running in RQ while unfinished, and their states.

    The jobs are read before the videos: a job RQ still calls `started` just after its video ended
    (while RQ records its end and the next one is admitted) is then counted only when its video is
    seen unfinished afterwards, so it was running when its status was read."""
    statuses = [connection.hget(f"rq:job:convert-{video_id}", "status") for video_id in backlog]
    states = {video_id: stack.video(session, video_id)["state"] for video_id in backlog}
    live = sum(status in (b"queued", b"started") and state not in FINAL for status, state in
               zip(statuses, states.values(), strict=True))
    return live, states


def test_one_users_backlog_does_not_hold_back_anothers_upload(stack, redis_server, tmp_path):
    alice, bob = stack.create_user("alice"), stack.create_user("bob")
    clip = make_clip(tmp_path / "short.mp4", seconds=1, width=320, height=240)
    backlog = [stack.upload(alice, clip).json()["id"] for _ in range(5)]
    other = stack.upload(bob, clip).json()["id"]
    connection = redis_server.client()
    deadline, most = time.monotonic() + 180, 0
    while time.monotonic() < deadline:
        live, states = in_rq(connection, stack, alice, backlog)
        most = max(most, live)
        if all(state in FINAL for state in states.values()):
            break
        time.sleep(0.1)
    assert most == CAP  # the cap held: the others waited outside the queues
    assert [stack.wait_final(alice, video_id)["state"] for video_id in backlog] == ["ready"] * 5
    assert stack.wait_final(bob, other)["state"] == "ready"
    # one worker: alice's first two, then bob's, then the rest of alice's
    assert started_at(stack, other) < started_at(stack, backlog[2])


def test_a_video_over_the_work_budget_fails_with_the_limit(stack, tmp_path):
    carol = stack.create_user("carol")
    clip = make_clip(tmp_path / "long.mp4", seconds=6, width=320, height=240)
    body = stack.wait_final(carol, stack.upload(carol, clip).json()["id"])
    assert body["state"] == "failed"
    assert body["error"].startswith("This video is 320x240 at 25 fps for 6 seconds: as much decoding as")
    assert "the limit for one video is 0.36 seconds. Upload a shorter part of it" in body["error"]


def test_a_picture_that_grows_past_the_limit_stops_the_conversion(stack, tmp_path):
    dave = stack.create_user("dave")
    clip = growing_picture(tmp_path / "growing.ts", first=(320, 240), then=(640, 640))
    body = stack.wait_final(dave, stack.upload(dave, clip).json()["id"])
    assert body["state"] == "failed"
    assert body["error"].startswith("A picture partway through the video is 640x640, over the limit on picture size")
    assert body["playable"] is False
