"""Who is told when a video ends, and queueing that on `high`: deliveries are recorded first, then sent."""

from __future__ import annotations

import logging
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.exc import IntegrityError

from app.domain.models import Delivery, Video, utcnow
from app.domain.states import State
from app.extensions import db
from app.platform.queueing import get_queue

log = logging.getLogger(__name__)

QUEUE = "high"
JOB_TIMEOUT = 120  # a hard ceiling; each network step has CALLBACK_TIMEOUT or less
LIVE_JOB_STATES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}

EVENTS = {
    State.READY: "video.ready",
    State.FAILED: "video.failed",
    State.REJECTED: "video.rejected",
    State.CANCELLED: "video.cancelled",
}
MAIL_STATES = frozenset({State.READY, State.FAILED, State.REJECTED})  # not what the uploader did themselves


class Kind(StrEnum):
    CALLBACK = "callback"
    EMAIL = "email"


class Status(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # a final no from the receiver, or no attempt left
    REFUSED = "refused"  # Conveyor does not send there: no connection was made


def job_id(delivery_id: str) -> str:
    return f"deliver-{delivery_id}"


def notify_final(video: Video) -> list[Delivery]:
    """Call once a video's final state is committed: records its deliveries and queues them."""
    deliveries = record(video)
    for delivery in deliveries:
        try:
            enqueue_delivery(delivery.id)
        except RedisError:
            log.warning("delivery %s recorded but not queued: redis unavailable", delivery.id)
    return deliveries


def record(video: Video) -> list[Delivery]:
    """The deliveries the video's final state calls for; each event is recorded once, however often called."""
    state = State(video.state)
    event = EVENTS.get(state)
    if event is None:
        return []
    owner = video.owner
    wanted = []
    url = video.callback_url or owner.callback_url
    if url:
        wanted.append((Kind.CALLBACK, url))
    if owner.email and state in MAIL_STATES and current_app.config["MAIL_URL"]:
        wanted.append((Kind.EMAIL, owner.email))
    made = []
    for kind, target in wanted:
        delivery = Delivery(video_id=video.id, kind=kind.value, event=event, target=target)
        db.session.add(delivery)
        try:
            db.session.commit()
        except IntegrityError:  # the worker and a cancel both ended it: the other one recorded it
            db.session.rollback()
            continue
        made.append(delivery)
    return made


def retry_policy() -> Retry | None:
    intervals = current_app.config["NOTIFY_RETRY_INTERVALS"]
    return Retry(max=len(intervals), interval=list(intervals)) if intervals else None


def enqueue_delivery(delivery_id: str) -> Job:
    """Only the delivery's id goes into the job: no URL, address or secret reaches Redis or /rq."""
    return get_queue(QUEUE).enqueue(
        "jobs.notify.deliver",
        delivery_id,
        job_id=job_id(delivery_id),
        job_timeout=JOB_TIMEOUT,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        retry=retry_policy(),
        on_failure=Callback("jobs.notify.delivery_failed"),
        description=f"deliver notification {delivery_id}",
    )


def requeue_forgotten(connection: Redis, grace: timedelta = timedelta(seconds=30)) -> int:
    """Pending deliveries with no live job in Redis (it was flushed or lost): queue them again."""
    cutoff = utcnow() - grace  # one just recorded may not be queued yet
    pending = db.session.scalars(
        db.select(Delivery.id).where(Delivery.status == Status.PENDING.value, Delivery.created_at < cutoff)
    ).all()
    count = 0
    for delivery_id in pending:
        try:
            status = Job.fetch(job_id(delivery_id), connection=connection).get_status()
        except NoSuchJobError:
            status = None
        if status in LIVE_JOB_STATES:
            continue
        log.warning("delivery %s has no live job (%s); enqueueing it again", delivery_id, status)
        enqueue_delivery(delivery_id)
        count += 1
    return count
