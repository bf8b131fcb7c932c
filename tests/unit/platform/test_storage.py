"""Local storage: atomic writes, moves without copies, keys that never leave the root; and the choice of
storage from STORAGE_URL."""

from __future__ import annotations

import os
import shutil

import pytest

from app.platform.storage import LocalStorage, check_key, from_url
from app.platform.storage import local as local_module

KEY = "videos/abc/720p.mp4"


@pytest.fixture
def storage(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


def source_file(tmp_path, data: bytes, name: str = "source.bin"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def files_under(folder) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_put_file_publishes_the_whole_file_under_its_key(storage, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 7)  # more than one copy chunk
    assert storage.put_file(KEY, source_file(tmp_path, data)) == len(data)
    assert storage.path(KEY).read_bytes() == data
    assert storage.exists(KEY)
    assert files_under(storage.path("videos/abc")) == ["720p.mp4"]  # no temporary file left beside it


def test_while_put_file_writes_the_key_holds_nothing_or_the_old_file_whole(storage, tmp_path, monkeypatch):
    old, new = b"old rendition" * 1000, b"new rendition" * 100_000
    storage.put_file(KEY, source_file(tmp_path, old, "old.bin"))
    seen = []
    real_copy = shutil.copyfileobj

    def copy_and_look(src, dst, length=0):
        dst.write(src.read(1000))  # part of the new file is written...
        dst.flush()
        seen.append(storage.path(KEY).read_bytes())  # ...what does a reader of the key get now?
        real_copy(src, dst, length)

    monkeypatch.setattr(local_module.shutil, "copyfileobj", copy_and_look)
    storage.put_file(KEY, source_file(tmp_path, new, "new.bin"))
    assert seen == [old]
    assert storage.path(KEY).read_bytes() == new


def test_a_put_file_that_fails_midway_leaves_nothing_behind(storage, tmp_path, monkeypatch):
    def copy_then_fail(src, dst, length=0):
        dst.write(src.read(1000))
        dst.flush()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_module.shutil, "copyfileobj", copy_then_fail)
    with pytest.raises(OSError, match="No space left"):
        storage.put_file(KEY, source_file(tmp_path, b"x" * 100_000))
    assert not storage.exists(KEY)
    assert files_under(storage.root) == []  # no partial file, no temporary one either


def test_save_staged_moves_the_upload_without_copying_it(storage):
    with storage.staging_file() as staged:
        staged.write(b"uploaded bytes" * 1000)
        inode = os.fstat(staged.fileno()).st_ino
        size = storage.save_staged("videos/abc/source", staged)
    target = storage.path("videos/abc/source")
    assert size == len(b"uploaded bytes" * 1000) == target.stat().st_size
    assert target.stat().st_ino == inode  # the same file, renamed: no second copy of a big upload
    assert list(storage.staging.iterdir()) == []


@pytest.mark.parametrize(
    "key",
    [
        "videos/abc/720p.mp4",
        "videos/abc/source",
        "uploads/12/Ab_c-9",
        "videos/a.b/c..d",  # dots inside a name are only dots
    ],
)
def test_keys_made_of_plain_names_are_accepted(key):
    assert check_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "videos/../../etc/passwd",
        "videos/abc/..",
        "..",
        "../x",
        "/etc/passwd",
        "/videos/abc",
        "",
        "videos//abc",
        "videos/abc/",
        "videos/a b",
        "videos/a;b",
        "videos/a\\..\\b",
        "videos/a\x00b",
        "videos/été",
        ".hidden/x",
        "~/x",
    ],
)
def test_keys_that_could_leave_the_root_or_are_odd_are_refused(key):
    with pytest.raises(ValueError, match="invalid storage key"):
        check_key(key)


def test_a_key_ending_in_a_newline_is_refused():
    with pytest.raises(ValueError, match="invalid storage key"):
        check_key("videos/abc/720p.mp4\n")


def test_storage_refuses_to_touch_a_path_outside_its_root(storage, tmp_path):
    outside = source_file(tmp_path, b"precious", "precious.txt")
    with pytest.raises(ValueError):
        storage.put_file("videos/../../precious.txt", source_file(tmp_path, b"overwritten", "evil.bin"))
    with pytest.raises(ValueError):
        storage.delete("../precious.txt")
    with pytest.raises(ValueError):
        storage.delete_prefix("../")
    assert outside.read_bytes() == b"precious"


