"""probe(): what a file holds, and the sentence an uploader gets when Conveyor won't convert it."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from media.binaries import find
from media.errors import BadMedia
from media.probe import ACCEPTED, Limits, probe
from media.sandbox import ALLOWED_DEMUXERS
from tests.media import make_clip

NOT_READABLE = f"This file is not a video Conveyor can read. Upload {ACCEPTED}."
INCOMPLETE = "The file is incomplete or damaged (its MP4 index is missing). Upload the whole file again."


def ffmpeg(*args: str | Path) -> None:
    subprocess.run([find("ffmpeg"), "-y", "-loglevel", "error", *map(str, args)], check=True, timeout=60)


def refusal(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(BadMedia) as refused:
        probe(path, limits or Limits())
    return str(refused.value)


def top_level_boxes(path: Path) -> list[str]:
    data = path.read_bytes()
    kinds, at = [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        kinds.append(data[at + 4 : at + 8].decode("latin-1"))
        if size < 8:
            break
        at += size
    return kinds


# --- what a readable file reports -------------------------------------------------------------


def test_reports_duration_size_rate_and_audio(source):
    """A 2 s 320x180 25 fps clip with sound is reported as such."""
    info = probe(source, Limits())
    assert info.demuxer == "mov"
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.width, info.height) == (320, 180)
    assert info.frame_rate == pytest.approx(25.0)
    assert info.has_audio is True
    assert info.frames == 50
    assert info.stream == 0
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")


def test_reports_no_audio_for_a_silent_clip(silent_source):
    info = probe(silent_source, Limits())
    assert info.has_audio is False and (info.video_codec, info.audio_codec) == ("h264", "")


@pytest.mark.parametrize("container", ["matroska", "mpegts", "avi", "flv"])
def test_other_accepted_containers_are_read(clips, container):
    """The sandbox's whitelist lets the accepted containers through, named by their demuxer."""
    path = clips(f"unit-media-{container}", seconds=1, width=160, height=90, container=container)
    info = probe(path, Limits())
    assert info.demuxer in ALLOWED_DEMUXERS
    assert (info.width, info.height) == (160, 90)


@pytest.mark.parametrize("degrees", [90, -90])
def test_rotated_clip_reports_swapped_size(source, tmp_path, degrees):
    """A clip shown rotated a quarter turn (display matrix) is as wide as it is stored high."""
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation", degrees, "-i", source, "-c", "copy", rotated)
    info = probe(rotated, Limits())
    assert (info.width, info.height) == (180, 320)


def test_non_square_pixels_widen_the_display_width(tmp_path):
    """Pixels twice as wide as high make the picture twice as wide as it is stored."""
    path = tmp_path / "anamorphic.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=1", "-vf", "setsar=2",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path)
    info = probe(path, Limits())
    assert (info.width, info.height) == (320, 90)


def test_rotated_clip_with_non_square_pixels_keeps_its_shape(tmp_path):
    """The sample aspect ratio stretches the stored width, which is the displayed height once rotated."""
    stored = tmp_path / "anamorphic.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=1", "-vf", "setsar=2",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", stored)
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation", 90, "-i", stored, "-c", "copy", rotated)
    info = probe(rotated, Limits())
    assert (info.width, info.height) == (90, 320)


# --- each limit -------------------------------------------------------------------------------


def test_default_limits_accept_the_clip(source):
    probe(source, Limits())


def test_duration_limit(clips):
    """A video longer than the limit is refused, the limit named in minutes."""
    long = clips("unit-media-61s", seconds=61, width=32, height=32, rate=2, audio=False)
    assert probe(long, Limits(max_duration=62)).duration == pytest.approx(61, abs=0.5)
    message = refusal(long, Limits(max_duration=60))
    assert message.startswith("The video is longer than the limit of 1 minute")


def test_duration_limit_that_is_not_whole_minutes_is_stated_truly(source):
    """A limit of 1 s is stated as 1 s, not rounded to 0 minutes."""
    message = refusal(source, Limits(max_duration=1))
    assert message.startswith("The video is longer than the limit")
    assert re.search(r"\b1(\.0+)? ?(s|sec|seconds?)\b", message), message


def test_width_limit(source):
    message = refusal(source, Limits(max_width=300))
    assert message == "The picture is 320x180; the limit is 300x4320."


def test_height_limit(source):
    message = refusal(source, Limits(max_height=150))
    assert message == "The picture is 320x180; the limit is 7680x150."


