"""Download links for outputs: signed and expiring, like an S3 presigned URL, Range-capable."""

from __future__ import annotations

from flask import Blueprint, current_app, has_request_context, request, send_file
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.errors import ApiError
from app.storage import LocalStorage, get_storage

blueprint = Blueprint("media", __name__)


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="conveyor.media")


def media_url(key: str) -> str:
    """A URL anyone holding it may fetch until it expires."""
    ttl = current_app.config["MEDIA_URL_TTL"]
    direct = get_storage().public_url(key, ttl)
    if direct:
        return direct
    return external_url(f"/media/{_signer().dumps(key)}")


def external_url(path: str) -> str:
    """An absolute URL: from the request when there is one, else from `PUBLIC_URL`."""
    if has_request_context():
        return request.host_url.rstrip("/") + path
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


@blueprint.get("/media/<token>")
def download(token: str):
    try:
        key = _signer().loads(token, max_age=current_app.config["MEDIA_URL_TTL"])
    except SignatureExpired as exc:
        raise ApiError(410, "This link has expired; fetch the video again for a fresh one.") from exc
    except BadSignature as exc:
        raise ApiError(404, "No such file.") from exc
    storage = get_storage()
    if not isinstance(storage, LocalStorage) or not storage.exists(key):
        raise ApiError(404, "No such file.")
    mimetype = "image/jpeg" if key.endswith(".jpg") else "video/mp4"
    response = send_file(storage.path(key), mimetype=mimetype, conditional=True, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
