"""A video's conversion as a plan of work items, each run as one RQ job with its own progress,
attempts, cancel and recovery.

Today's planner makes one item, the whole video. Everything that queues, watches, cancels or
recovers a conversion goes through the items here, so spreading one video over many workers is
another planner (chunks, then a finish), not a change to each of those places.
"""

from __future__ import annotations

import logging

import redis
from flask import current_app
from rq import Callback, Retry
from rq.exceptions import InvalidJobOperation
from rq.job import Job, JobStatus

from app.domain.models import Video, WorkItem, utcnow
from app.domain.states import State
from app.extensions import db
from app.platform import queueing

log = logging.getLogger(__name__)

WHOLE = "whole"  # the item that converts the whole video in one job
# what runs each kind of item, by dotted path: the web never imports job code
JOBS = {WHOLE: ("jobs.convert.convert_video", "jobs.convert.conversion_failed")}
CANCEL_TTL = 24 * 3600
LIVE_JOB_STATES = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED})


def job_id(video_id: str, kind: str = WHOLE, number: int = 0) -> str:
    return f"convert-{video_id}" if kind == WHOLE else f"{kind}-{video_id}-{number}"


def item_job_id(item: WorkItem) -> str:
    return job_id(item.video_id, item.kind, item.number)


def cancel_key(video_id: str) -> str:
    return f"conveyor:cancel:{video_id}"


def make_plan(video: Video) -> list[WorkItem]:
    """The work items of a conversion from the start (the caller commits): one, the whole video.

    Items the video had already are reset and kept (their attempts go on counting), not replaced.
    """
    planned = [(WHOLE, 0, 1.0)]
    existing = {(item.kind, item.number): item for item in video.work_items}
    items = []
    for kind, number, weight in planned:
        item = existing.get((kind, number)) or WorkItem(kind=kind, number=number)
        item.weight, item.progress, item.started_at, item.finished_at = weight, 0.0, None, None
        items.append(item)
    video.work_items = items
    return items


def items_of(video: Video) -> list[WorkItem]:
    """The video's items; a video from before plans existed gets its plan now."""
    if not video.work_items:
        make_plan(video)
        db.session.commit()
    return video.work_items


def enqueue(video: Video) -> list[Job]:
    """Queue every item of the video's plan. Only ids go into a job: no user text reaches Redis or /rq."""
    return [enqueue_item(item) for item in items_of(video)]


def enqueue_item(item: WorkItem, role: str = "default") -> Job:
    function, on_failure = JOBS[item.kind]
    return queueing.get_queue(role).enqueue(
        function,
        item.video_id,
        job_id=item_job_id(item),
        job_timeout=job_timeout(),
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        retry=retry_policy(),
        on_failure=Callback(on_failure),
        description=f"convert video {item.video_id}",
    )


def job_timeout() -> int:
    """RQ's hard ceiling for one item; the job itself stops ffmpeg sooner, by duration."""
    cfg = current_app.config
    return cfg["CONVERT_TIMEOUT_BASE"] + cfg["MAX_DURATION_SECONDS"] * cfg["CONVERT_TIMEOUT_FACTOR"] + 300


def retry_policy() -> Retry | None:
    retries = current_app.config["JOB_RETRIES"]
    return Retry(max=retries, interval=current_app.config["JOB_RETRY_INTERVALS"]) if retries > 0 else None


def request_cancel(video: Video) -> None:
    """Stop every item: a queued job never starts; a running one sees the flag and stops."""
    connection = queueing.get_redis()
    connection.set(cancel_key(video.id), 1, ex=CANCEL_TTL)
    for item in video.work_items:
        job = queueing.fetch_job(item_job_id(item), connection)
        if job is not None and job.get_status(refresh=False) in (
            JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED
        ):
            try:
                job.cancel()
            except InvalidJobOperation:
                pass  # it started meanwhile: the flag stops it


def cancel_requested(video_id: str) -> bool:
    return bool(queueing.get_redis().exists(cancel_key(video_id)))


def missing_items(video: Video, connection: redis.Redis) -> list[WorkItem]:
    """Items of an unfinished video that no live job in one of Conveyor's queues will run."""
    ours = {queueing.rq_name(role) for role in queueing.QUEUE_NAMES}
    missing = []
    for item in items_of(video):
        if item.finished_at is not None:
            continue
        job = queueing.fetch_job(item_job_id(item), connection)
        # a job left in a queue of another name (before an upgrade renamed them) is one no worker takes
        if job is None or job.origin not in ours or job.get_status() not in LIVE_JOB_STATES:
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
        if item.finished_at is None:
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


def start_item(item: WorkItem) -> None:
    item.attempts += 1
    item.started_at = utcnow()
    item.finished_at = None


def finish_item(item: WorkItem) -> None:
    item.progress = 1.0
    item.finished_at = utcnow()


def whole_fraction(item: WorkItem, fraction: float) -> float:
    """The video's fraction done when `item` is `fraction` done: the items' weighted sum, below 1.0
    (which is for `ready` alone)."""
    done = sum(i.weight * (max(i.progress, fraction) if i is item else i.progress) for i in item.video.work_items)
    return min(done, 0.99)


def mirror_progress(video_id: str, item: WorkItem, fraction: float) -> float:
    """Write an item's progress and the video's whole fraction (which only grows) to the database."""
    whole = whole_fraction(item, fraction)
    item.progress = max(item.progress, min(fraction, 1.0))
    db.session.execute(
        db.update(Video)
        .where(Video.id == video_id, Video.status < whole, Video.state == State.PROCESSING.value)
        .values(status=whole)
    )
    db.session.commit()
    return whole
