"""Upload, list, show, cancel and delete videos. Each user sees only their own."""

from __future__ import annotations

import logging
import re
from pathlib import PurePosixPath

from flask import jsonify, request
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app import queueing
from app.api import blueprint
from app.api.uploads import video_from_upload
from app.auth import current_user, token_required
from app.errors import ApiError
from app.extensions import db
from app.idempotency import earlier_upload, idempotency_key
from app.models import Video
from app.notifications import notify_final
from app.presenters import video_json
from app.ratelimit import upload_limit
from app.states import CANCELLABLE_STATES, State
from app.storage import get_storage
from app.uploads import MAX_TITLE, check_callback_url, check_video_file, clean_filename, clean_text

log = logging.getLogger(__name__)

_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")


def own_video(video_id: str) -> Video:
    """The caller's video, or 404: someone else's video looks exactly like a missing one."""
    video = db.session.get(Video, video_id) if _VIDEO_ID.match(video_id) else None
    if video is None or video.user_id != current_user().id:
        raise ApiError(404, "No such video.")
    return video


def single_field(name: str) -> str | None:
    values = request.form.getlist(name)
    if len(values) > 1:
        raise ApiError(400, f"Send `{name}` once.")
    return values[0] if values else None


@blueprint.post("/videos")
@token_required
@upload_limit
def upload():
    key = idempotency_key()
    if key and (earlier := earlier_upload(current_user().id, key)):
        return _accepted(earlier, replayed=True)  # before reading the body: nothing is stored twice
    if request.mimetype == "application/json":  # the file went straight to the bucket
        return _start(video_from_upload(key))
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "Send the video as multipart/form-data, with the file in the `file` field.")
    files = request.files.getlist("file")
    if not files:
        raise ApiError(400, "The `file` field is missing.")
    if len(files) > 1:
        raise ApiError(400, "Send one file per upload.")
    upload = files[0]
    filename = clean_filename(upload.filename)
    title = clean_text(single_field("title"), MAX_TITLE, "title") or PurePosixPath(filename).stem[:MAX_TITLE]
    callback_url = check_callback_url(single_field("callback_url"))
    check_video_file(upload.stream)

    video = Video(
        user_id=current_user().id, title=title, filename=filename, callback_url=callback_url, idempotency_key=key
    )
    db.session.add(video)
    try:
        db.session.flush()  # assigns the id
    except IntegrityError:  # the same key, at the same moment, in another request that won
        db.session.rollback()
        earlier = earlier_upload(current_user().id, key) if key else None
        if earlier is None:
            raise
        return _accepted(earlier, replayed=True)
    video.size = get_storage().save_staged(video.source_key, upload.stream)
    db.session.commit()
    return _start(video)


def _start(video: Video):
    try:
        queueing.enqueue_conversion(video.id)
    except RedisError:
        # the database keeps it `queued`; the reconciler enqueues it once Redis is back
        log.warning("video %s stored but not enqueued: redis unavailable", video.id)
    return _accepted(video)


def _accepted(video: Video, replayed: bool = False):
    """202 for a new upload; 200 and the same video for a retry with the same `Idempotency-Key`."""
    response = jsonify(video_json(video))
    response.status_code = 200 if replayed else 202
    response.headers["Location"] = f"/api/videos/{video.id}"
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@blueprint.get("/videos")
@token_required
def list_videos():
    limit = _bounded_int("limit", 50, 1, 200)
    offset = _bounded_int("offset", 0, 0, 1_000_000)
    videos = db.session.scalars(
        db.select(Video)
        .where(Video.user_id == current_user().id)
        .options(selectinload(Video.renditions), selectinload(Video.deliveries))  # 3 queries, not 2 a video
        .order_by(Video.created_at.desc(), Video.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return jsonify(videos=[video_json(v) for v in videos])


@blueprint.get("/videos/<video_id>")
@token_required
def show(video_id: str):
    video = own_video(video_id)
    return jsonify(video_json(video, queueing.running_progress(video)))


@blueprint.post("/videos/<video_id>/cancel")
@token_required
def cancel(video_id: str):
    video = own_video(video_id)
    if State(video.state) not in CANCELLABLE_STATES:
        raise ApiError(409, f"The video is already {video.state}; there is nothing to cancel.")
    queueing.request_cancel(video.id)
    video.state = State.CANCELLED.value
    db.session.commit()
    queueing.publish_change(queueing.get_redis(), video.id, video.state, video.status)
    notify_final(video)
    return jsonify(video_json(video)), 202


@blueprint.delete("/videos/<video_id>")
@token_required
def delete(video_id: str):
    video = own_video(video_id)
    if State(video.state) in CANCELLABLE_STATES:
        queueing.request_cancel(video.id)
    get_storage().delete_prefix(video.prefix)
    db.session.delete(video)
    db.session.commit()
    return "", 204


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f"`{name}` must be a whole number from {low} to {high}.")
    return int(raw)
