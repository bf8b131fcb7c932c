"""Video as phones send it, through the real stack: HDR tone-mapped with true colour tags; rotation
matrices, non-square pixels, variable frame rates, 5.1, mono and late sound keep orientation, aspect
and sync in every output; the loudness option brings the sound to -16 LUFS."""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import requests

from media.binaries import find
from tests.media import flashes_and_beeps, onsets, streams
from tests.phone_clips import hdr_clip, marker, psnr, rotated_clip, sdr_picture_clip, sound_clip, vfr_clip

pytestmark = pytest.mark.integration


def ready(stack, session, path: Path, **fields: str) -> dict:
    body = stack.wait_final(session, stack.upload(session, path, **fields).json()["id"])
    assert body["state"] == "ready", body
    return body


def download(body: dict, folder: Path) -> Path:
    """The largest MP4 of a ready video."""
    rendition = body["renditions"][-1]
    path = folder / f"{body['id']}-{rendition['name']}.mp4"
    path.write_bytes(requests.get(rendition["url"], timeout=30).content)
    return path


def video_stream(path: Path) -> dict:
    return next(s for s in streams(path) if s["codec_type"] == "video")


def red_corner(path: Path) -> str:
    """Which corner of the first picture holds the red block: "top-left", "bottom-right"..."""
    done = subprocess.run(
        [find("ffmpeg"), "-loglevel", "error", "-i", str(path), "-frames:v", "1", "-vf", "scale=16:16,format=rgb24",
         "-f", "rawvideo", "pipe:1"], capture_output=True, check=True, timeout=60,
    )
    pixels = np.frombuffer(done.stdout, dtype=np.uint8).reshape(16, 16, 3).astype(int)
    redness = pixels[..., 0] - pixels[..., 1]
    corners = {
        "top-left": redness[:4, :4], "top-right": redness[:4, -4:],
        "bottom-left": redness[-4:, :4], "bottom-right": redness[-4:, -4:],
    }
    return max(corners, key=lambda name: corners[name].mean())


@pytest.mark.parametrize(("rotation", "mirrored", "corner"), [
    (90, False, "bottom-left"),  # ffmpeg's display rotation is counter-clockwise
    (180, False, "bottom-right"),
    (270, False, "top-right"),
    (0, True, "top-right"),
])
def test_a_rotated_phone_clip_comes_out_upright(stack, alice, tmp_path, rotation, mirrored, corner):
    clip = rotated_clip(tmp_path / "phone.mp4", rotation, mirrored=mirrored)
    body = ready(stack, alice, clip)
    portrait = rotation in (90, 270)
    assert (body["width"], body["height"]) == ((180, 320) if portrait else (320, 180))
    out = download(body, tmp_path)
    video = video_stream(out)
    assert (video["width"] > video["height"]) is not portrait
    assert not any("rotation" in side for side in video.get("side_data_list") or []), "turned, not tagged"
    assert red_corner(out) == corner


def test_non_square_pixels_keep_the_pictures_shape(stack, alice, tmp_path):
    """240x180 stored with 4:3 pixels is 320x180 to the eye: every output has square pixels, that shape."""
    clip = marker(tmp_path / "anamorphic.mp4", width=240, height=180, sar="4/3")
    body = ready(stack, alice, clip)
    assert (body["width"], body["height"]) == (320, 180)
    for rendition in body["renditions"]:
        assert rendition["width"] / rendition["height"] == pytest.approx(16 / 9, abs=0.02)
    video = video_stream(download(body, tmp_path))
    assert video.get("sample_aspect_ratio", "1:1") in ("1:1", "0:1")
    assert video["width"] / video["height"] == pytest.approx(16 / 9, abs=0.02)


def keyframe_times(path: Path) -> list[float]:
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", "-select_streams", "v", "-skip_frame", "nokey", "-show_entries",
         "frame=pts_time", "-of", "csv=p=0", str(path)], capture_output=True, text=True, check=True, timeout=60,
    )
    return [round(float(t.strip(",")), 3) for t in done.stdout.split()]


