"""The storyboard: thumbnails from the conversion's decode, tiled into sprite sheets, and WebVTT cues
that cover the video end to end and point inside the sheets at the right moment."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from media import command, storyboard
from media.binaries import find
from media.outputs import Storyboard
from media.storyboard import Layout
from tests.unit.media.test_hls import HlsRun, ffprobe, hls_run

CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$")


@pytest.fixture(scope="module")
def converted(clips, tmp_path_factory) -> HlsRun:
    return hls_run(clips, tmp_path_factory)


@pytest.fixture(scope="module")
def board(converted, tmp_path_factory) -> tuple[Storyboard, list[Path], Path]:
    """The conversion's storyboard tiled into its sheets, with its WebVTT file."""
    folder = tmp_path_factory.mktemp("storyboard")
    output = converted.storyboard
    sheets = storyboard.tile(output.layout, output.path, folder)
    return output, sheets, storyboard.write_vtt(output.layout, folder / "storyboard.vtt")


def milliseconds(groups: tuple[str, ...]) -> int:
    hours, minutes, seconds, milli = (int(g) for g in groups)
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + milli


def parse_vtt(text: str) -> list[tuple[int, int, str, tuple[int, int, int, int]]]:
    """(start ms, end ms, sheet, (x, y, w, h)) of each cue."""
    lines = text.splitlines()
    assert lines[0] == "WEBVTT", lines[:1]
    cues = []
    for number, line in enumerate(lines):
        if match := CUE.match(line):
            sheet, _, box = lines[number + 1].partition("#xywh=")
            cues.append((milliseconds(match.groups()[:4]), milliseconds(match.groups()[4:]), sheet,
                         tuple(int(v) for v in box.split(","))))
    return cues


def picture_size(path: Path) -> tuple[int, int]:
    (stream,) = ffprobe(path, "-show_streams")["streams"]
    return stream["width"], stream["height"]


