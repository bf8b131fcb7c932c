"""A worker dyno's cache of sources: one download per source however many jobs read it, bounded in
size, the least recently used out first, never pulled from under a job that has it."""

from __future__ import annotations

import threading
from pathlib import Path

from app.platform.storage.cache import SourceCache


class Bucket:
    """Storage as the cache sees it: objects to download, and a count of the downloads."""

    def __init__(self, objects: dict[str, bytes]):
        self.objects = objects
        self.downloads: list[str] = []

    def get_file(self, key: str, target: Path) -> Path:
        self.downloads.append(key)
        target.write_bytes(self.objects[key])
        return target


def test_a_source_is_downloaded_once_for_every_job_that_reads_it(tmp_path):
    bucket = Bucket({"videos/a/source": b"a" * 1000})
    cache = SourceCache(tmp_path / "cache", budget_bytes=10_000)
    seen = []

    def job(number: int) -> None:
        work = tmp_path / f"job{number}"
        work.mkdir()
        with cache.copy(bucket, "videos/a/source", work) as path:
            seen.append(path.read_bytes())
        assert not path.exists(), "the job's own link is gone with the job"

    threads = [threading.Thread(target=job, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert bucket.downloads == ["videos/a/source"] and seen == [b"a" * 1000] * 4


def test_the_least_recently_used_go_first_and_a_copy_in_use_survives(tmp_path):
    bucket = Bucket({f"videos/{name}/source": name.encode() * 400 for name in "abc"})
    cache = SourceCache(tmp_path / "cache", budget_bytes=1000)  # room for two of the three
    work = tmp_path / "work"
    work.mkdir()
    for name in "ab":
        with cache.copy(bucket, f"videos/{name}/source", work):
            pass
    with cache.copy(bucket, "videos/a/source", work):  # a is used again: b is now the oldest
        pass
    with cache.copy(bucket, "videos/c/source", work) as path:
        with cache.copy(bucket, "videos/a/source", tmp_path):
            pass
        assert path.read_bytes() == b"c" * 400
    assert bucket.downloads == ["videos/a/source", "videos/b/source", "videos/c/source"]
    with cache.copy(bucket, "videos/b/source", work):
        pass
    assert bucket.downloads[-1] == "videos/b/source", "b was evicted, so it came again"
    kept = sum(p.stat().st_size for p in (tmp_path / "cache").iterdir() if p.suffix == "")
    assert kept <= 1000


def test_an_evicted_source_stays_readable_by_the_job_that_has_it(tmp_path):
    bucket = Bucket({f"videos/{name}/source": name.encode() * 800 for name in "ab"})
    cache = SourceCache(tmp_path / "cache", budget_bytes=1000)  # room for one
    work = tmp_path / "work"
    work.mkdir()
    with cache.copy(bucket, "videos/a/source", work) as path:
        with cache.copy(bucket, "videos/b/source", tmp_path):
            pass
        entries = [p for p in (tmp_path / "cache").iterdir() if p.suffix == ""]
        assert len(entries) == 1, "a was evicted for b"
        assert path.read_bytes() == b"a" * 800, "but the job reading it still has all of it"
