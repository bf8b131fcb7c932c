"""The upload page. With S3 storage the page sends files straight to the bucket.

The page refuses, before sending anything, a file that is too large or of a kind the service can't
read. What it takes is derived from the demuxers the sandbox lets ffmpeg open (the server's own
decision, made again on the file's first bytes at upload), so the two can't drift apart.
"""

from __future__ import annotations

from flask import current_app, make_response, render_template
from flask_login import login_required

from app.pages.blueprint import blueprint
from app.pages.origins import connecting_to, upload_origin
from media.probe import ACCEPTED
from media.sandbox import ALLOWED_DEMUXERS

# The file names and media types browsers give each container that an allowed demuxer reads. A demuxer
# added to the sandbox without an entry here fails loudly (KeyError) in the page's tests.
NAMES_OF_DEMUXER: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mov": (
        ("mp4", "m4v", "mov", "3gp", "3g2"),
        ("video/mp4", "video/x-m4v", "video/quicktime", "video/3gpp", "video/3gpp2"),
    ),
    "matroska": (("mkv", "webm"), ("video/x-matroska", "video/webm")),
    "avi": (("avi",), ("video/x-msvideo", "video/avi", "video/msvideo")),
    "mpegts": (("ts", "mts", "m2ts"), ("video/mp2t", "video/vnd.dlna.mpeg-tts")),
    "mpeg": (("mpg", "mpeg"), ("video/mpeg",)),
    "flv": (("flv",), ("video/x-flv",)),
    "ogg": (("ogv", "ogg"), ("video/ogg",)),
}


def accepted_files() -> tuple[list[str], list[str]]:
    """The extensions (without the dot) and media types of the files the service takes."""
    extensions: list[str] = []
    types: list[str] = []
    for demuxer in ALLOWED_DEMUXERS:
        names, media_types = NAMES_OF_DEMUXER[demuxer]
        extensions += names
        types += media_types
    return extensions, types


@blueprint.get("/upload")
@login_required
def upload():
    """With S3 storage the page sends the files straight to the bucket (no web dyno, no 30 s limit)."""
    bucket = upload_origin()
    extensions, types = accepted_files()
    page = render_template(
        "upload.html",
        max_upload_mb=current_app.config["MAX_UPLOAD_MB"],
        direct=bool(bucket),
        extensions=extensions,
        media_types=types,
        accepted_kinds=ACCEPTED,
    )
    return connecting_to(make_response(page), bucket)
