"""S3 storage against an S3-compatible server on loopback; web and worker share no folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port
from tests.hlsclient import complete, hls_client
from tests.media import format_of, streams
from tests.s3server import CREDENTIALS, s3_bucket
from tests.stack import Stack

pytestmark = pytest.mark.integration

BUCKET = "conveyor-media"


@pytest.fixture(scope="module")
def s3_server():
    with s3_bucket(BUCKET) as server:
        yield server


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server, s3_server):
    """Web and worker each in a folder of its own, as on two dynos; only the bucket is shared."""
    redis_server.client().flushdb()
    endpoint, _ = s3_server
    root = tmp_path_factory.mktemp("s3stack")
    web_dir, worker_dir, db_dir = (root / "web", root / "worker", root / "db")
    for folder in (web_dir / "tmp", worker_dir / "tmp", db_dir):
        folder.mkdir(parents=True)
    stack = Stack(
        web_dir, redis_server.url, free_port(),
        STORAGE_URL=f"s3://{BUCKET}/media", S3_ENDPOINT_URL=endpoint, TMPDIR=str(web_dir / "tmp"),
        DATABASE_URL=f"sqlite:///{db_dir / 'conveyor.db'}", CHUNK_THRESHOLD_SECONDS="10", CHUNK_SECONDS="12",
        **CREDENTIALS,
    )
    stack.migrate()
    stack.start_web()
    stack.start_worker(INSTANCE_PATH=str(worker_dir / "instance"), TMPDIR=str(worker_dir / "tmp"))
    stack.worker_tmp = worker_dir / "tmp"
    stack.web_tmp = web_dir / "tmp"
    yield stack
    stack.stop()


def keys(client, prefix: str = "") -> list[str]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def check_playable(url: str, folder: Path, height: int) -> None:
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    path = folder / "out.mp4"
    path.write_bytes(response.content)
    video = next(s for s in streams(path) if s["codec_type"] == "video")
    assert video["codec_name"] == "h264" and video["height"] == height


def test_upload_convert_and_download_through_the_bucket(stack, s3_server, clips, tmp_path):
    _, client = s3_server
    alice = stack.create_user("alice")
    clip = clips("c320x240", width=320, height=240, seconds=1)
    body = stack.wait_final(alice, stack.upload(alice, clip).json()["id"])
    assert body["state"] == "ready", body
    assert body["result_uri"] == f"s3://{BUCKET}/media/videos/{body['id']}/240p.mp4"
    stored = keys(client, f"media/videos/{body['id']}/")
    assert [key for key in stored if "/stream/" not in key] == [
        f"media/videos/{body['id']}/{name}" for name in ("144p.mp4", "240p.mp4", "poster.jpg", "source")
    ]
    assert f"media/videos/{body['id']}/stream/master.m3u8" in stored
    for rendition in body["renditions"]:
        assert rendition["url"].startswith(s3_server[0])  # presigned: served by the bucket, not the web
        check_playable(rendition["url"], tmp_path, rendition["height"])
    assert requests.get(body["poster_url"], timeout=10).content[:3] == b"\xff\xd8\xff"
    assert os.listdir(stack.worker_tmp) == [], "the worker keeps no files after a job"
    assert os.listdir(stack.web_tmp) == [], "the web keeps no upload after storing it"


def test_direct_upload_goes_straight_to_the_bucket(stack, s3_server, clips, tmp_path):
    _, client = s3_server
    bob = stack.create_user("bob")
    grant = bob.post(f"{stack.url}/api/uploads", timeout=10)
    assert grant.status_code == 201
    form = grant.json()
    clip = clips("c320x240", width=320, height=240, seconds=1)
    with clip.open("rb") as handle:
        sent = requests.post(form["url"], data=form["fields"], files={"file": ("c.mp4", handle)}, timeout=30)
    assert sent.status_code in (200, 201, 204), sent.text
    created = bob.post(f"{stack.url}/api/videos", json={"upload_key": form["upload_key"], "title": "direct"},
                       timeout=10)
    assert created.status_code == 202, created.text
    body = stack.wait_final(bob, created.json()["id"])
    assert body["state"] == "ready" and body["title"] == "direct"
    check_playable(body["renditions"][-1]["url"], tmp_path, 240)
    assert keys(client, "media/uploads/") == [], "the upload was moved under the video"


def test_someone_elses_upload_key_is_refused(stack):
    carol, dave = stack.create_user("carol"), stack.create_user("dave")
    key = carol.post(f"{stack.url}/api/uploads", timeout=10).json()["upload_key"]
    response = dave.post(f"{stack.url}/api/videos", json={"upload_key": key}, timeout=10)
    assert response.status_code == 400 and "not an upload of yours" in response.json()["error"]
    missing = carol.post(f"{stack.url}/api/videos", json={"upload_key": key}, timeout=10)
    assert missing.status_code == 400 and "Nothing was uploaded" in missing.json()["error"]


def test_the_stream_plays_from_the_bucket_with_presigned_segments(stack, s3_server, clips, tmp_path):
    endpoint, _ = s3_server
    frank = stack.create_user("frank")
    clip = clips("s320x240", width=320, height=240, seconds=5)
    body = stack.wait_final(frank, stack.upload(frank, clip).json()["id"])
    assert body["playable"] and body["playback_url"].startswith(stack.url + "/stream/")  # playlists: the app
    playlist = requests.get(body["playback_url"].replace("master.m3u8", "240p/index.m3u8"), timeout=10).text
    named = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    assert named and all(uri.startswith(endpoint) and "X-Amz-Signature=" in uri for uri in named)
    assert f'URI="{endpoint}' in playlist, "the init segment from the bucket too"
    assert all(requests.get(uri, timeout=10).status_code == 200 for uri in named)
    cues = requests.get(body["storyboard_url"], timeout=10).text
    sheet = cues.split("\n")[3].split("#xywh=")[0]
    assert sheet.startswith(endpoint) and requests.get(sheet, timeout=10).content[:3] == b"\xff\xd8\xff"
    copied = tmp_path / "copied.mp4"  # ffmpeg as an HLS client: what VLC and the rest do
    hls_client(body["playback_url"], copied)
    assert float(format_of(copied)["duration"]) == pytest.approx(5, abs=0.15)
    playlists = set(complete(body["playback_url"], body["duration"]))
    assert playlists == {"144p/index.m3u8", "240p/index.m3u8", "audio/index.m3u8"}


def test_a_long_video_is_chunked_through_the_bucket(stack, s3_server, clips, tmp_path):
    """Three chunks (the clips of the other tests are under the 10 s threshold): each chunk's worker reads
    the source from the bucket, the finish reads every segment back; nothing of the work is left."""
    _, client = s3_server
    grace = stack.create_user("grace")
    clip = clips("long320", width=320, height=240, seconds=30)
    body = stack.wait_final(grace, stack.upload(grace, clip).json()["id"])
    assert body["state"] == "ready", body
    assert set(complete(body["playback_url"], 30)) == {"144p/index.m3u8", "240p/index.m3u8", "audio/index.m3u8"}
    assert [i["kind"] for i in stack.work_items(body["id"])] == ["chunk", "chunk", "chunk", "audio", "finish"]
    check_playable(body["renditions"][-1]["url"], tmp_path, 240)
    video = next(s for s in streams(tmp_path / "out.mp4") if s["codec_type"] == "video")
    assert float(video["duration"]) == pytest.approx(30, abs=0.05)
    assert keys(client, f"media/videos/{body['id']}/work/") == []
    # the worker kept the sources it read, once each, and nothing else: no job left a file behind
    assert [p.name for p in stack.worker_tmp.iterdir()] == ["conveyor-sources"]
    cached = [p.stat().st_size for p in (stack.worker_tmp / "conveyor-sources").iterdir() if p.suffix == ""]
    assert cached.count(clip.stat().st_size) == 1


def test_delete_removes_the_objects(stack, s3_server, clips):
    _, client = s3_server
    erin = stack.create_user("erin")
    video_id = stack.upload(erin, clips("c320x240", width=320, height=240, seconds=1)).json()["id"]
    assert stack.wait_final(erin, video_id)["state"] == "ready"
    assert erin.delete(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 204
    assert keys(client, f"media/videos/{video_id}/") == [], "the stream's segments too"
