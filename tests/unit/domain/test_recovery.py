"""Recovery: jobs of dead workers go back to the front of their queue, and videos whose job Redis lost (or
left in a queue no worker reads) are queued again, once they are older than the grace."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import StartedJobRegistry

from app.domain import dispatch, plan, recovery, videos
from app.domain.models import Video, utcnow
from app.domain.states import State
from app.extensions import db

LONG_AGO = timedelta(minutes=10)


@pytest.fixture
def connection(app):
    return app.extensions["redis"]


@pytest.fixture
def queues(app) -> list[Queue]:
    return list(app.extensions["queues"].values())  # what a worker passes: its queues, most urgent first


@pytest.fixture
def new_video(app, make_user):
    owner, _ = make_user()

    def make(*, enqueued: bool = True) -> Video:
        video = Video(user_id=owner.id, title="clip", filename="clip.mp4")
        db.session.add(video)
        plan.make_plan(video)
        db.session.commit()
        if enqueued:
            videos.start(video)  # as an upload does
        return video

    return make


def age(video: Video, by: timedelta = LONG_AGO) -> None:
    """Make the video's last change `by` old, straight in the database."""
    db.session.execute(db.update(Video).where(Video.id == video.id).values(updated_at=utcnow() - by))
    db.session.commit()
    db.session.expire_all()


def recover_once(connection, queues) -> None:
    connection.delete(recovery.LOCK_KEY)  # a pass from a worker whose turn it is
    recovery.recover(connection, queues)
    db.session.expire_all()


def queued_ids(app, role: str = "default") -> list[str]:
    return app.extensions["queues"][role].get_job_ids()


def start_on_a_worker(app, connection, video: Video, worker: str) -> tuple[Job, str]:
    """What an RQ worker does when it takes the video's job: dequeue it, record an execution in the
    started registry, mark the job started by it; then the job moves the video to `processing`."""
    rq_worker = SimpleWorker(list(app.extensions["queues"].values()), connection=connection, name=worker)
    job, queue = Queue.dequeue_any(rq_worker.queues, None, connection=connection)
    execution = rq_worker.prepare_execution(job)
    rq_worker.prepare_job_execution(job)
    assert videos.move(video, State.PROCESSING)
    return job, execution.id


def test_a_processing_video_whose_job_is_gone_is_queued_again(app, connection, queues, new_video):
    video = new_video(enqueued=False)
    assert videos.move(video, State.PROCESSING)
    age(video)
    recover_once(connection, queues)
    assert db.session.get(Video, video.id).state == "queued"
    job = Job.fetch(plan.job_id(video.id), connection=connection)
    assert job.origin == "conveyor-default" and job.args == (video.id,)
    assert queued_ids(app) == [job.id]


def test_a_queued_video_whose_job_redis_forgot_is_enqueued_again(app, connection, queues, new_video):
    video = new_video()
    connection.flushdb()  # Redis restarted without its data
    age(video)
    recover_once(connection, queues)
    assert queued_ids(app) == [plan.job_id(video.id)]
    video = db.session.get(Video, video.id)
    assert video.state == "queued"
    assert video.updated_at > utcnow() - LONG_AGO / 2  # touched: the grace starts afresh


def test_a_queued_video_whose_job_sits_in_a_queue_of_the_old_name_is_enqueued_in_conveyors(
    app, connection, queues, new_video
):
    video = new_video(enqueued=False)
    old = Queue("default", connection=connection)  # before the queues were named conveyor-*
    old.enqueue("jobs.convert.convert_video", video.id, job_id=plan.job_id(video.id))
    age(video)
    recover_once(connection, queues)
    job = Job.fetch(plan.job_id(video.id), connection=connection)
    assert job.origin == "conveyor-default"
    assert queued_ids(app) == [job.id]
    assert db.session.get(Video, video.id).state == "queued"


def test_a_video_with_a_live_job_is_left_alone(app, connection, queues, new_video):
    video = new_video()
    age(video)
    before = db.session.get(Video, video.id).updated_at
    recover_once(connection, queues)
    assert queued_ids(app) == [plan.job_id(video.id)]  # once, not twice
    video = db.session.get(Video, video.id)
    assert (video.state, video.updated_at) == ("queued", before)


def test_a_video_newer_than_the_grace_is_left_alone(app, connection, queues, new_video):
    video = new_video(enqueued=False)  # just uploaded: its job may not be enqueued yet
    assert videos.move(video, State.PROCESSING)
    age(video, timedelta(seconds=5))
    recover_once(connection, queues)
    assert db.session.get(Video, video.id).state == "processing"
    assert queued_ids(app) == []
    assert dispatch.missing_items(video, connection)  # it would be queued again, were it older


def test_a_job_whose_worker_died_goes_back_to_the_front_of_its_queue(app, connection, queues, new_video):
    video = new_video()
    job, execution_id = start_on_a_worker(app, connection, video, "worker.1.0-dead01")
    waiting = new_video()  # another upload, queued meanwhile
    registry = StartedJobRegistry(queue=app.extensions["queues"]["default"])
    assert registry.get_job_and_execution_ids(cleanup=False) == [(job.id, execution_id)]
    # the worker never marked itself alive: it was killed (or its alive key expired)
    recover_once(connection, queues)
    assert queued_ids(app) == [job.id, plan.job_id(waiting.id)]  # first in line
    assert registry.get_job_and_execution_ids(cleanup=False) == []
    assert db.session.get(Video, video.id).state == "queued"
    assert Job.fetch(job.id, connection=connection).get_status() == "queued"


def test_a_job_whose_worker_is_alive_keeps_running(app, connection, queues, new_video):
    video = new_video()
    job, execution_id = start_on_a_worker(app, connection, video, "worker.1.0-alive1")
    recovery.mark_alive(connection, "worker.1.0-alive1", 5)  # as its heartbeat does
    recover_once(connection, queues)
    registry = StartedJobRegistry(queue=app.extensions["queues"]["default"])
    assert registry.get_job_and_execution_ids(cleanup=False) == [(job.id, execution_id)]
    assert queued_ids(app) == []
    assert db.session.get(Video, video.id).state == "processing"


def test_only_one_worker_at_a_time_runs_a_pass(app, connection, queues, new_video):
    video = new_video(enqueued=False)
    assert videos.move(video, State.PROCESSING)
    age(video)
    connection.set(recovery.LOCK_KEY, 1, ex=10)  # another worker is in its pass
    recovery.recover(connection, queues)
    db.session.expire_all()
    assert db.session.get(Video, video.id).state == "processing" and queued_ids(app) == []

    connection.delete(recovery.LOCK_KEY)  # its pass is over
    recovery.recover(connection, queues)
    db.session.expire_all()
    assert db.session.get(Video, video.id).state == "queued" and queued_ids(app) == [plan.job_id(video.id)]
    assert 0 < connection.ttl(recovery.LOCK_KEY) <= 10  # held for a while, never for ever (a worker may die in it)
