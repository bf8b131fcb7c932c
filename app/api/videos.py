"""Upload, list, show, cancel and delete videos. Each user sees only their own."""

from __future__ import annotations

import re

from flask import g, jsonify, request

from app.api.blueprint import blueprint
from app.auth import current_user, token_required
from app.domain import dispatch, ingest, library, videos
from app.domain.models import User, Video
from app.domain.presenters import video_json
from app.errors import ApiError
from app.extensions import db
from app.idempotency import idempotency_key
from app.ratelimit import upload_limit

_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
MAX_QUERY = 200  # a title is at most 200 characters: a longer part of one finds nothing


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
    if key and (earlier := ingest.earlier_upload(current_user().id, key)):
        return _accepted(earlier, replayed=True)  # before reading the body: nothing is stored twice
    _receive_body()
    try:
        return _accepted(_ingest(key))
    except ingest.Replayed as replay:
        return _accepted(replay.video, replayed=True)


def _receive_body() -> None:
    """Read the whole body holding no database connection: a phone's upload may take many minutes, and
    the pool has one connection per thread, not per upload. The caller is looked up again after."""
    user_id = current_user().id
    db.session.close()
    if request.mimetype == "multipart/form-data":
        request.files  # noqa: B018  (parses the form: file parts go to staging files)
    elif request.mimetype == "application/json":
        request.get_data()  # anything else is refused (415) without being read
    g.user = db.session.get(User, user_id)
    if g.user is None:
        raise ApiError(401, "The API token is not valid.")  # the account was deleted meanwhile


def _ingest(key: str | None) -> Video:
    if request.mimetype == "application/json":  # the file went straight to the bucket
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise ApiError(400, "Send a JSON object with `upload_key` (from POST /api/uploads).")
        return ingest.from_direct_upload(
            current_user(), body.get("upload_key"), filename=_text(body, "filename"), title=_text(body, "title"),
            callback_url=_text(body, "callback_url"), idempotency_key=key,
            normalize_loudness=_flag(body.get("normalize_loudness"), "normalize_loudness"),
        )
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "Send the video as multipart/form-data, with the file in the `file` field.")
    files = request.files.getlist("file")
    if not files:
        raise ApiError(400, "The `file` field is missing.")
    if len(files) > 1:
        raise ApiError(400, "Send one file per upload.")
    return ingest.from_staged(
        current_user(), files[0].stream, filename=files[0].filename, title=single_field("title"),
        callback_url=single_field("callback_url"), idempotency_key=key,
        normalize_loudness=_flag(single_field("normalize_loudness"), "normalize_loudness"),
    )


FLAG_WORDS = {"true": True, "1": True, "on": True, "yes": True, "false": False, "0": False, "off": False, "no": False}


def _flag(value: object, name: str) -> bool:
    """An on/off option of the upload: JSON's true/false, or a form's true/false, 1/0, on/off, yes/no."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in FLAG_WORDS:
        return FLAG_WORDS[value.strip().lower()]
    raise ApiError(400, f"`{name}` must be true or false.")


def _text(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"`{name}` must be a string.")
    return value


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
    found, total = library.find(current_user().id, query=_query(), limit=limit, offset=offset)
    return jsonify(videos=[video_json(v) for v in found], total=total)


def _query() -> str | None:
    """`q`: a part of the title to look for; none (or blanks) lists every video."""
    query = request.args.get("q", "").strip()
    if len(query) > MAX_QUERY:
        raise ApiError(400, f"`q` is longer than {MAX_QUERY} characters; search for a shorter part of the title.")
    return query or None


@blueprint.get("/videos/<video_id>")
@token_required
def show(video_id: str):
    video = own_video(video_id)
    return jsonify(video_json(video, dispatch.running_progress(video)))


EDITABLE = ("title",)


@blueprint.patch("/videos/<video_id>")
@token_required
def edit(video_id: str):
    """`{"title": "..."}`: rename the video; an empty title is its file's name, as at upload."""
    video = own_video(video_id)
    changes = request.get_json(silent=True)
    if not isinstance(changes, dict):
        raise ApiError(400, 'Send a JSON object, e.g. {"title": "Holiday in Rome"}.')
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ApiError(400, f"Only {', '.join(EDITABLE)} can be changed here, not {', '.join(unknown)}.")
    if "title" in changes:
        library.rename(video, _text(changes, "title"))
    return jsonify(video_json(video, dispatch.running_progress(video)))


@blueprint.post("/videos/<video_id>/cancel")
@token_required
def cancel(video_id: str):
    video = own_video(video_id)
    if not videos.cancel(video):
        raise ApiError(409, f"The video is already {video.state}; there is nothing to cancel.")
    return jsonify(video_json(video)), 202


@blueprint.post("/videos/<video_id>/retry")
@token_required
def retry(video_id: str):
    """Convert a failed video again, when its failure was not the file's (`can_retry`)."""
    video = own_video(video_id)
    try:
        videos.retry(video)
    except videos.NotRetryable as exc:
        raise ApiError(409, str(exc)) from None
    return jsonify(video_json(video)), 202


@blueprint.delete("/videos/<video_id>")
@token_required
def delete(video_id: str):
    videos.delete(own_video(video_id))
    return "", 204


def _bounded_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f"`{name}` must be a whole number from {low} to {high}.")
    return int(raw)
