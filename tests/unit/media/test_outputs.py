"""What each kind of output writes, checked on the files of a real conversion."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from media import fingerprint
from media.binaries import find
from media.ladder import Rung
from media.outputs import Poster
from media.probe import MediaInfo
from tests.media import format_name, streams
from tests.unit.media.conftest import POSTER_RUNG, RENDITION_RUNGS

SAMPLES_PER_SECOND = 2


def top_level_boxes(path: Path) -> list[str]:
    """The types of an MP4's top-level boxes, in file order."""
    kinds = []
    with path.open("rb") as file:
        while header := file.read(8):
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", file.read(8))[0] - 8
            elif size == 0:  # runs to the end of the file
                kinds.append(kind.decode("latin-1"))
                break
            kinds.append(kind.decode("latin-1"))
            file.seek(size - 8, 1)
    return kinds


def gray(path: Path, at: float | None = None) -> np.ndarray:
    """A picture of `path` (at `at` seconds) as 64x64 gray levels."""
    seek = [] if at is None else ["-ss", f"{at:.3f}"]
    done = subprocess.run(
        [find("ffmpeg"), "-loglevel", "error", *seek, "-i", str(path), "-frames:v", "1",
         "-vf", "scale=64:64,format=rgb24,format=gray", "-f", "rawvideo", "pipe:1"],  # luma of what is shown
        capture_output=True, check=True, timeout=60,
    )
    return np.frombuffer(done.stdout, dtype=np.uint8).astype(float).reshape(64, 64)


def media_info(duration: float) -> MediaInfo:
    return MediaInfo(demuxer="mov", duration=duration, width=320, height=180, frame_rate=25, has_audio=True)


@pytest.mark.parametrize("index", range(len(RENDITION_RUNGS)))
def test_renditions_are_h264_and_aac_at_their_rung(conversion, index):
    """Each Mp4Rendition is an MP4 with H.264 4:2:0 video at its rung's size and stereo AAC, as long as the source."""
    rendition = conversion.renditions[index]
    rung = RENDITION_RUNGS[index]
    assert "mp4" in format_name(rendition.path).split(",")
    found = streams(rendition.path)
    video = [s for s in found if s["codec_type"] == "video"]
    audio = [s for s in found if s["codec_type"] == "audio"]
    assert len(video) == 1 and len(audio) == 1
    assert (video[0]["codec_name"], video[0]["width"], video[0]["height"]) == ("h264", rung.width, rung.height)
    assert video[0]["pix_fmt"] == "yuv420p"
    assert video[0].get("sample_aspect_ratio", "1:1") in ("1:1", "0:1")
    assert (audio[0]["codec_name"], audio[0]["channels"]) == ("aac", 2)
    assert float(video[0]["duration"]) == pytest.approx(conversion.info.duration, abs=0.2)


@pytest.mark.parametrize("index", range(len(RENDITION_RUNGS)))
def test_renditions_are_faststart(conversion, index):
    """The index (moov) comes before the media data (mdat), so a browser can play while downloading."""
    boxes = top_level_boxes(conversion.renditions[index].path)
    assert "moov" in boxes and "mdat" in boxes, boxes
    assert boxes.index("moov") < boxes.index("mdat"), boxes


def test_poster_is_a_jpeg_at_the_poster_rung(conversion):
    """The poster is one JPEG picture at the poster rung's size, even when asked for past the clip's end."""
    path = conversion.poster.path
    assert path.read_bytes()[:3] == b"\xff\xd8\xff"
    (picture,) = streams(path)
    assert picture["codec_name"] == "mjpeg"
    assert (picture["width"], picture["height"]) == (POSTER_RUNG.width, POSTER_RUNG.height)


def test_poster_shows_the_moment_chosen(conversion):
    """The poster is the picture at its time (the middle of this short clip), not the first one."""
    assert conversion.poster.at == pytest.approx(1.0)
    poster = gray(conversion.poster.path)
    at_time = gray(conversion.source, conversion.poster.at)
    first = gray(conversion.source, 0.0)
    assert np.abs(first - at_time).mean() > 10  # the clip's picture changes in between
    assert np.abs(poster - at_time).mean() < np.abs(poster - first).mean() / 3


def test_frame_samples_are_16_bit_luma_twice_a_second_with_the_picture_size_beside(conversion):
    """The raw file holds whole frames of 16-bit luma (a source this small is not shrunk), 2 per second
    of video, of a picture that moves; the picture's size is noted beside them."""
    path = conversion.frames.path
    layout = fingerprint.layout_of(path)
    assert (layout.width, layout.height) == (conversion.info.width, conversion.info.height)
    assert (layout.columns, layout.rows) == (layout.width, layout.height)  # under the working size
    size = path.stat().st_size
    assert size > 0 and size % layout.frame_bytes == 0
    count = fingerprint.frames_in(path)
    assert count == size // layout.frame_bytes == round(SAMPLES_PER_SECOND * conversion.info.duration)
    frames = np.fromfile(path, dtype="<u2").reshape(count, layout.rows, layout.columns) / 257
    assert frames.std() > 10  # a picture, not a blank
    assert not np.array_equal(frames[0], frames[-1])  # sampled at different times
    # PDQ's luma of the colours shown (full range, from RGB), not the video's limited-range Y
    done = subprocess.run(
        [find("ffmpeg"), "-loglevel", "error", "-i", str(conversion.source), "-vf", "fps=2", "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], capture_output=True, check=True, timeout=60,
    )
    rgb = np.frombuffer(done.stdout, dtype=np.uint8).reshape(layout.height, layout.width, 3).astype(float)
    assert np.abs(frames[0] - rgb @ [0.299, 0.587, 0.114]).mean() < 1


@pytest.mark.parametrize(
    ("duration", "wanted", "expected"),
    [(2.0, 5.0, 1.0), (1.0, 0.8, 0.5), (60.0, 5.0, 5.0), (10.0, 0.0, 0.0), (10.0, -3.0, 0.0)],
)
def test_poster_time_never_passes_the_middle(duration, wanted, expected, tmp_path):
    """Poster.of takes the time asked for, but never past the middle of the video nor before its start."""
    poster = Poster.of(media_info(duration), Rung(96, 54), tmp_path / "p.jpg", wanted)
    assert poster.at == pytest.approx(expected)
    assert 0.0 <= poster.at <= duration / 2


def test_source_without_audio_makes_mp4s_without_audio(silent_conversion):
    """A silent source gives renditions with a video stream and no audio stream, and still a poster and samples."""
    assert silent_conversion.info.has_audio is False
    for rendition in silent_conversion.renditions:
        kinds = [s["codec_type"] for s in streams(rendition.path)]
        assert kinds == ["video"], (rendition.path, kinds)
    assert silent_conversion.poster.path.stat().st_size > 0
    frames = silent_conversion.frames.path
    assert frames.stat().st_size % fingerprint.layout_of(frames).frame_bytes == 0