def test_pixel_limit(source):
    """Within width and height, but more pixels than allowed."""
    message = refusal(source, Limits(max_pixels=50_000))
    assert message == "The picture is 320x180, 57,600 pixels; the limit is 50,000 pixels."


def test_frame_rate_limit(source):
    message = refusal(source, Limits(max_frame_rate=24))
    assert message == "The frame rate is 25 fps; the limit is 24."


def test_stream_limit(source):
    """A video and an audio stream are more than a limit of one stream."""
    message = refusal(source, Limits(max_streams=1))
    assert message == "The file has more than 1 streams; the limit is 1."
    probe(source, Limits(max_streams=2))


def test_limits_are_checked_one_at_a_time(source):
    """Loosening the one limit that refused lets the file through: each limit is its own."""
    tight = Limits(max_frame_rate=24)
    refusal(source, tight)
    probe(source, replace(tight, max_frame_rate=25))


# --- files that are not videos ----------------------------------------------------------------


def test_audio_only_file(tmp_path):
    path = tmp_path / "sound.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:a", "aac", path)
    assert refusal(path) == "The file holds sound only, no video. Conveyor converts videos."


def test_single_still_picture(tmp_path):
    """An MP4 holding one MJPEG frame is a picture, not a video."""
    path = tmp_path / "still.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25", "-frames:v", "1", "-c:v", "mjpeg", path)
    assert refusal(path) == "The file holds a single picture, not a moving video. Upload a video clip."


def test_empty_file(tmp_path):
    path = tmp_path / "upload"
    path.write_bytes(b"")
    assert refusal(path) == NOT_READABLE


def test_empty_file_named_mp4(tmp_path):
    """An empty upload named .mp4 is an MP4 without its index: the uploader is asked for the whole file."""
    path = tmp_path / "upload.mp4"
    path.write_bytes(b"")
    assert refusal(path) == INCOMPLETE


def test_garbage_file(tmp_path):
    path = tmp_path / "upload"
    path.write_bytes(b"This is not a video. " * 200)
    assert refusal(path) == NOT_READABLE


def test_garbage_file_named_mp4(tmp_path):
    path = tmp_path / "upload.mp4"
    path.write_bytes(b"This is not a video. " * 200)
    assert refusal(path) in (NOT_READABLE, INCOMPLETE)


def test_truncated_mp4_without_its_index(source, tmp_path):
    """An upload cut off before its moov box (written at the end) is reported incomplete."""
    boxes = top_level_boxes(source)
    assert boxes.index("mdat") < boxes.index("moov"), boxes  # the clip keeps its index at the end
    data = source.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])
    assert refusal(path) == INCOMPLETE


# --- demuxers outside the sandbox's list ------------------------------------------------------


def test_hls_playlist_is_refused(tmp_path):
    """A playlist naming a real, readable segment is still refused: playlists could open other files."""
    segment = make_clip(tmp_path / "segment.ts", seconds=1, width=160, height=90, container="mpegts")
    probe(segment, Limits())  # the segment alone is fine
    playlist = tmp_path / "upload.m3u8"
    playlist.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:1.0,\nsegment.ts\n#EXT-X-ENDLIST\n"
    )
    assert refusal(playlist) == NOT_READABLE


def test_wav_is_refused(tmp_path):
    """A WAV is read by a demuxer Conveyor doesn't allow."""
    path = tmp_path / "upload.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=1", path)
    assert refusal(path) == NOT_READABLE


def test_reports_subtitle_tracks_with_language_and_forced_flag(source, tmp_path):
    cues = tmp_path / "cues.srt"
    cues.write_text("1\n00:00:00,200 --> 00:00:01,000\nHola\n")
    subtitled = tmp_path / "subtitled.mkv"
    ffmpeg("-i", source, "-i", cues, "-map", "0", "-map", "1", "-c:v", "copy", "-c:a", "copy", "-c:s", "srt",
           "-metadata:s:s:0", "language=spa", "-metadata:s:s:0", "title=Spanish", "-disposition:s:0", "forced",
           subtitled)
    (track,) = probe(subtitled, Limits()).subtitles
    assert (track.codec, track.language, track.title) == ("subrip", "spa", "Spanish")
    assert track.forced and track.text


def test_reports_the_colour_and_the_sound_as_stored(source):
    info = probe(source, Limits())
    assert (info.colour.matrix, info.colour.range, info.colour.hdr) == ("bt709", "tv", False)
    assert info.audio_channels == 1
