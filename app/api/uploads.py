"""Direct uploads: with S3 storage, clients send the file straight to the bucket.

`POST /api/uploads` hands out a presigned form; the client posts the file to the bucket, then
creates the video with `POST /api/videos` and `{"upload_key": ...}`. Large files never pass
through a web dyno, so the platform's 30 s request limit does not matter.
"""

from __future__ import annotations

import re
import secrets
from pathlib import PurePosixPath

from flask import current_app, jsonify, request

from app.api import blueprint
from app.auth import current_user, token_required
from app.errors import ApiError
from app.extensions import db
from app.models import Video
from app.storage import get_storage
from app.uploads import MAX_TITLE, SNIFF_BYTES, check_callback_url, clean_filename, clean_text, container_of

UPLOAD_TTL = 3600
_UPLOAD_KEY = re.compile(r"^uploads/(\d+)/[A-Za-z0-9_-]{16,64}$")


def _direct_storage():
    storage = get_storage()
    if not hasattr(storage, "presigned_upload"):
        raise ApiError(
            400, "Direct uploads need S3 storage (STORAGE_URL=s3://...); send the file to POST /api/videos instead."
        )
    return storage


@blueprint.post("/uploads")
@token_required
def new_upload():
    storage = _direct_storage()
    key = f"uploads/{current_user().id}/{secrets.token_urlsafe(24)}"
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    form = storage.presigned_upload(key, max_bytes, UPLOAD_TTL)
    return jsonify(upload_key=key, url=form["url"], fields=form["fields"], expires_in=UPLOAD_TTL,
                   max_bytes=max_bytes), 201


def video_from_upload(idempotency_key: str | None) -> Video:
    """Create a video from an object the caller uploaded to the bucket."""
    storage = _direct_storage()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "Send a JSON object with `upload_key` (from POST /api/uploads).")
    upload_key = body.get("upload_key")
    match = _UPLOAD_KEY.match(upload_key) if isinstance(upload_key, str) else None
    if match is None or int(match.group(1)) != current_user().id:
        raise ApiError(400, "`upload_key` is not an upload of yours; ask POST /api/uploads for one.")
    size = storage.size(upload_key)
    if size is None:
        raise ApiError(400, "Nothing was uploaded under `upload_key` (or it expired); upload the file first.")
    if size == 0:
        raise ApiError(400, "The file is empty.")
    if container_of(storage.head(upload_key, SNIFF_BYTES)) is None:
        storage.delete(upload_key)
        raise ApiError(415, "This file is not a video Conveyor accepts.")
    filename = clean_filename(_text(body, "filename"))
    title = clean_text(_text(body, "title"), MAX_TITLE, "title") or PurePosixPath(filename).stem[:MAX_TITLE]
    video = Video(
        user_id=current_user().id, title=title, filename=filename, size=size,
        callback_url=check_callback_url(_text(body, "callback_url")), idempotency_key=idempotency_key,
    )
    db.session.add(video)
    db.session.flush()
    storage.move(upload_key, video.source_key)
    db.session.commit()
    return video


def _text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"`{name}` must be a string.")
    return value
