"""A plan's work items as RQ jobs: queued (a long video's in one Group, its finish after a
Dependency), cancelled, found missing by recovery, and their live progress read from their meta.

Fairness: a whole video, a long video's audio and its first chunk (what makes it playable) and its
finish go on the `default` queue; its other chunks on `low`, which workers take only when nothing
else waits. A short upload that comes while a long one's chunks are queued is taken by the next
worker that frees up, within one chunk's time.
"""

from __future__ import annotations

import redis
from flask import current_app
from rq import Callback, Queue, Retry
from rq.exceptions import InvalidJobOperation
from rq.group import Group
from rq.job import Dependency, Job, JobStatus

from app.domain.models import Video, WorkItem
from app.domain.plan import AUDIO, CHUNK, FINISH, JOBS, WHOLE, is_chunked, item_job_id, item_of, items_of, part_name
from app.domain.states import State
from app.domain.work import whole_job_timeout
from app.platform import queueing

FAILED = "jobs.convert.conversion_failed"
CANCEL_TTL = 24 * 3600
LIVE_JOB_STATES = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED})
WAITING_JOB_STATES = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def group_name(video_id: str) -> str:
    return f"video-{video_id}"


def cancel_key(video_id: str) -> str:
    return f"conveyor:cancel:{video_id}"


def enqueue(video: Video) -> list[Job]:
    """Queue every item of the video's plan. Only ids go into a job: no user text reaches Redis or /rq.

    A long video's items go in one RQ Group: the audio and the first chunk first (they make it
    playable), then the other chunks, then the finish, in a call of its own: a job enqueued in the
    same `enqueue_many` batch as the jobs it depends on would be queued at once."""
    items = items_of(video)
    if not is_chunked(video):
        return [enqueue_item(item) for item in items]
    group = Group.create(queueing.get_redis(), group_name(video.id))
    work = sorted((i for i in items if i.kind != FINISH), key=lambda i: (i.kind != AUDIO, i.number))
    jobs = []
    for role in ("default", "low"):
        batch = [item for item in work if queue_role(item) == role]
        if batch:
            queue = queueing.get_queue(role)
            jobs += group.enqueue_many(queue, [_job_data(queue, item) for item in batch])
    finish = item_of(video, FINISH)
    if finish is not None:
        jobs.append(enqueue_item(finish))
    return jobs


def queue_role(item: WorkItem) -> str:
    return "low" if item.kind == CHUNK and item.number > 0 else "default"


def enqueue_item(item: WorkItem) -> Job:
    """Queue one item's job on its queue (a finish after the other items' unfinished jobs)."""
    queue = queueing.get_queue(queue_role(item))
    data = _job_data(queue, item)
    if is_chunked(item.video):
        return Group.create(queue.connection, group_name(item.video_id)).enqueue_many(queue, [data])[0]
    return queue.enqueue_many([data])[0]


def enqueue_again(item: WorkItem, connection: redis.Redis) -> Job:
    """Queue an item no live job runs; a finish left deferred is replaced (its dependencies are done,
    whatever RQ thinks of their jobs)."""
    stale = queueing.fetch_job(item_job_id(item), connection)
    if stale is not None and stale.get_status() == JobStatus.DEFERRED:
        for dependency in stale._dependency_ids:  # no job that ends later may look for it as its dependent
            connection.srem(Job.dependents_key_for(dependency), stale.id)
        stale.delete()
    return enqueue_item(item)


def _job_data(queue: Queue, item: WorkItem):
    waits_for = [] if item.kind != FINISH else [
        item_job_id(other) for other in item.video.work_items if other.kind != FINISH and other.finished_at is None
    ]
    return queue.prepare_data(
        JOBS[item.kind],
        (item.video_id,) if item.kind == WHOLE else (item.video_id, item.number),
        job_id=item_job_id(item),
        timeout=job_timeout(item.duration),
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        retry=retry_policy(),
        on_failure=Callback(FAILED),
        description=describe(item),
        depends_on=Dependency(jobs=waits_for, allow_failure=False) if waits_for else None,
    )


def describe(item: WorkItem) -> str:
    """What /rq shows of a job: the video id and which part of it, never user text."""
    if item.kind == WHOLE:
        return f"convert video {item.video_id}"
    return f"convert video {item.video_id}: {part_name(item)}"


