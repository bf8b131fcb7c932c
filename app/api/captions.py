"""A video's caption files: add one (multipart: `file`, `language`, optional `label`), delete one by
its language. The video JSON lists them, with the subtitle tracks of the upload."""

from __future__ import annotations

from flask import current_app, jsonify, request

from app.api.blueprint import blueprint
from app.api.videos import own_video, single_field
from app.auth import token_required
from app.domain import captions
from app.domain.presenters import caption_json
from app.domain.streams import viewable
from app.errors import ApiError


def caption_upload() -> tuple[bytes, str, str | None, str | None]:
    """The caption file of a multipart request, read up to one byte over the limit, and its fields."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "Send the caption file as multipart/form-data, in the `file` field.")
    files = request.files.getlist("file")
    if not files or not files[0].filename:
        raise ApiError(400, "The `file` field is missing: send a .vtt or .srt caption file.")
    if len(files) > 1:
        raise ApiError(400, "Send one caption file at a time.")
    data = files[0].stream.read(current_app.config["MAX_CAPTION_KB"] * 1024 + 1)
    return data, files[0].filename, single_field("language"), single_field("label")


@blueprint.post("/videos/<video_id>/captions")
@token_required
def add_caption(video_id: str):
    video = own_video(video_id)
    data, filename, language, label = caption_upload()
    caption = captions.add(video, data, filename=filename, language=language, label=label)
    response = jsonify(caption_json(caption, viewable(video)))
    response.status_code = 201
    response.headers["Location"] = f"/api/videos/{video.id}"
    return response


@blueprint.delete("/videos/<video_id>/captions/<language>")
@token_required
def delete_caption(video_id: str, language: str):
    captions.remove(own_video(video_id), language)
    return "", 204


@blueprint.get("/videos/<video_id>/captions")
@token_required
def list_captions(video_id: str):
    video = own_video(video_id)
    return jsonify(captions=[caption_json(c, viewable(video)) for c in video.captions])
