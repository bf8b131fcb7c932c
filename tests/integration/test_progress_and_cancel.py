"""Progress while a conversion runs, and cancelling: real worker.py, real ffmpeg, a slow preset."""

from __future__ import annotations

import time

import pytest
from rq.job import Job

from tests.conftest import free_port
from tests.stack import ffmpeg_pids, running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    settings = {"X264_PRESET": "veryslow", "RENDITIONS": "144,240,360"}
    with running_stack(tmp_path_factory.mktemp("slow"), redis_server, free_port(), **settings) as stack:
        yield stack


def test_status_only_grows_and_the_job_meta_carries_progress(stack, redis_server, clips):
    alice = stack.create_user("alice")
    video_id = stack.upload(alice, clips("slow", width=640, height=360, seconds=10)).json()["id"]
    seen, meta = [], []
    connection = redis_server.client()
    while True:
        body = stack.video(alice, video_id)
        seen.append((body["state"], body["status"]))
        if body["state"] == "processing":
            progress = Job.fetch(f"convert-{video_id}", connection=connection).get_meta().get("progress")
            if progress is not None:
                meta.append(progress)
        if body["state"] in ("ready", "failed"):
            break
        time.sleep(0.1)
    statuses = [status for _, status in seen]
    assert statuses == sorted(statuses), "status went down"
    assert seen[-1] == ("ready", 1.0)
    assert all(status < 1.0 for state, status in seen if state != "ready")
    assert any(0.0 < status < 1.0 for _, status in seen), "no progress was seen between start and end"
    assert meta and any(0.0 < p < 1.0 for p in meta), "no progress in the job's meta while it ran"


def test_cancel_a_running_and_a_queued_conversion(stack, redis_server, clips):
    bob = stack.create_user("bob")
    running = stack.upload(bob, clips("slow", width=640, height=360, seconds=10)).json()["id"]
    waiting = stack.upload(bob, clips("c320x240", width=320, height=240, seconds=1)).json()["id"]
    deadline = time.monotonic() + 60
    while not ffmpeg_pids(running) or stack.video(bob, running)["status"] < 0.05:
        assert time.monotonic() < deadline, "the conversion never got going"
        time.sleep(0.05)
    assert stack.video(bob, waiting)["state"] == "queued"

    assert bob.post(f"{stack.url}/api/videos/{waiting}/cancel", timeout=10).status_code == 202
    asked = time.monotonic()
    assert bob.post(f"{stack.url}/api/videos/{running}/cancel", timeout=10).status_code == 202
    while ffmpeg_pids(running):
        assert time.monotonic() - asked < 2, "ffmpeg still runs 2 s after cancel"
        time.sleep(0.05)
    assert stack.video(bob, running)["state"] == "cancelled"

    # the worker is free again: a new upload converts, and the cancelled queued one never started
    later = stack.upload(bob, clips("c320x240", width=320, height=240, seconds=1)).json()["id"]
    assert stack.wait_final(bob, later)["state"] == "ready"
    body = stack.video(bob, waiting)
    assert body["state"] == "cancelled" and body["renditions"] == [] and body["status"] == 0.0
    assert not (stack.storage / "videos" / waiting / "144p.mp4").exists()
    job = Job.fetch(f"convert-{waiting}", connection=redis_server.client())
    assert job.get_status() == "canceled" and job.started_at is None


def test_delete_while_converting_stops_ffmpeg_and_removes_everything(stack, clips):
    carol = stack.create_user("carol")
    video_id = stack.upload(carol, clips("slow", width=640, height=360, seconds=10)).json()["id"]
    deadline = time.monotonic() + 60
    while not ffmpeg_pids(video_id):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert carol.delete(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 204
    asked = time.monotonic()
    while ffmpeg_pids(video_id):
        assert time.monotonic() - asked < 2, "ffmpeg still runs 2 s after delete"
        time.sleep(0.05)
    assert carol.get(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 404
    time.sleep(1)  # the job has stopped; nothing of the video may come back
    assert not (stack.storage / "videos" / video_id).exists()
