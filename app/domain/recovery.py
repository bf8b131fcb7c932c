"""Nothing lost: jobs of dead workers go back to the queue; videos Redis forgot are queued again.

The database is the source of truth. Workers run `recover()` every few seconds while idle. A video
held for its turn (app/domain/quotas.py) has no job on purpose: only admitted ones are queued again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import redis
from flask import current_app
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import StartedJobRegistry

from app.domain import dispatch, notifications, plan, quotas, videos
from app.domain.models import Video, utcnow
from app.domain.states import State
from app.extensions import db

log = logging.getLogger(__name__)

LOCK_KEY = "conveyor:recovery"
ALIVE_PREFIX = "conveyor:alive:"
ALIVE_HEARTBEATS = 5  # a worker silent for this many heartbeats is dead
GRACE = timedelta(seconds=30)  # a video just uploaded may not be enqueued yet


def mark_alive(connection: redis.Redis, worker_name: str, heartbeat_seconds: int) -> None:
    connection.set(ALIVE_PREFIX + worker_name, 1, ex=ALIVE_HEARTBEATS * heartbeat_seconds)


def is_alive(connection: redis.Redis, worker_name: str | None) -> bool:
    return bool(worker_name) and bool(connection.exists(ALIVE_PREFIX + worker_name))


def hand_back(connection: redis.Redis, queue: Queue, job: Job, execution_id: str | None) -> None:
    """Put a started job back at the front of its queue, for the next free worker."""
    if execution_id:  # if we stop between these two lines, `_forgotten` enqueues the video again
        connection.zrem(StartedJobRegistry(queue=queue).key, f"{job.id}:{execution_id}")
    queue.enqueue_job(job, at_front=True)
    video = db.session.get(Video, job.args[0]) if job.args else None
    if video is not None and job.id == plan.job_id(video.id):  # a part of a long video: the others run on
        videos.requeue(video)
    log.warning("job %s handed back to queue %s", job.id, queue.name)


def recover(connection: redis.Redis, queues: list[Queue], every_seconds: int = 10) -> None:
    """One pass; only one worker at a time does it, at most once in `every_seconds`."""
    if not connection.set(LOCK_KEY, 1, nx=True, ex=every_seconds):
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
    """Videos the database says are waiting (and admitted) or running, with work items no live job will run."""
    cutoff = utcnow() - GRACE
    query = db.select(Video).where(
        Video.state.in_([State.QUEUED.value, State.PROCESSING.value]), Video.updated_at < cutoff
    )
    limit = current_app.config["MAX_ACTIVE_CONVERSIONS"]
    if limit:
        query = query.where(Video.id.in_(quotas.admitted(limit)))
    waiting = db.session.scalars(query).all()
    for video in waiting:
        missing = dispatch.missing_items(video, connection)
        if not missing:
            continue
        log.warning("video %s has %d work item(s) no live job runs; enqueueing them again", video.id, len(missing))
        # a queued one stays queued, as does a long video whose other parts may be running: touch it,
        # so the grace starts afresh
        if plan.is_chunked(video) or not videos.requeue(video):
            video.updated_at = utcnow()
            db.session.commit()
        for item in missing:
            dispatch.enqueue_again(item, connection)
