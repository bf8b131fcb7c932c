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


def move(video: Video, target: State, *, error: str | None = None) -> bool:
    """Move the video to `target`; False (and nothing written) when its state changed meanwhile."""
    source = State(video.state)
    if not allowed(source, target):
        raise NotAllowed(f"a {source.value} video can't become {target.value}")
    now = utcnow()
    values = _fields(target, error, now)
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


def _fields(target: State, error: str | None, now: datetime) -> dict:
    values: dict = {"state": target.value, "updated_at": now}
    if target is State.PROCESSING:
        values.update(attempts=Video.attempts + 1, started_at=now, finished_at=None, error=None)
    elif target is State.QUEUED:
        values.update(finished_at=None, error=None)  # status stays where it was: it only grows
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


def convert_again(video: Video) -> None:
    """A rejected video an admin released: queued and converted afresh."""
    if move(video, State.QUEUED):
        plan.make_plan(video)
        db.session.commit()
        start(video)


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
