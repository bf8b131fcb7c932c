"""A long video's chunks meet the faults of real processes: a worker killed between the last chunk and
the finish, killed or restarted mid-chunk, a chunk that fails for good; a cancel or a delete half-way;
and a short upload arriving behind a long one's chunks."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import DeferredJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from tests.hlsclient import complete
from tests.media import make_sync_clip
from tests.stack import ROOT, Stack, signal_dyno
from tests.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECONDS = 36  # three chunks of 12 s
# a killed worker is found dead after 5 heartbeats: 5 s here, not the 25 s of the default
CHUNKED = {"CHUNK_THRESHOLD_SECONDS": "10", "CHUNK_SECONDS": "12", "JOB_RETRY_INTERVALS": "1,1",
           "WORKER_HEARTBEAT_SECONDS": "1"}
FAULTS = {"PYTHONPATH": f"{ROOT / 'tests' / 'faults'}:{ROOT}"}  # tests/faults/sitecustomize.py
QUEUES = ("conveyor-high", "conveyor-default", "conveyor-low")


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    return make_sync_clip(tmp_path_factory.mktemp("long") / "long.mp4", seconds=SECONDS, width=480, height=270)


def job_of(redis, video_id: str, kind: str, number: int = 0) -> Job:
    return Job.fetch(f"{kind}-{video_id}-{number}", connection=redis)


def running(stack: Stack, video_id: str, kind: str, number: int) -> bool:
    return any(i["kind"] == kind and i["number"] == number and i["started_at"] and not i["finished_at"]
               for i in stack.work_items(video_id))


def left_in_rq(redis, video_id: str) -> list[str]:
    """Job ids of the video that RQ would still run, or holds as running or waiting."""
    found = []
    for name in QUEUES:
        queue = Queue(name, connection=redis)
        ids = [*queue.job_ids, *StartedJobRegistry(queue=queue).get_job_ids(),
               *DeferredJobRegistry(queue=queue).get_job_ids(), *ScheduledJobRegistry(queue=queue).get_job_ids()]
        found += [job_id for job_id in ids if video_id in job_id]
    return found


def test_a_worker_killed_between_the_last_chunk_and_the_finish_loses_nothing(make_stack, own_redis, long_clip):
    """One worker takes the chunks in order; it dies right after the last one's work, before RQ records
    it done (so before RQ queues the finish). The next worker finds the job, sees the chunk done, and
    the finish runs, once."""
    stack = make_stack(**CHUNKED)
    carol = stack.create_user("carol")
    doomed = stack.start_worker(CONVEYOR_TEST_FAULTS="kill-after:chunk-*-2", **FAULTS)
    video_id = stack.upload(carol, long_clip).json()["id"]
    doomed.wait(timeout=120)
    assert doomed.returncode == -signal.SIGKILL
    chunk = job_of(own_redis.client(), video_id, "chunk", 2)
    assert chunk.get_status() == "started", "killed before RQ could record it finished"
    assert all(i["finished_at"] for i in stack.work_items(video_id) if i["kind"] != "finish")
    stack.start_worker()  # the platform restarts the dyno
    body = stack.wait_final(carol, video_id, timeout=120)
    assert body["state"] == "ready", body
    assert [(i["kind"], i["attempts"]) for i in stack.work_items(video_id)] == [
        ("chunk", 1), ("chunk", 1), ("chunk", 1), ("audio", 1), ("finish", 1),
    ], "no chunk done again, the finish done once"
    complete(body["playback_url"], SECONDS)
    assert left_in_rq(own_redis.client(), video_id) == []


def test_the_finish_runs_once_when_the_last_chunks_end_at_the_same_moment(make_stack, own_redis, long_clip, tmp_path):
    """Two workers each hold a last chunk after its work until both are done, then let both end at once:
    both ask RQ for the finish at the same moment."""
    stack = make_stack(**CHUNKED)
    carol = stack.create_user("carol")
    release = tmp_path / "release"
    held = {"CONVEYOR_TEST_FAULTS": "hold-after:chunk-*-1,hold-after:chunk-*-2", "CONVEYOR_TEST_RELEASE": str(release)}
    stack.start_worker(**held, **FAULTS)
    stack.start_worker(**held, **FAULTS)
    video_id = stack.upload(carol, long_clip).json()["id"]
    wait_until(lambda: all(i["finished_at"] for i in stack.work_items(video_id) if i["kind"] != "finish"), 120)
    redis = own_redis.client()
    assert {job_of(redis, video_id, "chunk", n).get_status() for n in (1, 2)} == {"started"}, "both held"
    release.touch()
    body = stack.wait_final(carol, video_id, timeout=60)
    assert body["state"] == "ready", body
    assert [(i["kind"], i["attempts"]) for i in stack.work_items(video_id)][-1] == ("finish", 1)
    finished = stack.workdir.glob("worker-*.log")
    assert sum(log.read_text().count(f"video {video_id} finished from 3 chunks") for log in finished) == 1
    assert left_in_rq(redis, video_id) == []


def on_the_second_chunk(make_stack, long_clip):
    """One slow worker, a long video's upload, and that worker on its second chunk."""
    stack = make_stack(X264_PRESET="veryslow", **CHUNKED)
    carol = stack.create_user("carol")
    worker = stack.start_worker()
    video_id = stack.upload(carol, long_clip).json()["id"]
    wait_until(lambda: running(stack, video_id, "chunk", 1), 120)
    return stack, carol, worker, video_id


