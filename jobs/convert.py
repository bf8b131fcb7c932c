"""The conversion job: probe, transcode to every rendition and a poster, publish, record."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

from flask import current_app
from redis.exceptions import RedisError
from rq import Retry, get_current_job

from app import content
from app.extensions import db
from app.metrics import count_conversion
from app.models import Rendition, Video, utcnow
from app.notifications import notify_final
from app.queueing import cancel_key, get_redis, publish_change
from app.recovery import requeue_video
from app.states import State
from app.storage import get_storage
from jobs import probe as probing
from jobs import runner, shutdown, transcode
from jobs.errors import BadMedia, Cancelled, HandOff
from jobs.progress import Progress

log = logging.getLogger(__name__)

PROBED, TRANSCODED = 0.02, 0.95
DB_MIRROR_SECONDS = 1.0


# A video in one of these states may be converted: queued (the usual way), processing (the job was
# handed back, or its worker died) and failed (an operator retried the failed job from /rq).
CONVERTIBLE = frozenset({State.QUEUED, State.PROCESSING, State.FAILED})
# Hand-backs of one job before RQ gives up on it: each is a restart that met the job in flight.
HAND_BACKS = 1000


def convert_video(video_id: str) -> dict | Retry:
    """Convert one stored upload.

    Bad media ends the video `failed` and the job failed (so /rq lists it, with the reason), never
    retried; other errors are retried by RQ. On the platform's SIGTERM the job hands itself back:
    it returns a `Retry` that puts it at the front of its queue, for the next free worker.
    """
    video = db.session.get(Video, video_id)
    if video is None or State(video.state) not in CONVERTIBLE:
        return {"video": video_id, "skipped": True}
    if get_redis().exists(cancel_key(video_id)):
        _finish(video, State.CANCELLED)
        return {"video": video_id, "state": State.CANCELLED.value}
    video.state = State.PROCESSING.value
    video.attempts += 1
    video.started_at = utcnow()
    video.error = None
    video.finished_at = None
    db.session.commit()
    _announce(video)
    progress = Progress(_mirror(video_id))
    try:
        _convert(video, progress)
    except BadMedia as exc:
        _finish(video, State.FAILED, str(exc))
        _no_retry()
        raise
    except Cancelled:
        db.session.rollback()
        if _exists(video_id):  # a deleted video has nothing left to mark
            _finish(video, State.CANCELLED)
        return {"video": video_id, "state": State.CANCELLED.value}
    except Exception:
        if shutdown.requested():  # whatever broke while stopping (ffmpeg got the signal too): hand back
            return _hand_back(video_id)
        raise
    return {"video": video_id, "state": video.state}


def _hand_back(video_id: str) -> Retry:
    db.session.rollback()
    requeue_video(video_id)
    job = get_current_job()
    log.warning("job %s handed back to queue %s: the worker is shutting down", job and job.id, job and job.origin)
    return Retry(max=HAND_BACKS, enqueue_at_front=True)


def _no_retry() -> None:
    """The failure is the file's, not the moment's: RQ records the job failed instead of retrying it."""
    job = get_current_job()
    if job is not None:
        job.retries_left = 0


def conversion_failed(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ's failure callback: once no retry is left, the video is `failed` with the reason."""
    if job.retries_left or shutdown.requested():
        return  # RQ tries again, or the worker hands the job back
    db.session.rollback()
    video = db.session.get(Video, job.args[0])
    if video is not None and not State(video.state).is_final:
        _finish(video, State.FAILED, f"The conversion failed after {video.attempts} attempts: {exc_value}")


def _convert(video: Video, progress: Progress) -> None:
    cfg = current_app.config
    storage = get_storage()
    with tempfile.TemporaryDirectory(prefix="conveyor-") as workdir:
        work = Path(workdir)
        with storage.local_copy(video.source_key, work) as source:
            info = probing.probe(source, _limits(cfg))
            video.duration, video.width, video.height = info.duration, info.width, info.height
            db.session.commit()
            progress.update(PROBED, force=True)
            targets = transcode.plan(info, cfg["RENDITIONS"], work)
            poster = work / "poster.jpg"
            frames = work / "frames.gray" if content.wanted(video) else None
            args = transcode.command(
                source, info, targets, poster, preset=cfg["X264_PRESET"], poster_at=cfg["POSTER_AT_SECONDS"],
                frames=frames,
            )
            runner.run(
                args,
                info.duration,
                progress.stage(PROBED, TRANSCODED),
                lambda: _check_stop(video.id),
                timeout=cfg["CONVERT_TIMEOUT_BASE"] + info.duration * cfg["CONVERT_TIMEOUT_FACTOR"],
                stall_seconds=cfg["FFMPEG_STALL_SECONDS"],
                memory_mb=cfg["FFMPEG_MEMORY_MB"],
            )
        if frames is not None and _rejected(video, frames):
            return  # nothing of it is stored
        _publish(video, targets, poster, progress)


