"""Signed links to stored files, like an S3 presigned URL: anyone holding one may fetch the file
until it expires. Local storage's are served by `app/downloads.py`; S3's go to the bucket."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from itsdangerous import URLSafeTimedSerializer

from app.platform.storage import get_storage

SALT = "conveyor.media"


def signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def media_url(key: str) -> str:
    """A URL anyone holding it may fetch until it expires."""
    ttl = current_app.config["MEDIA_URL_TTL"]
    direct = get_storage().public_url(key, ttl)
    if direct:
        return direct
    return external_url(f"/media/{signer().dumps(key)}")


def external_url(path: str) -> str:
    """An absolute URL: from the request when there is one, else from `PUBLIC_URL`."""
    if has_request_context():
        return request.host_url.rstrip("/") + path
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
