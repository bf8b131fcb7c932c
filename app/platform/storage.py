"""File storage behind one interface: a local folder now, an S3-compatible bucket later.

Keys look like `videos/<id>/720p.mp4`. Writes are atomic: a file appears under its key
whole, or not at all.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from flask import Flask, current_app

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


class StorageError(Exception):
    """A storage operation failed; it may work when tried again."""


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key.split("/"):
        raise ValueError(f"invalid storage key: {key!r}")
    return key


class Storage(ABC):
    @abstractmethod
    def staging_file(self) -> IO[bytes]:
        """A named temporary file to receive an upload before it is saved under a key."""

    @abstractmethod
    def save_staged(self, key: str, staged: IO[bytes]) -> int:
        """Move a staged upload under `key`; returns its size."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> int:
        """Publish a local file under `key`, atomically; returns its size."""

    @abstractmethod
    @contextmanager
    def local_copy(self, key: str, workdir: Path) -> Iterator[Path]:
        """A local path holding the object's bytes, for as long as the block runs."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None: ...

    @abstractmethod
    def uri(self, key: str) -> str:
        """Where the object lives: `file:///...` or `s3://bucket/...`."""

    def public_url(self, key: str, ttl: int) -> str | None:
        """A URL that serves the object without going through the app, if the backend has one."""
        return None


class LocalStorage(Storage):
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.staging = self.root / ".staging"
        self.staging.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def staging_file(self) -> IO[bytes]:
        return tempfile.NamedTemporaryFile(dir=self.staging, prefix="upload-", delete=False)

    def save_staged(self, key: str, staged: IO[bytes]) -> int:
        staged.flush()
        os.fsync(staged.fileno())
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.name, target)  # same filesystem: no copy
        return target.stat().st_size

    def put_file(self, key: str, path: Path) -> int:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
                shutil.copyfileobj(src, out, 1024 * 1024)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target.stat().st_size

    @contextmanager
    def local_copy(self, key: str, workdir: Path) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no stored file {key}")
        yield path

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        folder = self.path(prefix.rstrip("/"))
        shutil.rmtree(folder, ignore_errors=True)

    def uri(self, key: str) -> str:
        return self.path(key).as_uri()


def from_url(url: str, endpoint_url: str | None = None) -> Storage:
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return LocalStorage(parsed.path if parsed.scheme else url)
    if parsed.scheme == "s3":
        from app.platform.s3 import S3Storage

        if not parsed.netloc:
            raise RuntimeError("STORAGE_URL: s3://bucket/prefix needs a bucket")
        return S3Storage(parsed.netloc, parsed.path, endpoint_url=endpoint_url)
    raise RuntimeError(f"STORAGE_URL: unsupported scheme {parsed.scheme!r} (use file:// or s3://)")


def init_app(app: Flask) -> None:
    app.extensions["storage"] = from_url(app.config["STORAGE_URL"], app.config.get("S3_ENDPOINT_URL"))


def get_storage() -> Storage:
    return current_app.extensions["storage"]
