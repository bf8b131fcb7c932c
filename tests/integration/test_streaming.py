"""The HLS stream as a player sees it, through real processes: gunicorn, worker.py, redis-server, ffmpeg.

No cookie and no token goes with any stream request here: the playback URL alone must do.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest

from media import playlists
from media.binaries import find
from tests import blocked
from tests.conftest import free_port
from tests.hlsclient import get, hls_client, master_entries
from tests.media import format_of, streams
from tests.stack import running_stack
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

SECONDS = 9  # three segments: 4 + 4 + 1


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_server):
    # a slower preset, so a conversion lasts long enough to watch its playlists grow
    settings = {"RENDITIONS": "144,240,360", "X264_PRESET": "medium"}
    with running_stack(tmp_path_factory.mktemp("stack"), redis_server, free_port(), **settings) as stack:
        yield stack


def gone(path: Path, within: float = 2.0) -> bool:
    """Whether `path` is gone within a moment: files go just after the state changes."""
    return wait_until(lambda: not path.exists(), within, f"{path.name} to go")


def keyframe_times(init: bytes, segments: list[bytes], folder: Path, name: str) -> list[float]:
    """Presentation times of the key frames of a rung, from its init segment and segments joined."""
    joined = folder / f"{name}.mp4"
    joined.write_bytes(init + b"".join(segments))
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags",
         "-of", "json", str(joined)],
        capture_output=True, check=True,
    )
    return [round(float(p["pts_time"]), 3) for p in json.loads(done.stdout)["packets"] if "K" in p["flags"]]


def first_packet_is_key(init: bytes, segment: bytes, folder: Path, name: str) -> bool:
    joined = folder / f"{name}.first.mp4"
    joined.write_bytes(init + segment)
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
         "-show_entries", "packet=flags", "-of", "csv=p=0", str(joined)],
        capture_output=True, check=True, text=True,
    )
    return done.stdout.strip().startswith("K")


def test_a_ready_video_streams_every_rung_from_its_playback_url_alone(stack, alice, clips, tmp_path):
    clip = clips("stream640", width=640, height=360, seconds=SECONDS)
    video_id = stack.upload(alice, clip, title="Stream").json()["id"]
    body = stack.wait_final(alice, video_id, timeout=180)
    assert body["state"] == "ready" and body["playable"] is True, body
    master = get(body["playback_url"])
    assert master.status_code == 200 and master.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    variants, media = master_entries(master.text)
    assert [v["RESOLUTION"] for v in variants] == ["256x144", "426x240", "640x360"]
    for variant in variants:
        assert int(variant["BANDWIDTH"]) >= int(variant["AVERAGE-BANDWIDTH"]) > 0
        assert variant["CODECS"].startswith("avc1.") and variant["CODECS"].endswith(",mp4a.40.2")
        assert float(variant["FRAME-RATE"]) == pytest.approx(25, abs=0.01)
        assert variant["AUDIO"] == media[0]["GROUP-ID"]
    assert len(media) == 1 and media[0]["TYPE"] == "AUDIO"

    keyframes = {}
    for entry in [*variants, media[0]]:
        playlist_url = urljoin(body["playback_url"], entry["URI"])
        text = get(playlist_url).text
        assert playlists.is_final(text) and "#EXT-X-PLAYLIST-TYPE:VOD" in text
        listed = playlists.segments(text)
        assert sum(duration for _, duration in listed) == pytest.approx(body["duration"], abs=0.05)
        assert [round(d, 1) for _, d in listed[:-1]] == [4.0] * (len(listed) - 1), "segments of about 4 s"
        init = get(urljoin(playlist_url, playlists.init_segment_uri(text)))
        assert init.status_code == 200
        parts = [get(urljoin(playlist_url, uri)) for uri, _ in listed]
        assert all(part.status_code == 200 and part.headers["Content-Type"] == "video/iso.segment" for part in parts)
        if entry.get("RESOLUTION"):
            name = entry["RESOLUTION"]
            keyframes[name] = keyframe_times(init.content, [p.content for p in parts], tmp_path, name)
            assert all(first_packet_is_key(init.content, p.content, tmp_path, name) for p in parts)
    # IDRs every 2 s, at the same instants on every rung (the first one a B-frame delay in, as the
    # encoder stamps it; the edit list in the init segment shows it at 0)
    first = keyframes["256x144"][0]
    assert first < 0.2
    expected = [round(first + t, 3) for t in range(0, SECONDS, 2)]
    assert all(times == expected for times in keyframes.values()), keyframes

    copied = hls_client(body["playback_url"], tmp_path / "copied.mp4")  # what VLC and the rest do
    # the video's first picture is stamped a B-frame delay (80 ms) in: the copy's container is that longer
    assert float(format_of(copied)["duration"]) == pytest.approx(SECONDS, abs=0.15)
    assert {s["codec_type"]: s["height"] if s["codec_type"] == "video" else 0 for s in streams(copied)} == {
        "video": 360, "audio": 0
    }

    log = (stack.workdir / "web.log").read_text()
    assert 'GET /stream/<signed>/360p/index.m3u8 HTTP/1.1" 200' in log, "the stream's requests are logged"
    assert body["playback_url"].split("/stream/")[1].split("/")[0] not in log, "its token never is"

    cues = get(body["storyboard_url"])
    assert cues.status_code == 200 and cues.text.startswith("WEBVTT")
    sheet = cues.text.split("\n")[3].split("#xywh=")[0]
    assert get(urljoin(body["storyboard_url"], sheet)).content[:3] == b"\xff\xd8\xff"


def test_the_playlists_grow_while_processing_and_are_final_at_ready(stack, alice, clips):
    clip = clips("stream640x360-long", width=640, height=360, seconds=24)
    video_id = stack.upload(alice, clip, title="Growing").json()["id"]
    deadline, body = time.monotonic() + 120, {}
    while time.monotonic() < deadline:
        body = stack.video(alice, video_id)
        if body["playable"] or body["state"] not in ("queued", "processing"):
            break
        time.sleep(0.05)
    assert body["playable"] and body["state"] == "processing", "watchable before it is ready"
    assert get(body["poster_url"]).content[:3] == b"\xff\xd8\xff", "with its poster"
    playlist = urljoin(body["playback_url"], "360p/index.m3u8")
    seen = []
    while True:
        state = stack.video(alice, video_id)["state"]
        text = get(playlist).text
        if state != "processing" or playlists.is_final(text):
            break
        seen.append([uri for uri, _ in playlists.segments(text)])
        time.sleep(0.1)
    # final only as the video turns ready: the last step before the move (a few ms apart)
    assert stack.wait_final(alice, video_id, timeout=5)["state"] == "ready"
    final = get(playlist).text
    assert playlists.is_final(final) and "#EXT-X-PLAYLIST-TYPE:VOD" in final
    names = [uri for uri, _ in playlists.segments(final)]
    counts = [len(listed) for listed in seen]
    assert counts == sorted(counts) and counts[0] >= 1, "it only grows"
    assert len(set(counts)) >= 2, f"seen growing while processing: {counts}"
    assert all(listed == names[: len(listed)] for listed in seen), "each a prefix of the final"
    assert len(names) == 6


def test_another_users_stream_and_forged_tokens_are_refused(stack, alice, bob, clips):
    clip = clips("stream-private", width=320, height=180, seconds=2)
    video_id = stack.upload(alice, clip).json()["id"]
    body = stack.wait_final(alice, video_id)
    assert bob.get(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 404
    token = body["playback_url"].split("/stream/", 1)[1].split("/", 1)[0]
    bobs = bob.get(f"{stack.url}/api/videos", timeout=10).json()["videos"]
    assert all(video["id"] != video_id for video in bobs)
    assert get(f"{stack.url}/stream/{token[:-2]}xx/master.m3u8").status_code == 404
    assert get(f"{stack.url}/stream/{token}/../source").status_code == 404
    assert get(f"{stack.url}/stream/{token}/144p/../../source").status_code == 404
    download = body["renditions"][0]["url"].rsplit("/media/", 1)[1]  # signed for another purpose
    assert get(f"{stack.url}/stream/{download}/master.m3u8").status_code == 404


def test_delete_and_cancel_leave_no_segment_behind(stack, alice, clips):
    clip = clips("stream640x360-long", width=640, height=360, seconds=24)
    for action in ("cancel", "delete"):
        video_id = stack.upload(alice, clip).json()["id"]
        deadline, body = time.monotonic() + 120, {}
        while time.monotonic() < deadline and not body.get("playable"):
            body = stack.video(alice, video_id)
            time.sleep(0.05)
        assert body["playable"] and body["state"] == "processing"
        if action == "cancel":
            assert alice.post(f"{stack.url}/api/videos/{video_id}/cancel", timeout=10).status_code == 202
            assert stack.wait_final(alice, video_id)["state"] == "cancelled"
        else:
            assert alice.delete(f"{stack.url}/api/videos/{video_id}", timeout=10).status_code == 204
        folder = stack.storage / "videos" / video_id
        assert gone(folder / "stream"), f"{action}: the stream is gone"
        assert get(body["playback_url"]).status_code == 404
        if action == "delete":
            assert not folder.exists()


def test_a_match_late_in_the_video_shows_only_checked_segments_then_takes_all_back(stack, alice, tmp_path):
    """12 s of test pattern, then 2 s of a blocklisted picture, then 12 s of bars. The stream is
    watchable early; no published playlist ever names a segment from the picture on; at the match it
    all goes. (Last in the module: with a listed hash every later upload here is checked.)"""
    picture = blocked.make_picture(tmp_path / "picture.png")
    clip = blocked.make_clip(tmp_path / "late.mp4", picture, seconds=12)
    assert stack.flask("blocklist", "add", str(picture)).startswith("added blocklist entry")
    video_id = stack.upload(alice, clip).json()["id"]
    published_until, body = 0.0, stack.video(alice, video_id)
    while body["state"] in ("queued", "processing"):
        if body["playable"]:
            for rung in ("144p", "240p", "360p", "audio"):
                response = get(urljoin(body["playback_url"], f"{rung}/index.m3u8"))
                if response.status_code == 200:
                    published_until = max(published_until, sum(d for _, d in playlists.segments(response.text)))
        time.sleep(0.05)
        body = stack.video(alice, video_id)
    assert body["state"] == "rejected" and body["playable"] is False and body["playback_url"] is None
    assert body["poster_url"] is None
    assert 0 < published_until <= 12.0, "watchable before the match, and nothing from the picture on"
    assert gone(stack.storage / "videos" / video_id / "stream"), "taken back as it ends rejected"
    assert [p.name for p in (stack.storage / "videos" / video_id).iterdir()] == ["source"]
