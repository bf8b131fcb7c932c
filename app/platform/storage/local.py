"""A folder on this machine's disk: `STORAGE_URL=file:///path` (the default, under the instance folder)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from app.platform.storage.base import Storage, check_key


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

    def get_file(self, key: str, target: Path) -> Path:
        shutil.copyfile(self.path(key), target)
        return target

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        folder = self.path(prefix.rstrip("/"))
        shutil.rmtree(folder, ignore_errors=True)
        for parent in folder.parents:  # folders left empty go too, as a bucket has none
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break  # not empty (or gone): what is above it holds something else

    def uri(self, key: str) -> str:
        return self.path(key).as_uri()
