"""The video service: every change of a video's state goes through `move`.

A move is allowed only as `app.domain.states.TRANSITIONS` declares, and is a compare-and-set in the
database: when someone else moved the video first (the uploader cancelled while the worker
finished), it changes nothing and says so. Each move that happens commits (with whatever the caller
added to the session: renditions, a content match), tells live listeners, counts conversions that
ended and queues the notifications a final state calls for, the same way wherever it is called from:
the API, the pages, the commands, a job or recovery.
"""

from __future__ import annotations

import logging
from datetime import datetime

from redis import Redis
from redis.exceptions import RedisError

from app.domain import dispatch, plan, quotas, streams
from app.domain.models import Video, utcnow
from app.domain.notifications import notify_final
from app.domain.states import CANCELLABLE_STATES, State, allowed
from app.extensions import db
from app.platform import queueing
from app.platform.storage import get_storage

log = logging.getLogger(__name__)

# final states that show nothing: the stream published while processing is taken back
WITHDRAWN = frozenset({State.FAILED, State.REJECTED, State.CANCELLED})
COUNTERS_KEY = "conveyor:stats"  # conversions that ended, and their seconds: read by /metrics


class NotAllowed(Exception):
    """The lifecycle has no such move (a ready video can't be queued again)."""


def move(video: Video, target: State, *, error: str | None = None, retryable: bool = False) -> bool:
    """Move the video to `target`; False (and nothing written) when its state changed meanwhile.
    `retryable`: it failed, and not for the file's sake: its owner may convert it again."""
    source = State(video.state)
    if not allowed(source, target):
        raise NotAllowed(f"a {source.value} video can't become {target.value}")
    now = utcnow()
    values = _fields(target, error, now, retryable=retryable, afresh=source.is_final)
    changed = db.session.execute(
        db.update(Video).where(Video.id == video.id, Video.state == source.value).values(**values)
    ).rowcount
    if not changed:
        db.session.rollback()  # what the caller meant to store with the move goes too
        db.session.expire(video)  # read afresh: its state is someone else's now (or it is gone)
        return False
    db.session.commit()
    db.session.refresh(video)
    log.info("video %s %s -> %s", video.id, source.value, target.value)
    announce(video)
    if target in WITHDRAWN:
        streams.withdraw(video.id)  # what a viewer could watch while it was processing
        if target is not State.CANCELLED and plan.is_chunked(video):
            _stop_parts(video)
    if target in (State.READY, State.FAILED):
        _count(video, target)
    if target.is_final:
        notify_final(video)  # on `high`, so a free worker sends it at once
        admit_next(video.user_id)
    return True


def _stop_parts(video: Video) -> None:
    """A long video failed or was rejected: its parts still waiting will not run; those running see the
    state and stop within a second."""
    try:
        dispatch.stop_waiting(video)
    except RedisError:
        log.warning("video %s: its waiting parts not cancelled: redis unavailable", video.id)


def _fields(target: State, error: str | None, now: datetime, *, retryable: bool = False, afresh: bool = False) -> dict:
    values: dict = {"state": target.value, "updated_at": now, "retryable": retryable and target is State.FAILED}
    if target is State.PROCESSING:
        values.update(attempts=Video.attempts + 1, started_at=now, finished_at=None, error=None)
    elif target is State.QUEUED:
        values.update(finished_at=None, error=None)  # status stays where it was: it only grows
        if afresh:  # a final video converted again: a new conversion, whose fraction and attempts start over,
            values.update(status=0.0, attempts=0, requeued_at=now)  # at the end of its owner's line
    else:
        values.update(finished_at=now, error=error)
        if target in WITHDRAWN:
            values.update(playable=False, poster_key=None)  # the poster was the stream's, withdrawn with it
        if target is State.READY:
            values["status"] = 1.0
    return values


def announce(video: Video, **more) -> None:
    """Tell live listeners the video changed (`more`: what else did, `renamed=True`: read it afresh)."""
    queueing.publish_change(queueing.get_redis(), video.id, video.state, video.status, **more)


