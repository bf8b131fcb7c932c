"""What every storage does: keys like `videos/<id>/720p.mp4`, atomic writes (a file appears under its
key whole, or not at all), signed public URLs where the backend has them."""

from __future__ import annotations

import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


class StorageError(Exception):
    """A storage operation failed; it may work when tried again."""


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key) or ".." in key.split("/"):
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

    def put_text(self, key: str, text: str) -> int:
        """Publish a small text (a playlist) under `key`, atomically, as put_file does a file."""
        with tempfile.TemporaryDirectory(prefix="conveyor-") as folder:
            path = Path(folder) / "text"
            path.write_text(text, encoding="utf-8")
            return self.put_file(key, path)

    @abstractmethod
    def get_file(self, key: str, target: Path) -> Path:
        """Write the object's bytes to the local file `target`; FileNotFoundError when there is none."""

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """A small object's bytes (a playlist); FileNotFoundError when there is none."""

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