def job_timeout(duration: float | None = None) -> int:
    """RQ's hard ceiling for one item (a chunk's by its length; a whole video's, not probed yet, by the
    most work one video may be, when there is a limit); the job itself stops ffmpeg sooner."""
    cfg = current_app.config
    if duration is None and cfg["MAX_VIDEO_WORK_HOURS"]:
        return whole_job_timeout(cfg)
    seconds = cfg["MAX_DURATION_SECONDS"] if duration is None else duration
    return round(cfg["CONVERT_TIMEOUT_BASE"] + seconds * cfg["CONVERT_TIMEOUT_FACTOR"] + 300)


def retry_policy() -> Retry | None:
    retries = current_app.config["JOB_RETRIES"]
    return Retry(max=retries, interval=current_app.config["JOB_RETRY_INTERVALS"]) if retries > 0 else None


def request_cancel(video: Video, *, forget: bool = False) -> None:
    """Stop every item: a queued (or deferred) job never starts; a running one sees the flag and stops.
    `forget` (the video is being deleted): the jobs that will not run are deleted from RQ altogether."""
    connection = queueing.get_redis()
    connection.set(cancel_key(video.id), 1, ex=CANCEL_TTL)
    stop_waiting(video, forget=forget)


def stop_waiting(video: Video, *, forget: bool = False) -> None:
    """Cancel the video's jobs that wait to run (queued, scheduled, or deferred as a finish is): when it
    ended otherwise (a part failed for good, or was rejected), they have nothing left to do."""
    connection = queueing.get_redis()
    for item in video.work_items:
        job = queueing.fetch_job(item_job_id(item), connection)
        if job is None:
            continue
        status = job.get_status(refresh=False)
        try:
            if status in WAITING_JOB_STATES:
                job.cancel()
            if forget and status != JobStatus.STARTED:
                job.delete()
        except InvalidJobOperation:
            pass  # it started meanwhile: the flag (or the video's state) stops it
    if forget:
        connection.delete(Group.get_key(group_name(video.id)))


def cancel_requested(video_id: str) -> bool:
    return bool(queueing.get_redis().exists(cancel_key(video_id)))


def missing_items(video: Video, connection: redis.Redis) -> list[WorkItem]:
    """Items of an unfinished video that no live job in one of Conveyor's queues will run; also a finish
    left deferred although every item it waits for is done (RQ never queues it when one of them
    failed for good and was then redone another way, or when its dependencies' jobs expired)."""
    ours = {queueing.rq_name(role) for role in queueing.QUEUE_NAMES}
    items = items_of(video)
    others_done = all(item.finished_at is not None for item in items if item.kind != FINISH)
    missing = []
    for item in items:
        if item.finished_at is not None:
            continue
        job = queueing.fetch_job(item_job_id(item), connection)
        # a job left in a queue of another name (before an upgrade renamed them) is one no worker takes
        status = job.get_status() if job is not None else None
        if job is None or job.origin not in ours or status not in LIVE_JOB_STATES:
            missing.append(item)
        elif item.kind == FINISH and status == JobStatus.DEFERRED and others_done:
            missing.append(item)
    return missing


def live_progress(video: Video) -> float | None:
    """The fraction done by the running items, as their jobs last wrote it into their meta; None when
    nothing is known yet. Done items count whole, others as the database last mirrored them."""
    items = video.work_items
    if not items:
        return None
    connection = queueing.get_redis()
    total, heard = 0.0, False
    for item in items:
        part = item.progress
        if item.finished_at is None and item.started_at is not None:  # only running jobs say more
            job = queueing.fetch_job(item_job_id(item), connection)
            value = job.get_meta(refresh=False).get("progress") if job is not None else None
            if isinstance(value, int | float):
                part, heard = max(part, float(value)), True
        total += item.weight * (1.0 if item.finished_at else part)
    return total if heard else None


def running_progress(video: Video) -> float | None:
    """A `processing` video's live progress; None otherwise, or while Redis is away (the database's
    mirror of it is a second or so behind, and good enough)."""
    if video.state != State.PROCESSING.value:
        return None
    try:
        return live_progress(video)
    except redis.RedisError:
        return None


