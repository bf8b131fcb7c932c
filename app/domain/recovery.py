"""Nothing lost: jobs of dead workers go back to the queue; videos Redis forgot are queued again.

The database is the source of truth. Workers run `recover()` every few seconds while idle.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from app import notifications
from app.extensions import db
from app.models import Video, utcnow
from app.queueing import QUEUE_NAMES, enqueue_conversion, get_redis, job_id, publish_change, rq_name
from app.states import State

log = logging.getLogger(__name__)

LOCK_KEY = "conveyor:recovery"
ALIVE_PREFIX = "conveyor:alive:"
ALIVE_SECONDS = 25
GRACE = timedelta(seconds=30)  # a video just uploaded may not be enqueued yet
LIVE_JOB_STATES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}


def mark_alive(connection: redis.Redis, worker_name: str) -> None:
    connection.set(ALIVE_PREFIX + worker_name, 1, ex=ALIVE_SECONDS)


def is_alive(connection: redis.Redis, worker_name: str | None) -> bool:
    return bool(worker_name) and bool(connection.exists(ALIVE_PREFIX + worker_name))


def hand_back(connection: redis.Redis, queue: Queue, job: Job, execution_id: str | None) -> None:
    """Put a started job back at the front of its queue, for the next free worker."""
    if execution_id:  # if we stop between these two lines, `_forgotten` enqueues the video again
        connection.zrem(StartedJobRegistry(queue=queue).key, f"{job.id}:{execution_id}")
    queue.enqueue_job(job, at_front=True)
    if job.args:
        requeue_video(job.args[0])
    log.warning("job %s handed back to queue %s", job.id, queue.name)


def requeue_video(video_id: str) -> None:
    """A `processing` video whose job went back to the queue is `queued` again, and live pages hear it."""
    changed = db.session.execute(
        db.update(Video)
        .where(Video.id == video_id, Video.state == State.PROCESSING.value)
        .values(state=State.QUEUED.value)
    ).rowcount
    db.session.commit()
    if changed:
        status = db.session.scalar(db.select(Video.status).where(Video.id == video_id)) or 0.0
        publish_change(get_redis(), video_id, State.QUEUED.value, status)


def recover(connection: redis.Redis, queues: list[Queue]) -> None:
    """One pass; only one worker at a time does it."""
    if not connection.set(LOCK_KEY, 1, nx=True, ex=10):
        return
    for queue in queues:
        _orphans(connection, queue)
    _forgotten(connection)
    notifications.requeue_forgotten(connection)


def _orphans(connection: redis.Redis, queue: Queue) -> None:
    """Started jobs whose worker stopped sending heartbeats: it was killed."""
    registry = StartedJobRegistry(queue=queue)
    for job_id_, execution_id in registry.get_job_and_execution_ids(cleanup=False):
        try:
            job = Job.fetch(job_id_, connection=connection)
        except NoSuchJobError:
            connection.zrem(registry.key, f"{job_id_}:{execution_id}")
            continue
        if not is_alive(connection, job.worker_name):
            hand_back(connection, queue, job, execution_id)


def _forgotten(connection: redis.Redis) -> None:
    """Videos the database says are waiting or running, with no live job in Redis."""
    cutoff = utcnow() - GRACE
    waiting = db.session.scalars(
        db.select(Video).where(
            Video.state.in_([State.QUEUED.value, State.PROCESSING.value]), Video.updated_at < cutoff
        )
    ).all()
    ours = {rq_name(role) for role in QUEUE_NAMES}
    for video in waiting:
        try:
            job = Job.fetch(job_id(video.id), connection=connection)
            # a job left in a queue of another name (before an upgrade renamed them) is one no worker takes
            status = job.get_status() if job.origin in ours else None
        except NoSuchJobError:
            status = None
        if status in LIVE_JOB_STATES:
            continue
        log.warning("video %s has no live job (%s); enqueueing it again", video.id, status)
        video.state = State.QUEUED.value
        video.updated_at = utcnow()
        db.session.commit()
        publish_change(connection, video.id, video.state, video.status)
        enqueue_conversion(video.id)
