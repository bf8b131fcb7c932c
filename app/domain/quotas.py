"""Cost and fairness: what one video and one user may make workers decode, and how many of a user's
videos are in RQ's queues at once.

Work is decoded pixels: picture size x frame rate x length, counted in hours of 1080p at 30 fps (a
frame smaller than 360p counts as one of 360p: a conversion's cost per frame does not shrink below
that). A video over `MAX_VIDEO_WORK_HOURS`, or one that would take its owner over
`USER_DAILY_WORK_HOURS` in a rolling day, fails when its job probes it, before any decoding, with a
message that names the limit and what to do. The database keeps a video's size and length, not its
frame rate, so the day's sum counts earlier videos at 30 fps.

Admission: only a user's first `MAX_ACTIVE_CONVERSIONS` unfinished videos (the processing ones, then
the oldest queued) are in RQ's queues; the others are held: stored and `queued` in the database, with
no job. Each video that ends admits the next. Held is not a column: it is computed from the states and
the times videos joined the line (their upload, or when they were converted again), the same way by
the web, the workers and recovery, so it survives restarts and the loss of Redis
(app/domain/recovery.py queues again only what is admitted).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import redis
from flask import current_app
from sqlalchemy import case, func

from app.domain import dispatch, plan
from app.domain.models import Video, utcnow
from app.domain.states import State
from app.domain.work import stored_work_hours, work_hours
from app.extensions import db
from app.platform import queueing
from media.errors import BadMedia
from media.probe import MediaInfo

log = logging.getLogger(__name__)

DAY = timedelta(hours=24)
UNFINISHED = (State.QUEUED.value, State.PROCESSING.value)
ADMIT_LOCK = "conveyor:admit:{}"


class OverBudget(BadMedia):
    """A limit on decoded work refuses the video: it fails, with a message that says which and what to do."""


def check(video: Video, info: MediaInfo, cfg=None, now: datetime | None = None) -> float:
    """Raise OverBudget when the video is over a limit on work; its work in hours of 1080p30 otherwise."""
    cfg = cfg or current_app.config
    hours = work_hours(info)
    limit = cfg["MAX_VIDEO_WORK_HOURS"]
    if limit and hours > limit:
        raise OverBudget(
            f"This video is {info.width}x{info.height} at {info.frame_rate:.0f} fps for {_length(info.duration)}: "
            f"as much decoding as {_hours(hours)} of 1080p video at 30 fps, and the limit for one video is "
            f"{_hours(limit)}. Upload a shorter part of it, or a version with a smaller picture or a lower "
            "frame rate."
        )
    daily = cfg["USER_DAILY_WORK_HOURS"]
    if daily:
        _check_day(video, hours, daily, now or utcnow())
    return hours


def _check_day(video: Video, hours: float, daily: float, now: datetime) -> None:
    earlier = day_usage(video.user_id, now, but=video.id)
    used = sum(spent for _, spent in earlier)
    if used + hours <= daily:
        return
    if hours > daily:
        raise OverBudget(
            f"This video needs {_hours(hours)} of conversion (counted as 1080p video at 30 fps), more than "
            f"your daily limit of {_hours(daily)}. Upload a shorter part of it, or a version with a smaller "
            "picture or a lower frame rate."
        )
    raise OverBudget(
        f"Your videos of the last 24 hours used {_hours(used)} of your daily {_hours(daily)} of conversion "
        f"(counted as 1080p video at 30 fps), and this one needs {_hours(hours)}. Upload it again after "
        f"{_when(earlier, used + hours - daily):%Y-%m-%d %H:%M} UTC, or a shorter or smaller version now."
    )


def day_usage(user_id: int, now: datetime, but: str | None = None) -> list[tuple[datetime, float]]:
    """(started at, work) of the user's videos started in the last 24 hours, oldest first."""
    videos = db.session.scalars(
        db.select(Video).where(Video.user_id == user_id, Video.started_at >= now - DAY, Video.id != (but or ""))
        .order_by(Video.started_at)
    )
    return [(video.started_at, stored_work_hours(video)) for video in videos if stored_work_hours(video)]


def _when(earlier: list[tuple[datetime, float]], excess: float) -> datetime:
    """When enough of the day's earlier work has left the window for `excess` more to fit."""
    freed = 0.0
    for started, spent in earlier:
        freed += spent
        if freed >= excess - 1e-9:
            return started + DAY
    return earlier[-1][0] + DAY


def _hours(hours: float) -> str:
    if hours >= 1:
        return f"{hours:.1f} hours".replace(".0 hours", " hours").replace("1 hours", "1 hour")
    minutes = hours * 60
    return f"{minutes:.0f} minutes" if minutes >= 1 else f"{minutes * 60:.2g} seconds"


def _length(seconds: float) -> str:
    return _hours(seconds / 3600)


def admitted(limit: int):
    """A select of the ids of every user's admitted unfinished videos: all processing ones, then the oldest
    queued, up to `limit` each."""
    rank = func.row_number().over(
        partition_by=Video.user_id,
        order_by=(case((Video.state == State.PROCESSING.value, 0), else_=1), Video.queued_since(), Video.id),
    )
    ranked = db.select(Video.id, Video.state, rank.label("rank")).where(Video.state.in_(UNFINISHED)).subquery()
    return db.select(ranked.c.id).where((ranked.c.rank <= limit) | (ranked.c.state == State.PROCESSING.value))


def held_count(user_id: int, limit: int) -> int:
    """How many of the user's queued videos wait for their turn, outside RQ's queues."""
    if not limit:
        return 0
    return db.session.scalar(
        db.select(func.count()).select_from(Video).where(
            Video.user_id == user_id, Video.state == State.QUEUED.value, Video.id.not_in(admitted(limit))
        )
    )


def admit(user_id: int) -> list[Video]:
    """Queue the user's admitted videos that have no job yet (a new upload's, or the next one in line
    when another ended); the videos queued. Raises RedisError with Redis away (recovery queues them)."""
    limit = current_app.config["MAX_ACTIVE_CONVERSIONS"]
    connection = queueing.get_redis()
    with _lock(connection, ADMIT_LOCK.format(user_id)):
        query = db.select(Video).where(Video.user_id == user_id, Video.state == State.QUEUED.value)
        if limit:
            query = query.where(Video.id.in_(admitted(limit)))
        started = []
        for video in db.session.scalars(query.order_by(Video.queued_since(), Video.id)).all():
            if plan.is_chunked(video) or not dispatch.missing_items(video, connection):
                continue  # its job waits in a queue (or recovery sees to a long video's parts)
            dispatch.enqueue(video)
            started.append(video)
        return started


@contextmanager
def _lock(connection: redis.Redis, key: str, seconds: int = 30) -> Iterator[None]:
    """One admission per user at a time, so two never queue the same video: an upload and a video that
    ends at the same moment both look for the user's next."""
    token = secrets.token_hex(8)
    deadline = time.monotonic() + seconds
    while not connection.set(key, token, nx=True, ex=seconds):
        if time.monotonic() > deadline:
            log.warning("admission lock %s held for %d s; going ahead", key, seconds)
            break
        time.sleep(0.02)
    try:
        yield
    finally:
        if connection.get(key) == token.encode():
            connection.delete(key)
