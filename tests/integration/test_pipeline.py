"""Upload to `ready` through real processes: gunicorn, worker.py, redis-server and ffmpeg."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.media import format_name, streams
from tests.stack import running_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    settings = {"RENDITIONS": "144,240,360,480", "MAX_UPLOAD_MB": "5"}
    with running_stack(tmp_path_factory.mktemp("stack"), redis_server, free_port(), **settings) as stack:
        yield stack


def download(url: str, folder: Path, name: str) -> Path:
    response = requests.get(url, timeout=30)
    response.raise_for_status()
    path = folder / name
    path.write_bytes(response.content)
    return path


def test_upload_becomes_web_ready_renditions_and_a_poster(stack, alice, clips, tmp_path):
    response = stack.upload(alice, clips("c640x360", width=640, height=360, seconds=2), title="Clip")
    assert response.status_code == 202
    body = stack.wait_final(alice, response.json()["id"])
    assert body["state"] == "ready" and body["status"] == 1.0, body
    assert [(r["name"], r["width"], r["height"]) for r in body["renditions"]] == [
        ("144p", 256, 144), ("240p", 426, 240), ("360p", 640, 360),
    ]  # 480p would be above the source
    for rendition in body["renditions"]:
        path = download(rendition["url"], tmp_path, f"{rendition['name']}.mp4")
        kinds = {s["codec_type"]: s for s in streams(path)}
        assert kinds["video"]["codec_name"] == "h264" and kinds["video"]["height"] == rendition["height"]
        assert kinds["audio"]["codec_name"] == "aac"
        assert "mp4" in format_name(path)
        data = path.read_bytes()
        assert data.index(b"moov") < data.index(b"mdat"), "faststart: the index comes first"
        assert rendition["size"] == len(data)
    poster = download(body["poster_url"], tmp_path, "poster.jpg")
    assert poster.read_bytes()[:3] == b"\xff\xd8\xff"
    assert body["result_uri"] == (stack.storage / "videos" / body["id"] / "360p.mp4").as_uri()
    log = (stack.workdir / "web.log").read_text()
    assert "GET /media/<signed> HTTP/1.1\" 200" in log, "the downloads are in the access log"
    signed = body["poster_url"].rsplit("/media/", 1)[1]
    assert signed not in log, "a download link, a key while it is valid, never reaches the log"


def test_a_small_source_gets_one_rendition_at_its_own_height(stack, alice, clips):
    response = stack.upload(alice, clips("c192x108", width=192, height=108, seconds=1, audio=False))
    body = stack.wait_final(alice, response.json()["id"])
    assert body["state"] == "ready"
    assert [(r["name"], r["height"]) for r in body["renditions"]] == [("108p", 108)]


@pytest.mark.parametrize(
    ("content", "name", "status"),
    [(b"hello, this is text\n" * 100, "notes.mp4", 415), (b"", "empty.mp4", 400)],
)
def test_text_and_empty_files_are_refused_at_upload(stack, alice, tmp_path, content, name, status):
    path = tmp_path / name
    path.write_bytes(content)
    response = stack.upload(alice, path)
    assert response.status_code == status
    assert response.json()["error"]


def test_truncated_mp4_fails_clearly_and_the_worker_goes_on(stack, alice, clips, tmp_path):
    whole = clips("c640x360", width=640, height=360, seconds=2).read_bytes()
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(whole[: len(whole) // 2])
    broken = stack.wait_final(alice, stack.upload(alice, truncated).json()["id"])
    assert broken["state"] == "failed"
    assert "damaged" in broken["error"] and "Traceback" not in broken["error"]
    good_clip = clips("c320x180", width=320, height=180, seconds=1)
    good = stack.wait_final(alice, stack.upload(alice, good_clip).json()["id"])
    assert good["state"] == "ready"


def test_another_users_video_is_not_found(stack, alice, bob, clips):
    video_id = stack.upload(alice, clips("c320x180", width=320, height=180, seconds=1)).json()["id"]
    for method, path in [("get", ""), ("post", "/cancel"), ("delete", "")]:
        response = bob.request(method, f"{stack.url}/api/videos/{video_id}{path}", timeout=10)
        assert response.status_code == 404, (method, path)
    assert video_id not in [v["id"] for v in bob.get(f"{stack.url}/api/videos", timeout=10).json()["videos"]]
    assert stack.wait_final(alice, video_id)["state"] == "ready"


def test_oversize_upload_is_413_and_nothing_is_kept(stack, alice, tmp_path):
    big = tmp_path / "big.mkv"
    big.write_bytes(b"\x1a\x45\xdf\xa3" + os.urandom(6 * 1024 * 1024))
    before = set(os.listdir(stack.storage / ".staging"))
    response = stack.upload(alice, big)
    assert response.status_code == 413
    assert "5 MB" in response.json()["error"]
    assert set(os.listdir(stack.storage / ".staging")) == before


def test_delete_removes_every_file(stack, alice, clips):
    video_id = stack.upload(alice, clips("c320x180", width=320, height=180, seconds=1)).json()["id"]
    body = stack.wait_final(alice, video_id)
    folder = stack.storage / "videos" / video_id
    assert body["state"] == "ready" and folder.is_dir()
    assert alice.delete(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 204
    assert not folder.exists()
    assert alice.get(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 404
    assert requests.get(body["renditions"][0]["url"], timeout=10).status_code == 404


def test_cli_convert_waits_and_prints_the_renditions(stack, clips):
    stack.create_user("carol")
    output = stack.flask("videos", "convert", str(clips("c320x180", width=320, height=180, seconds=1)),
                         "--user", "carol", "--wait")
    assert "ready" in output and "144p\t256x144\tfile://" in output


def test_healthz_reports_ok(stack):
    assert requests.get(f"{stack.url}/healthz", timeout=5).json()["status"] == "ok"


def test_uploads_are_not_buffered_in_memory(stack):
    """The staging folder sits beside storage, so a finished upload is moved, not copied."""
    assert (stack.storage / ".staging").is_dir()
    assert Path(tempfile.gettempdir()) != stack.storage / ".staging"
