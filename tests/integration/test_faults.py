"""Faults with real processes: the platform's SIGTERM, a crashed dyno, a stalled ffmpeg, Redis away."""

from __future__ import annotations

import signal
import time

import pytest
import requests
from rq.job import Job

from tests.hlsclient import complete, get
from tests.stack import ffmpeg_pids, signal_dyno
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLOW = {"X264_PRESET": "veryslow", "RENDITIONS": "144,240,360"}


def processing(stack, session, video_id, at_least: float = 0.05):
    body = stack.video(session, video_id)
    return body["state"] == "processing" and body["status"] >= at_least


def playable(stack, session, video_id) -> dict | None:
    body = stack.video(session, video_id)
    return body if body["state"] == "processing" and body["playable"] else None


def test_sigterm_to_a_worker_dyno_hands_the_job_to_another_worker(make_stack, own_redis, clips):
    stack = make_stack(**SLOW)
    alice = stack.create_user("alice")
    first = stack.start_worker()
    video_id = stack.upload(alice, clips("slow", width=640, height=360, seconds=10)).json()["id"]
    wait_until(lambda: processing(stack, alice, video_id), 60)
    job = Job.fetch(f"convert-{video_id}", connection=own_redis.client())
    first_worker = job.worker_name
    second = stack.start_worker()
    signal_dyno(first.pid, signal.SIGTERM)
    first.wait(timeout=30)  # the platform's SIGKILL would come at 30 s
    assert ffmpeg_pids(video_id) == [] or len(ffmpeg_pids(video_id)) == 1  # the old one is gone

    def taken_up_by_another():
        job.refresh()
        return job.get_status() == "started" and job.worker_name not in (None, first_worker)

    wait_until(taken_up_by_another, 15)  # not after a heartbeat expires: at once
    body = stack.wait_final(alice, video_id, timeout=180)
    assert body["state"] == "ready", body
    assert second.poll() is None
    complete(body["playback_url"], body["duration"])  # no segment twice, none missing


def test_a_killed_dyno_loses_nothing(make_stack, clips):
    stack = make_stack(**SLOW, WORKER_HEARTBEAT_SECONDS="1")  # found dead in 5 s, not the default 25 s
    alice = stack.create_user("alice")
    dyno = stack.start_worker()
    video_id = stack.upload(alice, clips("slow", width=640, height=360, seconds=10)).json()["id"]
    watching = wait_until(lambda: playable(stack, alice, video_id), 60)  # someone is watching it already
    signal_dyno(dyno.pid, signal.SIGKILL)
    dyno.wait(timeout=10)
    killed = time.monotonic()
    assert get(watching["playback_url"]).status_code == 200, "still watchable while no worker has it"
    stack.start_worker()  # the platform restarts the dyno
    body = stack.wait_final(alice, video_id, timeout=170)
    assert body["state"] == "ready", body
    assert time.monotonic() - killed < 120
    complete(body["playback_url"], body["duration"])  # no segment twice, none missing


def test_a_stalled_ffmpeg_is_killed_and_the_job_retried(make_stack, clips):
    stack = make_stack(FFMPEG_STALL_SECONDS="3", JOB_RETRY_INTERVALS="1,1", X264_PRESET="ultrafast")
    alice = stack.create_user("alice")
    stack.start_worker()
    video_id = stack.upload(alice, clips("slow", width=640, height=360, seconds=10)).json()["id"]
    frozen = wait_until(lambda: ffmpeg_pids(video_id), 60, step=0.05)
    for pid in frozen:
        os_kill(pid, signal.SIGSTOP)
    body = stack.wait_final(alice, video_id, timeout=180)
    assert body["state"] == "ready", body


def test_ffmpeg_stalling_on_every_attempt_fails_with_a_reason(make_stack, clips):
    stack = make_stack(FFMPEG_STALL_SECONDS="1", JOB_RETRIES="1", JOB_RETRY_INTERVALS="1", X264_PRESET="ultrafast")
    alice = stack.create_user("alice")
    stack.start_worker()
    video_id = stack.upload(alice, clips("slow", width=640, height=360, seconds=10)).json()["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for pid in ffmpeg_pids(video_id):
            os_kill(pid, signal.SIGSTOP)
        body = stack.video(alice, video_id)
        if body["state"] in ("ready", "failed"):
            break
        time.sleep(0.05)
    assert body["state"] == "failed", body
    assert "no progress" in body["error"] and "2 attempts" in body["error"]


def test_redis_going_away_loses_no_video(make_stack, own_redis, clips):
    stack = make_stack(X264_PRESET="veryslow", RENDITIONS="144,240")
    alice = stack.create_user("alice")
    stack.start_worker()
    running = stack.upload(alice, clips("slow", width=640, height=360, seconds=10)).json()["id"]
    wait_until(lambda: processing(stack, alice, running), 60)
    own_redis.stop()
    health = requests.get(f"{stack.url}/healthz", timeout=15)
    assert health.status_code == 503 and health.json()["redis"] == "unavailable"
    started = time.monotonic()
    refused = alice.post(f"{stack.url}/api/videos/{running}/cancel", timeout=15)
    assert refused.status_code == 503 and "unavailable" in refused.json()["error"]
    assert time.monotonic() - started < 10
    kept = stack.upload(alice, clips("c320x180", width=320, height=180, seconds=1))
    assert kept.status_code == 202, kept.text  # stored; queued in the database
    assert stack.video(alice, running)["state"] in ("processing", "ready")
    time.sleep(2)
    own_redis.start()  # empty: everything Redis held is gone
    for video_id in (running, kept.json()["id"]):
        body = stack.wait_final(alice, video_id, timeout=150)
        assert body["state"] == "ready", body
    listed = alice.get(f"{stack.url}/api/videos", timeout=10).json()["videos"]
    assert sorted(v["id"] for v in listed) == sorted([running, kept.json()["id"]])


def os_kill(pid: int, sig: int) -> None:
    try:
        import os

        os.kill(pid, sig)
    except ProcessLookupError:
        pass
