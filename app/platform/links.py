"""Signed links to stored files, like an S3 presigned URL: anyone holding one may fetch the file
until it expires. Local storage's are served by `app/downloads.py`; S3's go to the bucket.

A video's stream is many files (playlists, hundreds of segments, the storyboard), so it gets one
token for all of them, in the path: `/stream/<token>/master.m3u8`, and every playlist names its
files relative to itself (`720p/index.m3u8`, `seg_00001.m4s`), which an HLS client resolves under
the same token. No cookie is needed, so any HLS client plays it (served by `app/streams.py`).
"""

from __future__ import annotations

from flask import current_app, has_request_context, request
from itsdangerous import URLSafeTimedSerializer

from app.platform.storage import get_storage

SALT = "conveyor.media"
STREAM_SALT = "conveyor.stream"  # a download link's token can't open a stream, nor the other way round


def signer(salt: str = SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def media_url(key: str) -> str:
    """A URL anyone holding it may fetch until it expires."""
    ttl = current_app.config["MEDIA_URL_TTL"]
    direct = get_storage().public_url(key, ttl)
    if direct:
        return direct
    return external_url(f"/media/{signer().dumps(key)}")


def stream_url(video_id: str, name: str) -> str:
    """The signed, expiring URL of one file of a video's stream (`master.m3u8`, ...)."""
    return external_url(f"/stream/{signer(STREAM_SALT).dumps(video_id)}/{name}")


def external_url(path: str) -> str:
    """An absolute URL: from the request when there is one, else from `PUBLIC_URL`."""
    if has_request_context():
        return request.host_url.rstrip("/") + path
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
