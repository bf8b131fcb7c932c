"""Who is told when a video ends, and queueing that on `high`: deliveries are recorded first, then
sent, each through the channel of its kind (CHANNELS: a signed callback, an e-mail)."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.exc import IntegrityError

from app.domain.models import Delivery, DeliveryAttempt, Video, utcnow
from app.domain.notifications.callback import CallbackChannel
from app.domain.notifications.channels import RETRY, Channel, Outcome, Status, UnknownChannel
from app.domain.notifications.email import EmailChannel
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
CHANNELS: dict[str, Channel] = {channel.kind: channel for channel in (CallbackChannel(), EmailChannel())}


def channel(kind: str) -> Channel:
    """The channel that sends deliveries of `kind`; an unknown kind is an error, never a guess."""
    try:
        return CHANNELS[kind]
    except KeyError:
        raise UnknownChannel(f"no notification channel {kind!r}; there are {', '.join(sorted(CHANNELS))}") from None


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
    wanted = [(kind, target) for kind, one in CHANNELS.items() if (target := one.target(video, state))]
    made = []
    for kind, target in wanted:
        delivery = Delivery(video_id=video.id, kind=kind, event=event, target=target)
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


def record_attempt(delivery: Delivery, outcome: Outcome) -> None:
    """Write one attempt into the delivery's log; a final outcome ends the delivery."""
    delivery.attempts += 1
    delivery.log.append(DeliveryAttempt(number=delivery.attempts, at=utcnow(), code=outcome.code, error=outcome.error))
    delivery.next_attempt_at = None
    if outcome.status != RETRY:
        delivery.status = outcome.status
        delivery.finished_at = utcnow()
    db.session.commit()
