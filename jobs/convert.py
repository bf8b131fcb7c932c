"""The conversion jobs: given a video id (and which part of it), run its work item through the
domain, the RQ way: the whole video; or a long video's chunk, audio or finish.

Bad media ends the video `failed` and the job failed (so /rq lists it, with the reason), never
retried; other errors are retried by RQ, and its failure callback fails the video once no attempt
is left. On the platform's SIGTERM the job hands itself back: it returns a `Retry` that puts it at
the front of its queue, for the next free worker.
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry, get_current_job

from app.domain import chunking, conversion, dispatch, finishing, plan, streams, videos
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
STATE_CHECK_SECONDS = 1.0  # how often a running job reads its video's state
# A video in one of these states may be converted: queued (the usual way), processing (the job was
# handed back, or its worker died) and failed (an operator retried the failed job from /rq).
CONVERTIBLE = frozenset({State.QUEUED, State.PROCESSING, State.FAILED})
# Hand-backs of one job before RQ gives up on it: each is a restart that met the job in flight.
HAND_BACKS = 1000


def convert_video(video_id: str) -> dict | Retry:
    """Convert one stored upload: the whole video; or, when it is long, plan its chunks and queue them."""
    return _run(video_id, plan.WHOLE, 0, conversion.convert_whole)


def convert_chunk(video_id: str, number: int) -> dict | Retry:
    """Convert one chunk of a long video: every rung of its part of the source."""
    return _run(video_id, plan.CHUNK, number, chunking.convert_chunk)


def convert_audio(video_id: str, number: int = 0) -> dict | Retry:
    """Encode a long video's audio, all of it, once."""
    return _run(video_id, plan.AUDIO, number, chunking.convert_audio)


def finish_video(video_id: str, number: int = 0) -> dict | Retry:
    """Finish a long video once its chunks and audio are done: final stream, downloads, `ready`."""
    return _run(video_id, plan.FINISH, number, finishing.finish)


def _run(video_id: str, kind: str, number: int, work) -> dict | Retry:
    """Run one work item of a video through the domain, with the job's progress, cancel and shutdown."""
    video = db.session.get(Video, video_id)
    if video is None or State(video.state) not in CONVERTIBLE:
        return {"video": video_id, "skipped": True}
    if dispatch.cancel_requested(video_id):
        videos.cancel(video)
        return {"video": video_id, "state": State.CANCELLED.value}
    plan.items_of(video)
    item = plan.item_of(video, kind, number)
    if item is None or item.finished_at is not None:
        return {"video": video_id, "skipped": True}  # planned otherwise meanwhile, or done already (a retry)
    if kind != plan.FINISH:
        return _work(video, item, work)
    if not finishing.ready_to_finish(video):
        return {"video": video_id, "waiting": True}  # the sweep queues it again once all is done
    if not finishing.claim(video_id):
        return {"video": video_id, "skipped": True}  # another run is finishing it
    try:
        return _work(video, item, work)
    finally:
        finishing.release(video_id)


def _work(video: Video, item, work) -> dict | Retry:
    """Start the item (the video `processing`, if it is not yet) and run it; whatever stops it."""
    video_id, kind = video.id, item.kind
    plan.start_item(item)  # committed with the move, or not at all
    if kind == plan.WHOLE or video.state != State.PROCESSING.value:
        if not videos.move(video, State.PROCESSING):
            return {"video": video_id, "skipped": True}  # cancelled or deleted that very moment
    else:
        db.session.commit()  # one more part of a video already processing
    try:
        work(video, item, Progress(_mirror(video_id, item)), _stop_check(video_id))
    except BadMedia as exc:
        if shutdown.requested():  # ffprobe or ffmpeg got the platform's signal too: not the file's fault
            return _hand_back(video_id, kind)
        if _given_up(video_id):  # cancelled or deleted (its source with it) while ffmpeg read it
            _stopped(video_id)
            return {"video": video_id, "state": State.CANCELLED.value}
        db.session.rollback()
        videos.move(video, State.FAILED, error=str(exc))  # not retryable: it would fail the same way again
        _no_retry()
        raise
    except Cancelled:
        _stopped(video_id)
        return {"video": video_id, "state": State.CANCELLED.value}
    except Exception:
        if shutdown.requested():  # whatever broke while stopping (ffmpeg got the signal too): hand back
            return _hand_back(video_id, kind)
        raise
    return {"video": video_id, "state": video.state, "item": f"{kind} {item.number}"}


def conversion_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: once no retry is left, the video is `failed` with the reason."""
    if job.retries_left or shutdown.requested():
        return  # RQ tries again, or the worker hands the job back
    db.session.rollback()
    video = db.session.get(Video, job.args[0])
    if video is None or State(video.state).is_final:
        return
    # tried at least as often as the retry policy says, even if an attempt never got as far as counting
    tried = current_app.config["JOB_RETRIES"] + 1
    what, attempts = "The conversion", max(video.attempts, tried)
    if len(job.args) > 1:  # a part of a long video: the others are stopped by the move
        kind = next((k for k, function in plan.JOBS.items() if function == job.func_name), plan.CHUNK)
        item = plan.item_of(video, kind, job.args[1])
        if item is not None and item.finished_at is not None:
            return  # its work was done and recorded; what failed was the job's end (its worker died)
        if item is not None:
            what = f"The conversion ({plan.part_name(item)})"
            attempts = max(item.attempts, tried)
    # not the file's fault (a worker lost, a timeout, storage away): its owner may convert it again
    videos.move(video, State.FAILED, error=f"{what} failed after {attempts} attempts: {exc_value}", retryable=True)


def _stop_check(video_id: str):
    """What the work calls a few times a second: it raises when the worker is shutting down, the
    uploader cancelled, or the video is no longer processing (another part of it failed, was rejected)."""
    last = {"at": time.monotonic()}

    def check() -> None:
        if shutdown.requested():
            raise HandOff()
        try:
            cancelled = dispatch.cancel_requested(video_id)
        except RedisError:
            cancelled = False  # Redis is away: keep converting; the database has the final word
        if cancelled:
            raise Cancelled()
        now = time.monotonic()
        if now - last["at"] >= STATE_CHECK_SECONDS:
            last["at"] = now
            state = db.session.execute(db.select(Video.state).where(Video.id == video_id)).scalar_one_or_none()
            db.session.commit()  # end the read: the next one sees what others committed since
            if state != State.PROCESSING.value:
                raise Cancelled()

    return check


def _stopped(video_id: str) -> None:
    """Cancelled or deleted while it ran: a video still `processing` becomes `cancelled`; what its
    stream published is taken back, after this job's last upload (the web's own clean-up may have
    come before it)."""
    db.session.rollback()
    video = db.session.get(Video, video_id, populate_existing=True)
    if video is not None and video.state == State.PROCESSING.value:
        videos.move(video, State.CANCELLED)
    if video is None or State(video.state) in videos.WITHDRAWN:
        streams.withdraw(video_id)


def _given_up(video_id: str) -> bool:
    db.session.rollback()
    video = db.session.get(Video, video_id, populate_existing=True)
    return video is None or video.state == State.CANCELLED.value or dispatch.cancel_requested(video_id)


def _hand_back(video_id: str, kind: str) -> Retry:
    db.session.rollback()
    video = db.session.get(Video, video_id, populate_existing=True)
    if video is not None and kind == plan.WHOLE:  # a part of a long video: the others go on running
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
