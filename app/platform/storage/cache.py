"""A worker dyno's copies of the sources it reads: a long video's chunks (and its audio) each read
the source, and on S3 each would download all of it again. The first download on a dyno is kept in a folder of
whole files, bounded by SOURCE_CACHE_MB (least recently used first out); the worker processes of
the dyno share it, and a file several of them ask for at once is downloaded once.

Written here rather than taken from a caching library: what is needed is whole local files that
ffmpeg opens by path, handed to several processes. Caching libraries (diskcache, cachetools) keep
values in a database or in memory. This is a lock file per entry (`fcntl.flock`), a hard link into
the job's own folder (so evicting an entry never pulls a file from under a running ffmpeg), and a
sweep by modification time.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app

from app.platform.storage import get_storage
from app.platform.storage.local import LocalStorage

log = logging.getLogger(__name__)

FOLDER = "conveyor-sources"


class SourceCache:
    def __init__(self, root: Path, budget_bytes: int):
        self.root = root
        self.budget = budget_bytes

    @contextmanager
    def copy(self, storage, key: str, workdir: Path) -> Iterator[Path]:
        """The object's bytes at a path of `workdir`, from the cache (downloaded into it when missing)."""
        self.root.mkdir(parents=True, exist_ok=True)
        entry = self.root / hashlib.sha256(key.encode()).hexdigest()
        target = workdir / Path(key).name
        with _locked(entry.with_suffix(".lock")):
            if not entry.is_file():
                partial = entry.with_suffix(".part")
                storage.get_file(key, partial)
                os.replace(partial, entry)
            _link_or_copy(entry, target)
            os.utime(entry)  # the most recently used
        self.evict(keep=entry)
        try:
            yield target
        finally:
            target.unlink(missing_ok=True)

    def evict(self, keep: Path | None = None) -> None:
        """Remove the least recently used entries until the folder is within its budget."""
        with _locked(self.root / ".evict.lock"):
            entries = [p for p in self.root.iterdir() if p.suffix == "" and p.is_file()]
            entries.sort(key=lambda p: p.stat().st_mtime)
            total = sum(p.stat().st_size for p in entries)
            for entry in entries:
                if total <= self.budget:
                    break
                if entry == keep:
                    continue
                total -= entry.stat().st_size
                entry.unlink(missing_ok=True)


@contextmanager
def source_copy(key: str, workdir: Path) -> Iterator[Path]:
    """A local copy of a stored source for one job: the stored file itself on local storage; on S3, from
    this dyno's cache when SOURCE_CACHE_MB allows it, else a download of its own."""
    storage = get_storage()
    budget = current_app.config["SOURCE_CACHE_MB"] * 1024 * 1024
    if isinstance(storage, LocalStorage) or budget <= 0:
        with storage.local_copy(key, workdir) as path:
            yield path
        return
    with SourceCache(Path(tempfile.gettempdir()) / FOLDER, budget).copy(storage, key, workdir) as path:
        yield path


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another filesystem: a copy of its own
        shutil.copyfile(source, target)
