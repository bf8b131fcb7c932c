"""File storage behind one interface, chosen by `STORAGE_URL`: a local folder, or an S3-compatible
bucket (`s3://bucket/prefix`) where web and worker dynos share no disk."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Flask, current_app

from app.platform.storage.base import Storage, StorageError, check_key
from app.platform.storage.local import LocalStorage

__all__ = ["LocalStorage", "Storage", "StorageError", "check_key", "from_url", "get_storage", "init_app"]


def from_url(url: str, endpoint_url: str | None = None) -> Storage:
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return LocalStorage(parsed.path if parsed.scheme else url)
    if parsed.scheme == "s3":
        from app.platform.storage.s3 import S3Storage

        if not parsed.netloc:
            raise RuntimeError("STORAGE_URL: s3://bucket/prefix needs a bucket")
        return S3Storage(parsed.netloc, parsed.path, endpoint_url=endpoint_url)
    raise RuntimeError(f"STORAGE_URL: unsupported scheme {parsed.scheme!r} (use file:// or s3://)")


def init_app(app: Flask) -> None:
    app.extensions["storage"] = from_url(app.config["STORAGE_URL"], app.config.get("S3_ENDPOINT_URL"))


def get_storage() -> Storage:
    return current_app.extensions["storage"]
