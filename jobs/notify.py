"""The delivery job: given a delivery id, one attempt through its channel; RQ retries what may pass.

Network errors, timeouts, 5xx, 408 and 429 raise `TryLater`, so RQ runs the job again after the
next pause in `NOTIFY_RETRY_INTERVALS`; any other answer is final and the job simply returns.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from app.domain.models import Delivery, utcnow
from app.domain.notifications import channel, record_attempt
from app.domain.notifications.channels import RETRY, Outcome, Status
from app.extensions import db

log = logging.getLogger(__name__)


class TryLater(Exception):
    """This attempt failed for a reason that may pass; the message holds no URL, address or body."""


def deliver(delivery_id: str) -> dict:
    """One attempt at one delivery."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.status != Status.PENDING.value:
        return {"delivery": delivery_id, "skipped": True}  # the video was deleted, or it is done
    outcome = channel(delivery.kind).send(delivery)
    record_attempt(delivery, outcome)
    log.info("delivery %s attempt %s: %s %s", delivery.id, delivery.attempts, outcome.status, outcome.code or "")
    if outcome.status == RETRY:
        code = f" ({outcome.code})" if outcome.code else ""
        raise TryLater(f"{delivery.kind} delivery {delivery.id}, attempt {delivery.attempts}, failed{code}")
    return {"delivery": delivery_id, "status": outcome.status}


def delivery_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: note when the next attempt comes, or give up when none is left."""
    db.session.rollback()
    delivery = db.session.get(Delivery, job.args[0])
    if delivery is None or delivery.status != Status.PENDING.value:
        return
    if exc_type is not TryLater:  # the job itself broke (a timeout, the database): count it too
        record_attempt(delivery, Outcome(RETRY, None, f"Conveyor could not make the attempt ({exc_type.__name__})"))
    if job.retries_left:
        delivery.next_attempt_at = utcnow() + timedelta(seconds=job.get_retry_interval())
    else:
        delivery.status = Status.FAILED.value
        delivery.next_attempt_at = None
        delivery.finished_at = utcnow()
    db.session.commit()
