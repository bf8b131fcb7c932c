"""The storage's own origins, which a page's policy lets its scripts fetch from: S3's presigned
forms (direct uploads) and URLs (a stream's segments)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response

from app.pages.security import PAGE_POLICY
from app.platform.storage import StorageError, get_storage


def connecting_to(response: Response, origin: str | None) -> Response:
    """The page's policy, letting its scripts fetch from `origin` (the bucket) as well as the site."""
    if origin:
        response.headers["Content-Security-Policy"] = PAGE_POLICY.replace(
            "connect-src 'self'", f"connect-src 'self' {origin}"
        )
    return response


def upload_origin() -> str | None:
    """Where direct uploads go, when the storage takes them: the origin of its presigned forms."""
    storage = get_storage()
    if not hasattr(storage, "presigned_upload"):
        return None
    try:
        url = storage.presigned_upload("uploads/0/origin", 1, 60)["url"]  # signed locally, no request
    except StorageError:
        return None
    return _origin(url)


def read_origin() -> str | None:
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
