"""A video's page, with its caption files. Live changes come from the API's event stream."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.api.captions import caption_upload
from app.domain import captions
from app.domain.errors import Refused
from app.domain.models import Video
from app.domain.presenters import video_json
from app.extensions import db
from app.pages.blueprint import blueprint
from app.pages.origins import connecting_to, read_origin


@blueprint.get("/")
def index():
    return redirect(url_for("pages.videos"))


@blueprint.get("/videos/<video_id>")
@login_required
def video(video_id: str):
    page = render_template("video.html", video=video_json(owned_video(video_id)))
    return connecting_to(make_response(page), read_origin())


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
