"""The conversion job: given a video id, run its work item through the domain, the RQ way.

Bad media ends the video `failed` and the job failed (so /rq lists it, with the reason), never
retried; other errors are retried by RQ, and its failure callback fails the video once no attempt
is left. On the platform's SIGTERM the job hands itself back: it returns a `Retry` that puts it at
the front of its queue, for the next free worker.
"""

from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError
from rq import Retry, get_current_job

from app.domain import conversion, plan, streams, videos
from app.domain.errors import Cancelled
from app.domain.models import Video
from app.domain.states import State
from app.extensions import db
from app.platform.queueing import get_redis, publish_change
from app.workers import shutdown
from app.workers.progress import Progress
from app.workers.shutdown import HandOff
from media.errors import BadMedia

log = logging.getLogger(__name__)

DB_MIRROR_SECONDS = 1.0
# A video in one of these states may be converted: queued (the usual way), processing (the job was
# handed back, or its worker died) and failed (an operator retried the failed job from /rq).
CONVERTIBLE = frozenset({State.QUEUED, State.PROCESSING, State.FAILED})
# Hand-backs of one job before RQ gives up on it: each is a restart that met the job in flight.
HAND_BACKS = 1000


def convert_video(video_id: str) -> dict | Retry:
    """Convert one stored upload (its plan's one item, the whole video)."""
    video = db.session.get(Video, video_id)
    if video is None or State(video.state) not in CONVERTIBLE:
        return {"video": video_id, "skipped": True}
    if plan.cancel_requested(video_id):
        videos.cancel(video)
        return {"video": video_id, "state": State.CANCELLED.value}
    item = plan.items_of(video)[0]
    plan.start_item(item)  # committed with the move, or not at all
    if not videos.move(video, State.PROCESSING):
        return {"video": video_id, "skipped": True}  # cancelled or deleted that very moment
    try:
        conversion.convert_whole(video, item, Progress(_mirror(video_id, item)), lambda: _check_stop(video_id))
    except BadMedia as exc:
        db.session.rollback()
        videos.move(video, State.FAILED, error=str(exc))
        _no_retry()
        raise
    except Cancelled:
        _stopped(video_id)
        return {"video": video_id, "state": State.CANCELLED.value}
    except Exception:
        if shutdown.requested():  # whatever broke while stopping (ffmpeg got the signal too): hand back
            return _hand_back(video_id)
        raise
    return {"video": video_id, "state": video.state}


def conversion_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: once no retry is left, the video is `failed` with the reason."""
    if job.retries_left or shutdown.requested():
        return  # RQ tries again, or the worker hands the job back
    db.session.rollback()
    video = db.session.get(Video, job.args[0])
    if video is not None and not State(video.state).is_final:
        videos.move(video, State.FAILED, error=f"The conversion failed after {video.attempts} attempts: {exc_value}")


def _check_stop(video_id: str) -> None:
    """Raise when the worker is shutting down or the uploader cancelled."""
    if shutdown.requested():
        raise HandOff()
    try:
        cancelled = plan.cancel_requested(video_id)
    except RedisError:
        cancelled = False  # Redis is away: keep converting; the database has the final word
    if cancelled:
        raise Cancelled()


def _stopped(video_id: str) -> None:
    """Cancelled or deleted while it ran: a video still `processing` becomes `cancelled`; what its
    stream published is taken back, after this job's last upload (the web's own clean-up may have
    come before it)."""
    db.session.rollback()
    video = db.session.get(Video, video_id, populate_existing=True)
    if video is not None and video.state == State.PROCESSING.value:
        videos.move(video, State.CANCELLED)
    streams.withdraw(video_id)


def _hand_back(video_id: str) -> Retry:
    db.session.rollback()
    video = db.session.get(Video, video_id, populate_existing=True)
    if video is not None:
        videos.requeue(video)
    job = get_current_job()
    log.warning("job %s handed back to queue %s: the worker is shutting down", job and job.id, job and job.origin)
    return Retry(max=HAND_BACKS, enqueue_at_front=True)


def _no_retry() -> None:
    """The failure is the file's, not the moment's: RQ records the job failed instead of retrying it."""
    job = get_current_job()
    if job is not None:
        job.retries_left = 0


def _mirror(video_id: str, item):
    """Progress to live listeners as it comes, and into the database about once a second."""
    last = {"at": 0.0}

    def write(fraction: float) -> None:
        publish_change(get_redis(), video_id, State.PROCESSING.value, round(plan.whole_fraction(item, fraction), 4))
        now = time.monotonic()
        if now - last["at"] >= DB_MIRROR_SECONDS:
            last["at"] = now
            plan.mirror_progress(video_id, item, fraction)

    return write