def gray(path: Path, *, at: float | None = None, crop: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """A picture (a crop of it, or the frame at `at` seconds) as 32x18 gray levels."""
    seek = [] if at is None else ["-ss", f"{at:.3f}"]
    shown = "scale=32:18,format=rgb24,format=gray"  # the luma of the colours shown, whatever the matrix
    chain = (f"crop={crop[2]}:{crop[3]}:{crop[0]}:{crop[1]}," if crop else "") + shown
    done = subprocess.run(
        [find("ffmpeg"), "-loglevel", "error", *seek, "-i", str(path), "-frames:v", "1", "-vf", chain,
         "-f", "rawvideo", "pipe:1"],
        capture_output=True, check=True, timeout=60,
    )
    return np.frombuffer(done.stdout, dtype=np.uint8).astype(float).reshape(18, 32)


def test_cues_are_contiguous_and_cover_the_duration(converted, board):
    """One cue per thumbnail, from 0 to the video's end with no gap or overlap, every 2 s for a short clip."""
    output, _, vtt = board
    cues = parse_vtt(vtt.read_text())
    assert len(cues) == output.layout.count == 3
    assert output.path.stat().st_size == len(cues) * output.layout.width * output.layout.height * 3 // 2
    assert cues[0][0] == 0
    for before, after in zip(cues, cues[1:], strict=False):
        assert before[1] == after[0]
        assert before[1] - before[0] == 2000
    assert cues[-1][1] == round(converted.info.duration * 1000)
    assert all(end > start for start, end, _, _ in cues)


def test_every_box_lies_inside_its_sprite(board):
    """Each cue names a sheet that was written, and its #xywh box is inside that picture; no two cues
    share a box; a thumbnail is 160 px wide with the source's shape, in even sizes."""
    output, sheets, vtt = board
    cues = parse_vtt(vtt.read_text())
    sizes = {sheet.name: picture_size(sheet) for sheet in sheets}
    for _, _, sheet, (x, y, w, h) in cues:
        width, height = sizes[sheet]
        assert 0 <= x and 0 <= y and x + w <= width and y + h <= height, (sheet, x, y, w, h)
        assert (w, h) == (160, 90)
    assert len({(sheet, box) for _, _, sheet, box in cues}) == len(cues)
    assert [sheet.name for sheet in sheets] == ["sprite_000.jpg"]
    assert sheets[0].read_bytes()[:3] == b"\xff\xd8\xff"


def test_each_thumbnail_shows_the_start_of_its_cue(converted, board):
    """The tile of the cue starting at t looks like the source at t, more than like the next cue's time."""
    _, sheets, vtt = board
    cues = parse_vtt(vtt.read_text())
    for index, (start, _, sheet, box) in enumerate(cues):
        tile = gray(sheets[0].parent / sheet, crop=box)
        here = gray(converted.source, at=start / 1000)
        other = gray(converted.source, at=cues[(index + 1) % len(cues)][0] / 1000)
        assert np.abs(tile - here).mean() < np.abs(tile - other).mean() / 2, index


def test_a_longer_storyboard_fills_more_sheets(converted, tmp_path):
    """With a 2x2 grid and a thumbnail a second, the 5 s clip needs two sheets; the cues point into both
    and each tile still shows its moment."""
    output = Storyboard.of(converted.info, tmp_path / "thumbnails.yuv", interval=1, columns=2, rows=2)
    done = subprocess.run(command.build(converted.source, converted.info, [output]), capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-1000:]
    sheets = storyboard.tile(output.layout, output.path, tmp_path / "sheets")
    assert [sheet.name for sheet in sheets] == ["sprite_000.jpg", "sprite_001.jpg"]
    assert {picture_size(sheet) for sheet in sheets} == {(320, 180)}
    cues = parse_vtt(storyboard.vtt(output.layout))
    assert [(start, sheet, box[:2]) for start, _, sheet, box in cues] == [
        (0, "sprite_000.jpg", (0, 0)), (1000, "sprite_000.jpg", (160, 0)), (2000, "sprite_000.jpg", (0, 90)),
        (3000, "sprite_000.jpg", (160, 90)), (4000, "sprite_001.jpg", (0, 0)),
    ]
    last = gray(sheets[1], crop=cues[-1][3])
    assert np.abs(last - gray(converted.source, at=4.0)).mean() < np.abs(last - gray(converted.source, at=0)).mean() / 2


def test_vtt_names_sheets_as_the_caller_says(converted):
    """Cues can point at published (signed) addresses instead of bare file names."""
    text = storyboard.vtt(converted.storyboard.layout, url=lambda name: f"/media/v/1/{name}?sig=x")
    assert "/media/v/1/sprite_000.jpg?sig=x#xywh=0,0,160,90" in text


@pytest.mark.parametrize(
    ("duration", "interval", "count", "sheets"),
    [(5, 2, 3, 1), (200, 2, 100, 1), (200.5, 3, 67, 1), (600, 6, 100, 1), (1000, 10, 100, 1),
     (3600, 10, 360, 4), (4 * 3600, 10, 1440, 15), (0.5, 2, 1, 1)],
)
def test_the_interval_grows_with_the_video(duration, interval, count, sheets):
    """2 s for short videos; longer so one 10x10 sheet holds a video up to 1000 s; then 10 s and more
    sheets, never more than 100 thumbnails a sheet."""
    layout = Layout.plan(duration, 1920, 1080)
    assert (layout.interval, layout.count, len(layout.sheet_names)) == (interval, count, sheets)
    assert layout.per_sheet <= 100
    assert layout.cues()[-1].end_ms == round(duration * 1000)


@pytest.mark.parametrize(
    ("size", "tile"),
    [((1920, 1080), (160, 90)), ((1080, 1920), (160, 284)), ((96, 54), (96, 54)), ((426, 240), (160, 90))],
)
def test_thumbnails_keep_the_shape_in_even_sizes(size, tile):
    """160 px wide (never wider than the source), the source's aspect, even sizes for yuv420p."""
    layout = Layout.plan(10, *size)
    assert (layout.width, layout.height) == tile


def test_a_short_video_gets_a_sheet_its_size():
    """Three thumbnails make a 3x1 sheet, not a 10x10 one mostly black."""
    layout = Layout.plan(5, 426, 240)
    assert (layout.columns, layout.rows, layout.sheet_size) == (3, 1, (480, 90))
    assert Layout.plan(25, 426, 240).sheet_size == (1600, 180)  # 13 thumbnails: 10 across, 2 rows


def test_timestamps_are_webvtt_s():
    assert storyboard.timestamp(0) == "00:00:00.000"
    assert storyboard.timestamp(83_004) == "00:01:23.004"
    assert storyboard.timestamp(4 * 3600 * 1000 - 1) == "03:59:59.999"
