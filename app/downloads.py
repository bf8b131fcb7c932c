"""`/media/<signed>`: local storage's files behind their signed, expiring links (app/platform/links.py),
Range-capable."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, send_file
from itsdangerous import BadSignature, SignatureExpired

from app.errors import ApiError
from app.platform.links import signer
from app.platform.storage import LocalStorage, get_storage

blueprint = Blueprint("media", __name__)


@blueprint.get("/media/<token>")
def download(token: str):
    try:
        key = signer().loads(token, max_age=current_app.config["MEDIA_URL_TTL"])
    except SignatureExpired as exc:
        raise ApiError(410, "This link has expired; fetch the video again for a fresh one.") from exc
    except BadSignature as exc:
        raise ApiError(404, "No such file.") from exc
    storage = get_storage()
    if not isinstance(storage, LocalStorage) or not storage.exists(key):
        raise ApiError(404, "No such file.")
    mimetype = "image/jpeg" if key.endswith(".jpg") else "video/mp4"
    response = private(send_file(storage.path(key), mimetype=mimetype, conditional=True, max_age=3600), 3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def private(response: Response, max_age: int) -> Response:
    """Someone's own media: the browser may keep it, a shared cache (a CDN, a proxy) never."""
    response.headers["Cache-Control"] = f"private, max-age={max_age}"
    return response
