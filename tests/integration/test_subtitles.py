"""Subtitles and captions through real processes (gunicorn, worker.py, redis-server, ffmpeg): the text
tracks of an upload served as WebVTT and named by the master playlist, a bitmap track noted, caption
files added to a ready video (in its master at once) and bad ones refused, saying what is wrong.

Every stream request goes without cookie or token: the signed URLs alone must do.
"""

from __future__ import annotations

import json
import subprocess
from urllib.parse import urljoin

import pytest

from media.binaries import find
from tests import subtitled
from tests.hlsclient import get, master_entries

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("subtitled")
    return {
        "mp4": subtitled.mp4_with_mov_text(folder / "movtext.mp4"),
        "mkv": subtitled.mkv_with_ass_and_srt(folder / "assrt.mkv"),
        "ts": subtitled.ts_with_dvb(folder / "dvb.ts"),
    }


def ready(stack, alice, path) -> dict:
    made = stack.upload(alice, path)
    assert made.status_code == 202, made.text
    video = stack.wait_final(alice, made.json()["id"])
    assert video["state"] == "ready", video
    return video


def subtitle_media(video: dict) -> tuple[list[dict], list[dict]]:
    response = get(video["playback_url"])
    assert response.status_code == 200
    variants, media = master_entries(response.text)
    return variants, [m for m in media if m["TYPE"] == "SUBTITLES"]


def cue_times(vtt_url: str) -> list[tuple[str, str]]:
    """(timing line, text) of each cue of a WebVTT file fetched from its URL."""
    response = get(vtt_url)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/vtt")
    blocks = response.text.split("\n\n")
    assert blocks[0] == "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000"
    return [tuple(block.split("\n", 1)) for block in blocks[1:] if block.strip()]


def via_playlist(master_url: str, entry: dict) -> str:
    """The WebVTT URL a player reaches from the master's entry: its media playlist's one segment."""
    playlist_url = urljoin(master_url, entry["URI"])
    playlist = get(playlist_url)
    assert playlist.status_code == 200
    lines = playlist.text.splitlines()
    assert "#EXT-X-ENDLIST" in lines and "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    (segment,) = [line for line in lines if line and not line.startswith("#")]
    return urljoin(playlist_url, segment)


def test_mov_text_tracks_are_served_as_webvtt_and_named_by_the_master(stack, alice, clips):
    video = ready(stack, alice, clips["mp4"])
    variants, media = subtitle_media(video)
    assert [(m["LANGUAGE"], m["NAME"], m["GROUP-ID"], m["DEFAULT"]) for m in media] == [
        ("en", "en", "subs", "NO"), ("fr", "fr", "subs", "NO")
    ]
    assert variants and all(v["SUBTITLES"] == "subs" for v in variants)
    english = via_playlist(video["playback_url"], media[0])
    assert cue_times(english) == [
        ("00:00:00.200 --> 00:00:00.900", "Hello <i>there</i>"), ("00:00:01.000 --> 00:00:01.800", "Second line")
    ]
    assert cue_times(via_playlist(video["playback_url"], media[1])) == [
        ("00:00:00.300 --> 00:00:01.200", "Bonjour &amp; <b>salut</b>")
    ]
    assert [c["language"] for c in video["captions"]] == ["en", "fr"]
    assert cue_times(video["captions"][0]["url"]) == cue_times(english)
    assert video["notes"] == []


def test_ass_and_srt_from_matroska_and_an_hls_client_sees_the_subtitle_streams(stack, alice, clips):
    video = ready(stack, alice, clips["mkv"])
    _, media = subtitle_media(video)
    assert [(m["LANGUAGE"], m["NAME"]) for m in media] == [("de", "de"), ("en", "English SDH")]
    assert cue_times(via_playlist(video["playback_url"], media[0])) == [("00:00:00.400 --> 00:00:01.500", "Guten Tag")]
    probed = subprocess.run(
        [find("ffprobe"), "-v", "error", "-show_entries", "stream=codec_type,codec_name:stream_tags=language",
         "-of", "json", video["playback_url"]],
        capture_output=True, check=True, timeout=60,
    )
    found = [s for s in json.loads(probed.stdout)["streams"] if s["codec_type"] == "subtitle"]
    assert {(s["codec_name"], s.get("tags", {}).get("language")) for s in found} >= {("webvtt", "de"), ("webvtt", "en")}


