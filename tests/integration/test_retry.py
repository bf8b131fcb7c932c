"""Converting a failed video again, on real workers and a real Redis: a failure of the moment (every
attempt broke) is converted again to ready, a long video's too; a file that failed itself is a 409."""

from __future__ import annotations

import pytest
from rq import Queue

from tests.hlsclient import complete
from tests.media import make_sync_clip
from tests.stack import ROOT
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAULTS = {"PYTHONPATH": f"{ROOT / 'tests' / 'faults'}:{ROOT}"}  # tests/faults/sitecustomize.py
QUEUES = ("conveyor-high", "conveyor-default", "conveyor-low")


def failed_jobs(redis) -> list[str]:
    return sorted(job for name in QUEUES for job in Queue(name, connection=redis).failed_job_registry.get_job_ids())


def retry(stack, session, video_id: str):
    return session.post(f"{stack.url}/api/videos/{video_id}/retry", timeout=10)


def test_a_video_whose_attempts_all_broke_is_converted_again_to_ready(make_stack, own_redis, clips, tmp_path):
    stack = make_stack(JOB_RETRIES="1", JOB_RETRY_INTERVALS="1")
    alice = stack.create_user("alice")
    broken = stack.start_worker(CONVEYOR_TEST_FAULTS="fail:convert-*", **FAULTS)
    clip = clips("retry", width=320, height=240, seconds=2)
    video_id = stack.upload(alice, clip).json()["id"]
    failed = stack.wait_final(alice, video_id)
    assert failed["state"] == "failed" and "injected fault" in failed["error"], failed  # raised before the job ran
    assert failed["can_retry"] is True
    # the video is failed by RQ's failure callback, which runs before RQ files the job as failed
    wait_until(lambda: failed_jobs(own_redis.client()) == [f"convert-{video_id}"], what="RQ to file the failed job")

    stack.stop_worker(broken)
    stack.start_worker()  # the platform's next worker, without the fault
    response = retry(stack, alice, video_id)
    assert response.status_code == 202, response.text
    assert (response.json()["state"], response.json()["status"], response.json()["can_retry"]) == ("queued", 0.0, False)
    ready = stack.wait_final(alice, video_id)
    assert ready["state"] == "ready" and "error" not in ready, ready
    assert ready["size"] == clip.stat().st_size and ready["codecs"] == {"video": "h264", "audio": "aac"}
    complete(ready["playback_url"], ready["duration"])
    assert failed_jobs(own_redis.client()) == []  # /rq lists no failure that was redone
    again = retry(stack, alice, video_id)
    assert again.status_code == 409 and "ready" in again.json()["error"]

    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip.read_bytes()[: clip.stat().st_size // 3])
    damaged = stack.upload(alice, truncated).json()["id"]
    body = stack.wait_final(alice, damaged)
    assert body["state"] == "failed" and body["can_retry"] is False, body
    refused = retry(stack, alice, damaged)
    assert refused.status_code == 409 and "would fail the same way" in refused.json()["error"]
    assert stack.video(alice, damaged)["state"] == "failed"


def test_a_long_video_whose_chunk_broke_is_converted_again_to_ready(make_stack, clips, tmp_path):
    stack = make_stack(JOB_RETRIES="0", CHUNK_THRESHOLD_SECONDS="10", CHUNK_SECONDS="12", JOB_RETRY_INTERVALS="1")
    carol = stack.create_user("carol")
    broken = stack.start_worker(CONVEYOR_TEST_FAULTS="fail:chunk-*-1", **FAULTS)
    long_clip = make_sync_clip(tmp_path / "long.mp4", seconds=30, width=480, height=270)
    video_id = stack.upload(carol, long_clip).json()["id"]
    failed = stack.wait_final(carol, video_id, timeout=120)
    assert failed["state"] == "failed" and failed["can_retry"] is True, failed
    assert "(chunk 2 of 3)" in failed["error"]

    stack.stop_worker(broken)
    stack.start_worker()
    assert retry(stack, carol, video_id).status_code == 202
    ready = stack.wait_final(carol, video_id, timeout=240)
    assert ready["state"] == "ready", ready
    complete(ready["playback_url"], ready["duration"])  # every chunk's segments, none twice, none missing
