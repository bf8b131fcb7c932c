"""A long video's plan: its chunks, its audio and its finish, queued as one RQ Group on the queues that
keep it fair to short uploads; what recovery, cancel and the failure callback make of them; and the
finish's claim.

The threshold and the chunk length are set low (10 s, 12 s), so a 30 s clip is three chunks (0-12,
12-24, 24-30). The helpers here are shared with test_assembly.py and test_publishing_chunks.py.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import redis
from rq import SimpleWorker
from rq.group import Group
from rq.job import Job

from app.domain import dispatch, finishing, ingest, plan, recovery
from app.domain.models import Video, utcnow
from app.extensions import db
from app.platform import queueing
from jobs.convert import conversion_failed
from media import probe

LONG = {"width": 160, "height": 90, "seconds": 30}
REAL_REDIS_DB = 7  # of the session's redis-server: not the integration stacks' (0)


def chunked(app) -> None:
    """Settings under which LONG is three chunks."""
    app.config["CHUNK_THRESHOLD_SECONDS"] = 10
    app.config["CHUNK_SECONDS"] = 12


def convert_file(make_user, path) -> Video:
    """A video stored and queued as `flask videos convert` does it (no HTTP: werkzeug's test client
    leaves a large upload's spool file open)."""
    return ingest.from_file(make_user()[0], path)


def run_one(app) -> None:
    """What one worker does with the first job it takes."""
    queues = [app.extensions["queues"][name] for name in queueing.QUEUE_NAMES]
    SimpleWorker(queues, connection=app.extensions["redis"]).work(burst=True, max_jobs=1)
    db.session.expire_all()


def use_real_redis(app, server):
    """Point the app (and `run_jobs`) at a real Redis: `assembly.advance` takes a redis-py lock, whose
    Lua scripts fakeredis runs only with lupa, which the dev requirements do not install."""
    connection = redis.Redis(port=server.port, db=REAL_REDIS_DB)
    connection.flushdb()
    app.config["REDIS_CONNECTION"] = connection
    queueing.init_app(app)
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def real_redis(app, redis_server):
    yield from use_real_redis(app, redis_server)


@pytest.fixture
def planned(app, make_user, clips) -> Video:
    """A long video whose first job has run: probed and planned as chunks, nothing converted yet."""
    chunked(app)
    video = convert_file(make_user, clips("chunk-plan-long", **LONG))
    run_one(app)
    return db.session.get(Video, video.id)


def jobs_of(video: Video) -> dict[tuple[str, int], Job]:
    connection = queueing.get_redis()
    return {(i.kind, i.number): Job.fetch(plan.item_job_id(i), connection=connection) for i in video.work_items}


def finish_in_db(video: Video, *keys: tuple[str, int]) -> None:
    for item in video.work_items:
        if (item.kind, item.number) in keys:
            item.progress, item.finished_at = 1.0, utcnow()
    db.session.commit()


def test_a_long_video_is_converted_in_chunks_each_item_done_once(app, make_user, clips, run_jobs, real_redis):
    chunked(app)
    video = convert_file(make_user, clips("chunk-plan-long", **LONG))
    run_jobs()
    video = db.session.get(Video, video.id)
    assert (video.state, video.status, video.error) == ("ready", 1.0, None)
    items = video.work_items
    assert [(i.kind, i.number) for i in items] == [("chunk", 0), ("chunk", 1), ("chunk", 2), ("audio", 0),
                                                   ("finish", 0)]
    assert [(i.start, i.duration) for i in items[:3]] == [(0.0, 12.0), (12.0, 12.0), (24.0, pytest.approx(6.0))]
    assert all(i.finished_at is not None and i.attempts == 1 and i.progress == 1.0 for i in items)
    assert sum(i.weight for i in items) == pytest.approx(1.0)
    per_second = [i.weight / i.duration for i in items[:3]]
    assert per_second == pytest.approx([per_second[0]] * 3), "the chunks share the work by their length"
    assert all(job.get_status() == "finished" for job in jobs_of(video).values())
    assert plan.item_of(video, "whole") is None


@pytest.mark.parametrize(("seconds", "threshold"), [(10, 10), (30, 0)], ids=["at-the-threshold", "chunking-off"])
def test_a_video_not_longer_than_the_threshold_stays_one_whole_item(app, make_user, clips, run_jobs, seconds,
                                                                     threshold):
    chunked(app)
    app.config["CHUNK_THRESHOLD_SECONDS"] = threshold
    path = clips(f"chunk-plan-{seconds}s", width=160, height=90, seconds=seconds)
    assert probe.probe(path, probe.Limits()).duration == seconds
    video = convert_file(make_user, path)
    run_jobs()
    video = db.session.get(Video, video.id)
    assert video.state == "ready"
    assert [(i.kind, i.number, i.weight, i.attempts) for i in video.work_items] == [("whole", 0, 1.0, 1)]
    assert not Job.exists(plan.job_id(video.id, plan.CHUNK, 0), connection=app.extensions["redis"])


def test_the_plan_is_queued_fairly_in_one_group_the_finish_after_every_other_part(app, planned):
    video, vid = planned, planned.id
    assert video.state == "processing"
    queues = app.extensions["queues"]
    assert queues["default"].get_job_ids() == [f"audio-{vid}-0", f"chunk-{vid}-0"], "what makes it playable first"
    assert queues["low"].get_job_ids() == [f"chunk-{vid}-1", f"chunk-{vid}-2"]
    jobs = jobs_of(video)
    finish = jobs[("finish", 0)]
    assert finish.get_status() == "deferred" and finish.origin == "conveyor-default"
    others = {job.id for key, job in jobs.items() if key != ("finish", 0)}
    assert set(finish.dependency_ids) == others and len(others) == 4
    assert {job.group_id for job in jobs.values()} == {f"video-{vid}"}
    group = Group.fetch(f"video-{vid}", app.extensions["redis"])
    assert {job.id for job in group.get_jobs()} == {job.id for job in jobs.values()}
    assert [job.description for job in jobs.values()] == [
        f"convert video {vid}: {part}" for part in ("chunk 1 of 3", "chunk 2 of 3", "chunk 3 of 3", "audio", "finish")
    ]
    assert [(job.func_name, job.args) for job in jobs.values()] == [
        ("jobs.convert.convert_chunk", (vid, 0)), ("jobs.convert.convert_chunk", (vid, 1)),
        ("jobs.convert.convert_chunk", (vid, 2)), ("jobs.convert.convert_audio", (vid, 0)),
        ("jobs.convert.finish_video", (vid, 0)),
    ]


def test_a_deferred_finish_is_missing_only_once_every_other_part_is_done(app, planned):
    connection = app.extensions["redis"]
    finish_in_db(planned, ("chunk", 0), ("chunk", 1), ("audio", 0))
    assert dispatch.missing_items(planned, connection) == [], "chunk 3 is queued, and the finish waits for it"
    finish_in_db(planned, ("chunk", 2))
    assert dispatch.missing_items(planned, connection) == [plan.item_of(planned, "finish")]


def test_a_finish_queued_again_replaces_the_deferred_one_and_the_parts_jobs_end_well(app, planned, run_jobs):
    connection = app.extensions["redis"]
    finish_in_db(planned, ("chunk", 0), ("chunk", 1), ("chunk", 2), ("audio", 0))
    finish = plan.item_of(planned, "finish")
    again = dispatch.enqueue_again(finish, connection)
    assert again.id == f"finish-{planned.id}-0" and again.get_status() == "queued" and again.dependency_ids == []
    run_jobs()  # the parts' jobs end after it, their work recorded done: RQ looks for their dependents
    jobs = jobs_of(db.session.get(Video, planned.id))
    assert {key: job.get_status() for key, job in jobs.items()} == dict.fromkeys(jobs, "finished")
    assert jobs[("finish", 0)].return_value() == {"video": planned.id, "waiting": True}, "no chunk result recorded"
    assert dispatch.missing_items(planned, connection) == [finish], "the sweep will queue it again"


def test_stop_waiting_cancels_every_waiting_part(app, planned):
    dispatch.stop_waiting(planned)
    assert {key: job.get_status() for key, job in jobs_of(planned).items()} == dict.fromkeys(
        jobs_of(planned), "canceled"
    )
    assert app.extensions["queues"]["default"].get_job_ids() == app.extensions["queues"]["low"].get_job_ids() == []


def test_a_cancel_that_forgets_deletes_every_job_and_the_group(app, planned):
    connection = app.extensions["redis"]
    ids = [plan.item_job_id(item) for item in planned.work_items]
    assert all(Job.exists(job_id, connection) for job_id in ids)
    assert connection.exists(Group.get_key(f"video-{planned.id}"))
    dispatch.request_cancel(planned, forget=True)
    assert [Job.exists(job_id, connection) for job_id in ids] == [False] * 5
    assert not connection.exists(Group.get_key(f"video-{planned.id}"))
    assert dispatch.cancel_requested(planned.id)


def fail_for_good(app, video: Video, kind: str, number: int, message: str) -> None:
    """RQ's failure callback, as called after the job's last attempt."""
    job = Job.fetch(plan.job_id(video.id, kind, number), connection=app.extensions["redis"])
    job.retries_left = 0
    conversion_failed(job, app.extensions["redis"], RuntimeError, RuntimeError(message), None)
    db.session.expire_all()


def test_a_part_failing_for_good_fails_the_video_unless_its_work_was_recorded_done(app, planned):
    finish_in_db(planned, ("chunk", 0))
    fail_for_good(app, planned, "chunk", 0, "the worker died after the commit")
    video = db.session.get(Video, planned.id)
    assert (video.state, video.error) == ("processing", None)

    plan.item_of(video, "chunk", 1).attempts = 3
    db.session.commit()
    fail_for_good(app, video, "chunk", 1, "ffmpeg exited with 1")
    video = db.session.get(Video, planned.id)
    assert video.state == "failed"
    assert video.error == "The conversion (chunk 2 of 3) failed after 3 attempts: ffmpeg exited with 1"
    assert jobs_of(video)[("finish", 0)].get_status() == "canceled", "the parts left waiting will not run"


def test_the_finish_is_claimed_by_one_worker_until_that_worker_is_gone(app, monkeypatch):
    connection = app.extensions["redis"]

    def on(worker: str) -> None:
        monkeypatch.setattr(finishing, "get_current_job", lambda: SimpleNamespace(worker_name=worker))

    on("worker.1")
    assert finishing.claim("v1")
    recovery.mark_alive(connection, "worker.1", 5)
    on("worker.2")
    assert not finishing.claim("v1"), "worker.1 is alive and finishing it"
    connection.delete(recovery.ALIVE_PREFIX + "worker.1")  # killed: its alive key expired
    assert finishing.claim("v1")
    assert connection.get(finishing.claim_key("v1")) == b"worker.2"
    recovery.mark_alive(connection, "worker.2", 5)
    on("worker.1")
    assert not finishing.claim("v1")
    finishing.release("v1")
    assert finishing.claim("v1")
    assert connection.get(finishing.claim_key("v1")) == b"worker.1"
