"""`/stream/<token>/<name>`: a video's HLS stream and storyboard behind one signed, expiring token
(app/platform/links.py), for any HLS client, without cookies.

On local storage every file is served from here. On S3 the playlists and the storyboard's cues are
served from here with the files they name rewritten to presigned URLs of the bucket, so segments and
sprite sheets go straight from the bucket to the player; the master playlist names media playlists,
which stay relative (here). A playlist is read afresh on each request: while the video is processing,
its playlists grow. The master is served with the video's captions as its subtitle group, read from
the database (app/domain/captions.py); a caption's playlist and cues are always served from here
(small text, same origin as the page's player).
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, redirect, send_file
from itsdangerous import BadSignature, SignatureExpired

from app.domain import captions, streams
from app.downloads import private
from app.errors import ApiError
from app.platform.links import STREAM_SALT, signer
from app.platform.storage import LocalStorage, get_storage

blueprint = Blueprint("streams", __name__)

SEGMENT_MAX_AGE = 3600
_MAP_URI = re.compile(r'(#EXT-X-MAP:.*?URI=")([^"]+)(")')


@blueprint.get("/stream/<token>/<path:name>")
def stream_file(token: str, name: str):
    if not streams.is_name(name):
        raise ApiError(404, "No such file.")
    try:
        video_id = signer(STREAM_SALT).loads(token, max_age=current_app.config["MEDIA_URL_TTL"])
    except SignatureExpired as exc:
        raise ApiError(410, "This link has expired; fetch the video again for a fresh one.") from exc
    except BadSignature as exc:
        raise ApiError(404, "No such file.") from exc
    if not isinstance(video_id, str):
        raise ApiError(404, "No such file.")
    key = streams.key(video_id, name)
    storage = get_storage()
    if name.endswith(streams.LISTS):
        response = _listing(storage, key, name, video_id)
    elif isinstance(storage, LocalStorage):
        if not storage.exists(key):
            raise ApiError(404, "No such file.")
        response = send_file(
            storage.path(key), mimetype=streams.content_type(name), conditional=True, max_age=SEGMENT_MAX_AGE
        )
        private(response, SEGMENT_MAX_AGE)
    else:  # what a rewritten playlist names directly; a client that asks here anyway is sent there
        response = redirect(storage.public_url(key, current_app.config["MEDIA_URL_TTL"]), code=302)
    response.headers["Access-Control-Allow-Origin"] = "*"  # the token is the credential; players on any site
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _listing(storage, key: str, name: str, video_id: str) -> Response:
    """A playlist or the storyboard's cues, with what they name made fetchable from where it is."""
    try:
        text = storage.read_bytes(key).decode("utf-8")
    except FileNotFoundError as exc:
        raise ApiError(404, "No such file.") from exc
    folder = key.rsplit("/", 1)[0] + "/"
    ttl = current_app.config["MEDIA_URL_TTL"]
    if name == streams.MASTER:
        text = captions.in_master(video_id, text)
    elif name.startswith(f"{streams.SUBTITLES_FOLDER}/"):
        pass  # its cues come from here too: a caption's text is never read as names of files
    elif not isinstance(storage, LocalStorage):  # point at the bucket

        def direct(uri: str) -> str:
            file, _, fragment = uri.partition("#")  # a cue's `sprite_000.jpg#xywh=...`
            if not streams.is_name(f"{name.rsplit('/', 1)[0]}/{file}"):
                return uri
            return storage.public_url(folder + file, ttl) + (f"#{fragment}" if fragment else "")

        text = _rewrite(text, direct)
    response = Response(text, mimetype=streams.content_type(name))
    response.headers["Cache-Control"] = "private, no-cache"  # it grows while the video is processing
    return response


def _rewrite(text: str, uri) -> str:
    """Each line naming a file (not a tag, not a cue's timing) through `uri`, and the init segment's."""
    lines = []
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith("#EXT-X-MAP:"):
            line = _MAP_URI.sub(lambda m: m.group(1) + uri(m.group(2)) + m.group(3), line)
        elif stripped and not stripped.startswith("#") and "-->" not in stripped and stripped != "WEBVTT":
            line = uri(stripped)
        lines.append(line)
    return "\n".join(lines)