def test_a_killed_worker_loses_only_the_chunk_it_was_on(make_stack, own_redis, long_clip):
    stack, carol, dyno, video_id = on_the_second_chunk(make_stack, long_clip)
    signal_dyno(dyno.pid, signal.SIGKILL)
    dyno.wait(timeout=10)
    stack.start_worker()
    body = stack.wait_final(carol, video_id, timeout=240)
    assert body["state"] == "ready", body
    attempts = {(i["kind"], i["number"]): i["attempts"] for i in stack.work_items(video_id)}
    assert attempts[("chunk", 0)] == 1 and attempts[("chunk", 1)] == 2, attempts
    complete(body["playback_url"], SECONDS)


def test_sigterm_hands_the_running_chunk_back_and_the_video_stays_processing(make_stack, own_redis, long_clip):
    stack, carol, first, video_id = on_the_second_chunk(make_stack, long_clip)
    signal_dyno(first.pid, signal.SIGTERM)
    first.wait(timeout=30)
    redis = own_redis.client()
    chunk = job_of(redis, video_id, "chunk", 1)
    assert chunk.get_status() == "queued" and chunk.id == Queue("conveyor-low", connection=redis).job_ids[0]
    assert stack.video(carol, video_id)["state"] == "processing", "its other parts are done or still to come"
    stack.start_worker()
    body = stack.wait_final(carol, video_id, timeout=240)
    assert body["state"] == "ready", body
    complete(body["playback_url"], SECONDS)


def test_a_chunk_that_fails_for_good_fails_the_video_and_stops_the_rest(make_stack, own_redis, long_clip):
    stack = make_stack(JOB_RETRIES="1", **CHUNKED)
    carol = stack.create_user("carol")
    stack.start_worker(CONVEYOR_TEST_FAULTS="fail:chunk-*-1", **FAULTS)
    video_id = stack.upload(carol, long_clip).json()["id"]
    body = stack.wait_final(carol, video_id, timeout=120)
    assert body["state"] == "failed"
    assert body["error"].startswith("The conversion (chunk 2 of 3) failed after 2 attempts: injected fault"), body
    assert not body["playable"] and body["playback_url"] is None
    redis = own_redis.client()
    wait_until(lambda: left_in_rq(redis, video_id) == [], 10)
    assert job_of(redis, video_id, "finish").get_status() == "canceled", "not left deferred for ever"
    folder = stack.storage / "videos" / video_id
    assert sorted(p.name for p in folder.iterdir()) == ["source"], "nothing of its stream or work left"


@pytest.mark.parametrize("how", ["cancel", "delete"])
def test_cancel_and_delete_stop_every_chunk_within_two_seconds(make_stack, own_redis, long_clip, how):
    stack = make_stack(X264_PRESET="veryslow", **CHUNKED)
    carol = stack.create_user("carol")
    stack.start_worker()
    stack.start_worker()
    video_id = stack.upload(carol, long_clip).json()["id"]
    wait_until(lambda: sum(running(stack, video_id, "chunk", n) for n in range(3)) == 2, 120)
    if how == "cancel":
        assert carol.post(f"{stack.url}/api/videos/{video_id}/cancel", timeout=10).status_code == 202
    else:
        assert carol.delete(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 204
    redis = own_redis.client()
    wait_until(lambda: left_in_rq(redis, video_id) == [], 2, "every chunk stopped")
    folder = stack.storage / "videos" / video_id
    if how == "cancel":
        assert stack.video(carol, video_id)["state"] == "cancelled"
        wait_until(lambda: sorted(p.name for p in folder.iterdir()) == ["source"], 5)
        assert [i["finished_at"] for i in stack.work_items(video_id) if i["kind"] == "finish"] == [None]
    else:
        wait_until(lambda: not folder.exists(), 5)
        assert stack.work_items(video_id) == []
        assert not any(video_id in key.decode() for key in redis.keys("rq:job:*") if b"finish" in key)


def test_a_short_upload_is_served_while_a_long_one_is_chunking(make_stack, own_redis, long_clip, clips):
    """One worker: the long video's chunks after its first wait on the low queue; a short upload that
    comes meanwhile is taken next, not after them."""
    stack = make_stack(X264_PRESET="veryslow", **CHUNKED)
    carol, dave = stack.create_user("carol"), stack.create_user("dave")
    stack.start_worker()
    long_id = stack.upload(carol, long_clip).json()["id"]
    wait_until(lambda: running(stack, long_id, "chunk", 0), 120)
    short_id = stack.upload(dave, clips("short", width=320, height=180, seconds=2)).json()["id"]
    short = stack.wait_final(dave, short_id, timeout=120)
    assert short["state"] == "ready"
    redis = own_redis.client()
    started = Job.fetch(f"convert-{short_id}", connection=redis).started_at
    later = [job_of(redis, long_id, "chunk", n) for n in (1, 2)]
    assert all(job.started_at is None or job.started_at > started for job in later), "the short one went first"
    assert stack.wait_final(carol, long_id, timeout=240)["state"] == "ready"