def test_a_dvb_bitmap_track_gives_a_note_not_a_failure(stack, alice, clips):
    video = ready(stack, alice, clips["ts"])
    (note,) = video["notes"]
    assert "DVB subtitle track #2 (language sv) was left out" in note and "pictures, not text" in note
    assert video["captions"] == []
    assert subtitle_media(video)[1] == []


def test_captions_added_to_a_ready_video_are_in_its_master_at_once_and_bad_files_are_refused(stack, alice, clips):
    video = ready(stack, alice, clips["ts"])
    url = f"{stack.url}/api/videos/{video['id']}/captions"

    def add(data: bytes, filename: str, **fields):
        return alice.post(url, files={"file": (filename, data)}, data=fields, timeout=30)

    srt = "1\n00:00:00,500 --> 00:00:01,250\nHej <font color=red>v\u00e4rlden</font> <script>x()</script>\n"
    added = add(srt.encode("utf-8-sig"), "hej.srt", language="sv", label="Svenska")
    assert added.status_code == 201, added.text
    _, media = subtitle_media(video)
    assert [(m["LANGUAGE"], m["NAME"]) for m in media] == [("sv", "Svenska")]
    assert cue_times(via_playlist(video["playback_url"], media[0])) == [
        ("00:00:00.500 --> 00:00:01.250", "Hej v\u00e4rlden &lt;script&gt;x()&lt;/script&gt;")
    ]
    too_long = b"WEBVTT\n\n00:00:00.000 --> 00:00:09.000\nlong\n"
    not_utf8 = b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xff\n"
    refusals = [
        (add(too_long, "x.vtt", language="en"), 400, "line 3: the cue ends at"),
        (add(not_utf8, "x.vtt", language="en"), 400, "line 4: the file is not"),
        (add(b"1\n00:00:01,000 --> 00:00:00,500\nx\n", "x.srt", language="en"), 400, "line 2: the cue ends"),
        (add(b"WEBVTT\n\n00:00.000 --> 00:01.000\nx\n", "x.vtt", language="not a tag"), 400, "language tag"),
        (add(b"WEBVTT\n\n00:00.000 --> 00:01.000\nx\n", "x.exe", language="en"), 415, ".vtt"),
        (add(b"WEBVTT\n\n" + b"x" * (1025 * 1024), "x.vtt", language="en"), 413, "the limit is 1024 KB"),
    ]
    for response, status, says in refusals:
        assert response.status_code == status, response.text
        assert says in response.json()["error"], response.json()
    assert len(subtitle_media(video)[1]) == 1
    gone = alice.delete(f"{url}/sv", timeout=30)
    assert gone.status_code == 204
    assert subtitle_media(video)[1] == []
    assert get(video["playback_url"].replace("master.m3u8", f"subtitles/c{added.json()['id']}.vtt")).status_code == 404


def test_another_users_video_takes_no_captions(stack, alice, bob, clips):
    video = ready(stack, alice, clips["ts"])
    response = bob.post(
        f"{stack.url}/api/videos/{video['id']}/captions",
        files={"file": ("x.vtt", b"WEBVTT\n\n00:00.000 --> 00:01.000\nx\n")}, data={"language": "en"}, timeout=30,
    )
    assert response.status_code == 404 and response.json() == {"error": "No such video."}


@pytest.mark.parametrize("audio", [True, False], ids=["audio job", "silent: first chunk"])
def test_a_long_video_in_chunks_keeps_its_subtitles(make_stack, tmp_path, audio):
    """Chunked, the subtitles are taken out once: by the audio's job, or by the first chunk's when the
    video has no audio."""
    stack = make_stack(CHUNK_THRESHOLD_SECONDS="10", CHUNK_SECONDS="12", RENDITIONS="144")
    stack.start_worker()
    user = stack.create_user("carol")
    clip = subtitled.mp4_with_mov_text(tmp_path / "long.mp4", seconds=26, audio=audio)
    video = ready(stack, user, clip)
    assert sum(1 for item in stack.work_items(video["id"]) if item["kind"] == "chunk") == 2
    _, media = subtitle_media(video)
    assert [m["LANGUAGE"] for m in media] == ["en", "fr"]
    assert cue_times(via_playlist(video["playback_url"], media[0]))[0] == (
        "00:00:00.200 --> 00:00:00.900", "Hello <i>there</i>"
    )