def _rejected(video: Video, frames: Path) -> bool:
    """Match the sampled frames against the blocklist; a match ends the video `rejected`."""
    match = content.screen(video, frames)
    if match is None:
        return False
    with db.session.no_autoflush:  # the match is written with the state, or not at all
        current = db.session.execute(db.select(Video.state).where(Video.id == video.id)).scalar_one_or_none()
    if current != State.PROCESSING.value:  # deleted or cancelled meanwhile
        raise Cancelled()
    log.warning("video %s matched blocklist entry %s at %.1f s", video.id, match.entry_id, match.at_seconds)
    _finish(video, State.REJECTED, content.REJECTED_MESSAGE)  # commits the match too
    return True


def _check_stop(video_id: str) -> None:
    """Raise when the worker is shutting down or the uploader cancelled."""
    if shutdown.requested():
        raise HandOff()
    if _cancel_flagged(video_id):
        raise Cancelled()


def _cancel_flagged(video_id: str) -> bool:
    try:
        return bool(get_redis().exists(cancel_key(video_id)))
    except RedisError:
        return False  # Redis is away: keep converting; the database has the final word


def _publish(video: Video, targets: list[transcode.Target], poster: Path, progress: Progress) -> None:
    """Store every output, then flip the video to `ready` in one commit."""
    storage = get_storage()
    renditions = []
    publish_step = progress.stage(TRANSCODED, 1.0)
    for index, target in enumerate(targets):
        if not target.path.is_file():
            raise BadMedia("ffmpeg produced no output; the file may hold no decodable picture.")
        key = f"{video.prefix}{target.name}.mp4"
        size = storage.put_file(key, target.path)
        renditions.append(Rendition(name=target.name, width=target.width, height=target.height, size=size, key=key))
        publish_step((index + 1) / (len(targets) + 1))
    poster_key = None
    if poster.is_file():
        poster_key = f"{video.prefix}poster.jpg"
        storage.put_file(poster_key, poster)
    current = db.session.execute(db.select(Video.state).where(Video.id == video.id)).scalar_one_or_none()
    if current != State.PROCESSING.value or _cancel_flagged(video.id):
        # cancelled or deleted while publishing: take back what was written
        for key in [r.key for r in renditions] + ([poster_key] if poster_key else []):
            storage.delete(key)
        if current is None:
            storage.delete_prefix(video.prefix)
        raise Cancelled()
    video.renditions = renditions
    video.poster_key = poster_key
    progress.update(1.0, force=True)
    _finish(video, State.READY)


def _exists(video_id: str) -> bool:
    return db.session.execute(db.select(Video.id).where(Video.id == video_id)).first() is not None


def _finish(video: Video, state: State, error: str | None = None) -> None:
    video.state = state.value
    video.error = error
    video.finished_at = utcnow()
    if state is State.READY:
        video.status = 1.0
    db.session.commit()
    log.info("video %s %s", video.id, state.value)
    _announce(video)
    _count(video, state)
    notify_final(video)  # on `high`, so a free worker sends it at once


def _count(video: Video, state: State) -> None:
    if state in (State.READY, State.FAILED) and video.started_at:
        try:
            count_conversion(get_redis(), state.value, (video.finished_at - video.started_at).total_seconds())
        except RedisError:
            log.warning("conversion of %s not counted: redis unavailable", video.id)


def _announce(video: Video) -> None:
    publish_change(get_redis(), video.id, video.state, video.status)


def _mirror(video_id: str):
    """Progress into the database (about once a second) and to live listeners."""
    last = {"at": 0.0}

    def write(fraction: float) -> None:
        fraction = min(fraction, 0.99)  # 1.0 is for `ready` alone
        publish_change(get_redis(), video_id, State.PROCESSING.value, round(fraction, 4))
        now = time.monotonic()
        if now - last["at"] >= DB_MIRROR_SECONDS:
            last["at"] = now
            db.session.execute(
                db.update(Video)
                .where(Video.id == video_id, Video.status < fraction, Video.state == State.PROCESSING.value)
                .values(status=fraction)
            )
            db.session.commit()

    return write


def _limits(cfg) -> probing.Limits:
    return probing.Limits(
        max_duration=cfg["MAX_DURATION_SECONDS"],
        max_width=cfg["MAX_WIDTH"],
        max_height=cfg["MAX_HEIGHT"],
        max_pixels=cfg["MAX_PIXELS"],
        max_frame_rate=cfg["MAX_FRAME_RATE"],
        max_streams=cfg["MAX_STREAMS"],
        memory_mb=cfg["FFMPEG_MEMORY_MB"],
    )
