"""Redis away for longer than any timeout: busy, idle and starting workers wait for it and carry on."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_faults import processing
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

OUTAGE_SECONDS = 20  # over the worker's TTL (17 s at a 1 s heartbeat), its socket timeouts and RQ's 7 s


def test_workers_ride_out_a_long_redis_outage_busy_idle_or_starting(make_stack, own_redis, clips):
    stack = make_stack(X264_PRESET="veryslow", RENDITIONS="144,240", WORKER_HEARTBEAT_SECONDS="1")
    alice = stack.create_user("alice")
    busy, idle = stack.start_worker(), stack.start_worker()
    running = stack.upload(alice, clips("slow", width=640, height=360, seconds=10)).json()["id"]
    wait_until(lambda: processing(stack, alice, running), 60, "the conversion to start")
    own_redis.stop()
    stopped = time.monotonic()
    small = clips("c320x180", width=320, height=180, seconds=1)
    during = stack.upload(alice, small)
    assert during.status_code == 202, during.text  # stored and queued in the database
    starting = stack.start_worker()  # a dyno (re)started while Redis is away waits for it
    time.sleep(max(0.0, stopped + OUTAGE_SECONDS - time.monotonic()))
    workers = {"busy": busy, "idle": idle, "starting": starting}
    assert {name: w.poll() for name, w in workers.items()} == dict.fromkeys(workers), stack.log_tails()
    own_redis.start()  # empty: what Redis held is gone
    after = stack.upload(alice, small)
    assert after.status_code == 202, after.text
    for video_id in (running, during.json()["id"], after.json()["id"]):
        body = stack.wait_final(alice, video_id, timeout=90)  # nobody restarts anything
        assert body["state"] == "ready", body
    assert {name: w.poll() for name, w in workers.items()} == dict.fromkeys(workers), stack.log_tails()
    for index in range(3):  # said once per outage, not once per retry
        path = stack.workdir / f"worker-{index}.log"
        # a worker still in its back-off (4 s at most) when the others had finished says so a moment later
        wait_until(lambda path=path: "Redis is back after" in path.read_text(), 15, what=f"{path.name} to reconnect")
        log = path.read_text()
        assert log.count("Redis unavailable") == 1, log[-3000:]
        assert "could not connect to Redis instance" not in log