def test_a_variable_frame_rate_keeps_its_length_and_idrs_line_up(stack, alice, tmp_path):
    clip = vfr_clip(tmp_path / "vfr.mp4", seconds=3)
    source_length = float(video_stream(clip)["duration"])
    body = ready(stack, alice, clip)
    durations, keyframes = [], []
    for rendition in body["renditions"]:
        path = tmp_path / f"{rendition['name']}.mp4"
        path.write_bytes(requests.get(rendition["url"], timeout=30).content)
        video = video_stream(path)
        durations.append(float(video["duration"]))
        rate = video["avg_frame_rate"]
        assert rate == video["r_frame_rate"], f"a constant rate: {rate} vs {video['r_frame_rate']}"
        keyframes.append(keyframe_times(path))
    for length in durations:
        assert length == pytest.approx(source_length, abs=0.1)
    assert all(times == keyframes[0] for times in keyframes), "IDR frames at the same instants on every rung"
    frame = 1 / float(Fraction(video["avg_frame_rate"]))
    assert keyframes[0][0] == 0 and keyframes[0][1] == pytest.approx(2.0, abs=frame), "every 2 s, to a frame"


@pytest.mark.parametrize(("layout", "delay", "picture_seconds"), [
    ("5.1", 0.0, 0), ("mono", 0.0, 0), ("stereo", 0.5, 0), ("stereo", 0.0, 2.0),
], ids=["5.1", "mono", "late-sound", "short-picture"])
def test_sound_as_phones_record_it_stays_in_sync(stack, alice, tmp_path, layout, delay, picture_seconds):
    """A flash and a beep together every second: 5.1 and mono come out stereo, a late start stays late,
    a picture shorter than the sound keeps its beeps with its flashes."""
    seconds = 3.0
    clip = sound_clip(tmp_path / "sound.mp4", layout=layout, seconds=seconds, delay=delay,
                      picture_seconds=picture_seconds)
    body = ready(stack, alice, clip)
    out = download(body, tmp_path)
    audio = next(s for s in streams(out) if s["codec_type"] == "audio")
    assert audio["channels"] == 2
    flashes, beeps = flashes_and_beeps(out)
    flashes = onsets(flashes)
    beeps = [b for b in beeps if b > 0]  # the first beep is at the start of sound: found by its own onset
    assert flashes, "no flash found"
    heard = [b for b in beeps if b < (picture_seconds or seconds) - 0.2]
    assert heard, f"no beep found: {beeps}"
    for beep in heard:
        nearest = min(flashes, key=lambda flash: abs(flash - beep))
        assert abs(nearest - beep) < 0.05, f"beep at {beep:.3f} s, flash at {nearest:.3f} s"
    if delay:
        assert min(heard) >= delay - 0.05


def test_hdr_phone_video_is_tone_mapped_with_true_tags(stack, alice, tmp_path):
    original = sdr_picture_clip(tmp_path / "sdr.mp4", width=320, height=180)
    hdr = hdr_clip(original, tmp_path / "hlg.mov", "arib-std-b67")
    body = ready(stack, alice, hdr)
    out = download(body, tmp_path)
    video = video_stream(out)
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")
    assert (video["color_primaries"], video["color_transfer"], video["color_space"], video["color_range"]) == (
        "bt709", "bt709", "bt709", "tv"
    )
    assert psnr(out, original) >= 25  # a washed-out conversion: about 16 dB (tests/unit/media/test_colour.py)


def loudness(path: Path) -> float:
    """Integrated loudness, LUFS, as ffmpeg's EBU R128 meter reads it."""
    done = subprocess.run(
        [find("ffmpeg"), "-hide_banner", "-nostdin", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
        capture_output=True, text=True, timeout=60,
    )
    return float(re.findall(r"I:\s+(-?[0-9.]+) LUFS", done.stderr)[-1])


def test_loudness_is_normalized_only_when_asked(stack, alice, tmp_path):
    quiet = tmp_path / "quiet.mp4"
    subprocess.run(
        [find("ffmpeg"), "-y", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:d=4",
         "-f", "lavfi", "-i", "sine=frequency=440:d=4,volume=0.05", "-c:v", "libx264", "-preset", "ultrafast",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(quiet)], check=True, timeout=60,
    )
    before = loudness(quiet)
    normalized = ready(stack, alice, quiet, normalize_loudness="true")
    assert normalized["normalize_loudness"] is True
    plain = ready(stack, alice, quiet)
    assert plain["normalize_loudness"] is False
    assert loudness(download(normalized, tmp_path)) == pytest.approx(-16, abs=1.5)
    assert loudness(download(plain, tmp_path)) == pytest.approx(before, abs=1)
    assert before < -30


def test_a_bad_loudness_option_is_refused(stack, alice, tmp_path):
    clip = marker(tmp_path / "m.mp4", width=64, height=36)
    response = stack.upload(alice, clip, normalize_loudness="loud")
    assert response.status_code == 400
    assert response.json()["error"] == "`normalize_loudness` must be true or false."
