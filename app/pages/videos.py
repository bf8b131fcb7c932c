"""Upload, "My videos" and a video's page, with its caption files. Live changes come from the API's
event stream."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, abort, current_app, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.api.captions import caption_upload
from app.domain import captions
from app.domain.errors import Refused
from app.domain.models import Video
from app.domain.presenters import video_json
from app.domain.states import CANCELLABLE_STATES, State
from app.extensions import db
from app.pages.blueprint import blueprint
from app.pages.security import PAGE_POLICY
from app.platform.storage import StorageError, get_storage

LIST_LIMIT = 100


@blueprint.get("/")
def index():
    return redirect(url_for("pages.videos"))


@blueprint.get("/upload")
@login_required
def upload():
    """With S3 storage the page sends the file straight to the bucket (no web dyno, no 30 s limit)."""
    bucket = _upload_origin()
    page = render_template("upload.html", max_upload_mb=current_app.config["MAX_UPLOAD_MB"], direct=bool(bucket))
    return _connecting_to(make_response(page), bucket)


def _connecting_to(response: Response, origin: str | None) -> Response:
    """The page's policy, letting its scripts fetch from `origin` (the bucket) as well as the site."""
    if origin:
        response.headers["Content-Security-Policy"] = PAGE_POLICY.replace(
            "connect-src 'self'", f"connect-src 'self' {origin}"
        )
    return response


def _upload_origin() -> str | None:
    """Where direct uploads go, when the storage takes them: the origin of its presigned forms."""
    storage = get_storage()
    if not hasattr(storage, "presigned_upload"):
        return None
    try:
        url = storage.presigned_upload("uploads/0/origin", 1, 60)["url"]  # signed locally, no request
    except StorageError:
        return None
    return _origin(url)


def _read_origin() -> str | None:
    """Where the storage serves files from itself, when it does (S3's presigned URLs): the player
    fetches a stream's segments from there, by script (hls.js)."""
    try:
        url = get_storage().public_url("videos/0/origin", 60)  # signed locally, no request
    except StorageError:
        return None
    return _origin(url) if url else None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@blueprint.get("/videos")
@login_required
def videos():
    found = db.session.scalars(
        db.select(Video)
        .where(Video.user_id == current_user.id)
        .order_by(Video.created_at.desc(), Video.id)
        .limit(LIST_LIMIT)
    ).all()
    return render_template("videos.html", videos=[video_json(v) for v in found])


@blueprint.get("/videos/<video_id>")
@login_required
def video(video_id: str):
    page = render_template("video.html", video=video_json(owned_video(video_id)))
    return _connecting_to(make_response(page), _read_origin())


@blueprint.post("/videos/<video_id>/captions")
@login_required
def add_caption(video_id: str):
    """The page's caption form (CSRF checked by CSRFProtect); what is wrong with the file comes back as
    the page's message."""
    video = owned_video(video_id)
    try:
        data, filename, language, label = caption_upload()
        added = captions.add(video, data, filename=filename, language=language, label=label)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash(f"Captions added: {added.label} ({added.cues} cues).", "info")
    return redirect(url_for("pages.video", video_id=video.id), 303)


@blueprint.post("/videos/<video_id>/captions/<language>/delete")
@login_required
def delete_caption(video_id: str, language: str):
    video = owned_video(video_id)
    try:
        captions.remove(video, language)
    except Refused as refused:
        flash(refused.message, "error")
    else:
        flash("Captions deleted.", "info")
    return redirect(url_for("pages.video", video_id=video.id), 303)


def owned_video(video_id: str) -> Video:
    """The user's own video, or 404: someone else's looks exactly like a missing one."""
    video = db.session.get(Video, video_id) if len(video_id) <= 64 else None
    if video is None or video.user_id != current_user.id:
        abort(404, "No such video.")
    return video


@blueprint.app_template_filter("size")
def human_size(size: int | None) -> str:
    if not size:
        return ""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@blueprint.app_template_filter("percent")
def percent(fraction: float | None) -> str:
    return f"{(fraction or 0) * 100:.0f}%"


@blueprint.app_context_processor
def states():
    return {
        "final_states": {state.value for state in State if state.is_final},
        "cancellable": {state.value for state in CANCELLABLE_STATES},
        "takes_captions": {state.value for state in captions.TAKES_CAPTIONS},
    }