def test_delete_prefix_removes_one_videos_folder_and_nothing_else(storage, tmp_path):
    source = source_file(tmp_path, b"bytes")
    for key in (
        "videos/abc/source",
        "videos/abc/720p.mp4",
        "videos/abc/poster.jpg",
        "videos/abcd/source",
        "videos/other/source",
    ):
        storage.put_file(key, source)
    storage.delete_prefix("videos/abc/")
    assert files_under(storage.root) == ["videos/abcd/source", "videos/other/source"]
    storage.delete_prefix("videos/gone/")  # a video with no files left: nothing to do, no error
    assert files_under(storage.root) == ["videos/abcd/source", "videos/other/source"]


def test_deleting_a_videos_last_files_leaves_no_empty_folder_behind(storage, tmp_path):
    source = source_file(tmp_path, b"bytes")
    storage.put_file("videos/abc/stream/144p/seg_00001.m4s", source)
    storage.put_file("videos/abd/source", source)
    storage.delete_prefix("videos/abc/stream/")
    assert not (storage.root / "videos" / "abc").exists(), "an empty folder is no video's"
    assert (storage.root / "videos").is_dir() and files_under(storage.root) == ["videos/abd/source"]


def test_local_copy_gives_the_stored_bytes_and_a_missing_key_is_file_not_found(storage, tmp_path):
    storage.put_file(KEY, source_file(tmp_path, b"stored"))
    with storage.local_copy(KEY, tmp_path / "work") as path:
        assert path.read_bytes() == b"stored"
    with pytest.raises(FileNotFoundError), storage.local_copy("videos/abc/missing.mp4", tmp_path / "work"):
        pass


def test_delete_of_one_key_keeps_its_neighbours(storage, tmp_path):
    source = source_file(tmp_path, b"bytes")
    storage.put_file("videos/abc/source", source)
    storage.put_file(KEY, source)
    storage.delete(KEY)
    storage.delete(KEY)  # twice: no error
    assert not storage.exists(KEY) and storage.exists("videos/abc/source")


@pytest.mark.parametrize("url", ["file://{root}", "{root}"])
def test_a_file_url_or_a_bare_path_is_local_storage(tmp_path, url):
    root = tmp_path / "files"
    storage = from_url(url.format(root=root))
    assert isinstance(storage, LocalStorage)
    assert storage.root == root.resolve()
    assert storage.uri(KEY) == (root / KEY).resolve().as_uri()


def test_an_s3_url_is_s3_storage_on_its_bucket_and_prefix(monkeypatch):
    from app.platform.storage.s3 import S3Storage

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    storage = from_url("s3://my-bucket/conveyor/prod/", endpoint_url="http://127.0.0.1:9")
    assert isinstance(storage, S3Storage)
    assert storage.uri(KEY) == f"s3://my-bucket/conveyor/prod/{KEY}"
    assert storage.client.meta.endpoint_url == "http://127.0.0.1:9"
    assert from_url("s3://my-bucket").uri(KEY) == f"s3://my-bucket/{KEY}"


def test_presigned_downloads_ask_the_bucket_for_private_caching(monkeypatch):
    from urllib.parse import parse_qs, urlsplit

    settings = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "t"}
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    url = from_url("s3://my-bucket/p", endpoint_url="http://127.0.0.1:9").public_url(KEY, 60)
    assert parse_qs(urlsplit(url).query)["response-cache-control"] == ["private, max-age=3600"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("s3:///prefix", "needs a bucket"),
        ("s3://", "needs a bucket"),
        ("ftp://host/files", "unsupported scheme 'ftp'"),
        ("gs://bucket/prefix", "unsupported scheme 'gs'"),
    ],
)
def test_an_unusable_storage_url_is_refused_naming_the_setting(url, says):
    with pytest.raises(RuntimeError, match="STORAGE_URL") as refused:
        from_url(url)
    assert says in str(refused.value)