def _count(video: Video, state: State) -> None:
    if video.started_at and video.finished_at:
        try:
            count_conversion(queueing.get_redis(), state.value, (video.finished_at - video.started_at).total_seconds())
        except RedisError:
            log.warning("conversion of %s not counted: redis unavailable", video.id)


def count_conversion(connection: Redis, state: str, seconds: float) -> None:
    with connection.pipeline() as pipe:
        pipe.hincrby(COUNTERS_KEY, state, 1)
        pipe.hincrbyfloat(COUNTERS_KEY, "seconds", seconds)
        pipe.execute()


def start(video: Video) -> None:
    """Queue a stored video's conversion, or hold it while its owner has MAX_ACTIVE_CONVERSIONS in
    RQ's queues (app/domain/quotas.py). With Redis away it stays `queued` in the database, and
    recovery queues it once Redis is back."""
    try:
        quotas.admit(video.user_id)
    except RedisError:
        log.warning("video %s stored but not enqueued: redis unavailable", video.id)


def admit_next(user_id: int) -> None:
    """One of the user's videos ended (or went): the next one held, if any, is queued."""
    try:
        quotas.admit(user_id)
    except RedisError:
        log.warning("user %s: next video not admitted: redis unavailable (recovery will)", user_id)


def requeue(video: Video) -> bool:
    """A `processing` video whose job went back to its queue is `queued` again."""
    return video.state == State.PROCESSING.value and move(video, State.QUEUED)


def convert_again(video: Video) -> bool:
    """A rejected video an admin released, or a failed one its owner retries: queued and converted
    afresh (held, as an upload is, while its owner has MAX_ACTIVE_CONVERSIONS under way). False when
    its state changed meanwhile."""
    if not move(video, State.QUEUED):
        return False
    _forget_jobs(video)
    plan.make_plan(video)
    db.session.commit()
    start(video)
    return True


class NotRetryable(Exception):
    """The video can't be converted again: the message says why, and what to do instead."""


# why a video that did not fail can't be converted again, by its state
NOT_FAILED = {
    State.QUEUED: "The video is already waiting to be converted.",
    State.PROCESSING: "The video is being converted right now.",
    State.READY: "The video is ready; there is nothing to convert again.",
    State.REJECTED: "The content check refused this video; an admin reviews it.",
    State.CANCELLED: "The video was cancelled; upload it again to convert it.",
}


def retry(video: Video) -> None:
    """The owner converts a failed video again, when what failed was not the file (its attempts ran out:
    a worker lost, a timeout, storage away). Raises NotRetryable with the reason otherwise."""
    state = State(video.state)
    if state is not State.FAILED:
        raise NotRetryable(NOT_FAILED[state])
    if not video.retryable:
        raise NotRetryable(
            f"Converting it again would fail the same way: what failed is the file itself. {video.error or ''}".strip()
        )
    if not convert_again(video):
        raise NotRetryable(NOT_FAILED.get(State(video.state), "The video changed meanwhile; look at it again."))


def _forget_jobs(video: Video) -> None:
    """RQ's record of the last conversion (its failed jobs, a cancel flag, a long video's group) goes:
    the new jobs take the same ids, and /rq lists no failure that is being redone."""
    try:
        dispatch.stop_waiting(video, forget=True)
        queueing.get_redis().delete(dispatch.cancel_key(video.id))
    except RedisError:
        log.warning("video %s: its earlier jobs not forgotten: redis unavailable", video.id)


def cancel(video: Video) -> bool:
    """Stop a queued or processing conversion; False when it was over already."""
    if State(video.state) not in CANCELLABLE_STATES:
        return False
    dispatch.request_cancel(video)
    return move(video, State.CANCELLED) or video.state == State.CANCELLED.value  # the worker saw the flag first


def delete(video: Video) -> None:
    """Stop it, remove every file of it, then the video itself."""
    if State(video.state) in CANCELLABLE_STATES:
        dispatch.request_cancel(video, forget=True)
    get_storage().delete_prefix(video.prefix)
    user_id, unfinished = video.user_id, State(video.state) in CANCELLABLE_STATES
    db.session.delete(video)
    db.session.commit()
    if unfinished:
        admit_next(user_id)
