"""Seek previews: thumbnails tiled into JPEG sprite sheets, and the WebVTT cues that point into them
(`sprite_000.jpg#xywh=x,y,w,h`), one cue per thumbnail, end to end.

`outputs.Storyboard` takes the thumbnails from the conversion's decode; `tile` lays them into sheets
with ffmpeg's tile filter (100 small pictures: milliseconds); `Layout` is the arithmetic all three
follow, so they can't disagree.
"""

from __future__ import annotations

import math
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from media.binaries import find
from media.colour import TO_JPEG
from media.ladder import even
from media.sandbox import GLOBAL_GUARDS, limits

TILE_WIDTH = 160  # px: what a preview above a player's timeline shows
MIN_INTERVAL = 2  # s between thumbnails of a short video
# Up to 1000 s of video, the interval grows so the whole storyboard is one 10x10 sheet (a timeline a
# few hundred pixels wide can't point at more previews). Past that it stays at 10 s and the video gets
# more sheets: the conversion reports progress at its slowest output's pace, a thumbnail at a time.
MAX_TILES = 100
MAX_INTERVAL = 10
COLUMNS = ROWS = 10  # the most a sheet holds across and down; a short video's sheet is only as big as it needs
SHEET_NAMES = "sprite_%03d.jpg"  # sprite_000.jpg, sprite_001.jpg, ...
JPEG_QUALITY = 5  # ffmpeg's mjpeg q:v, 2 (best) to 31: a 10x10 sheet of 160 px thumbnails is ~100-200 KB
PIXELS = "yuv420p"  # of the raw thumbnails between the conversion and `tile`
RAW_COLOUR = "range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709"
JPEG_SCALE = ":".join(f"{name}={value}" for name, value in TO_JPEG.items())


def interval_for(duration: float, max_tiles: int = MAX_TILES) -> int:
    """Whole seconds between thumbnails: MIN_INTERVAL, more so a video has one sheet, at most MAX_INTERVAL."""
    return min(MAX_INTERVAL, max(MIN_INTERVAL, math.ceil(round(duration * 1000) / (max_tiles * 1000))))


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    sheet: str  # the sprite sheet's file name
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Layout:
    """A storyboard's shape: a thumbnail every `interval` s of `duration_ms`, `width` x `height` each,
    `columns` x `rows` to a sheet, left to right then top to bottom."""

    duration_ms: int
    interval: int
    width: int
    height: int
    columns: int
    rows: int

    @classmethod
    def plan(
        cls, duration: float, width: int, height: int, *, tile_width: int = TILE_WIDTH, interval: int = 0,
        columns: int = COLUMNS, rows: int = ROWS,
    ) -> Layout:
        """The layout for a video of `duration` s and `width` x `height`: its aspect kept, never enlarged."""
        duration_ms = max(1, round(duration * 1000))
        every = interval or interval_for(duration)
        count = math.ceil(duration_ms / (every * 1000))
        tile_w = even(min(tile_width, width))
        tile_h = even(tile_w * height / width)
        across = min(columns, count)
        return cls(duration_ms, every, tile_w, tile_h, across, min(rows, math.ceil(count / across)))

    @property
    def count(self) -> int:
        """Thumbnails, one per cue: the last interval may be cut short by the end of the video."""
        return math.ceil(self.duration_ms / (self.interval * 1000))

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    @property
    def sheet_names(self) -> list[str]:
        return [SHEET_NAMES % index for index in range(math.ceil(self.count / self.per_sheet))]

    @property
    def sheet_size(self) -> tuple[int, int]:
        return self.columns * self.width, self.rows * self.height

    def cue(self, index: int) -> Cue:
        sheet, place = divmod(index, self.per_sheet)
        row, column = divmod(place, self.columns)
        start = index * self.interval * 1000
        return Cue(
            start, min(start + self.interval * 1000, self.duration_ms), SHEET_NAMES % sheet,
            column * self.width, row * self.height, self.width, self.height,
        )

    def cues(self) -> list[Cue]:
        return [self.cue(index) for index in range(self.count)]


def tile(
    layout: Layout, thumbnails: Path, folder: Path, *, timeout: float = 300, memory_mb: int = 1024
) -> list[Path]:
    """Lay the raw thumbnails a Storyboard output wrote into the layout's sprite sheets in `folder`.

    The input is our own file of raw frames, never an upload: read as rawvideo, from a local file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    args = [
        find("ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", *GLOBAL_GUARDS,
        "-protocol_whitelist", "file", "-f", "rawvideo", "-pixel_format", PIXELS,
        "-video_size", f"{layout.width}x{layout.height}", "-framerate", "1", "-i", f"file:{thumbnails}",
        # the thumbnails are BT.709 like every picture of the conversion (media/colour.py): raw frames
        # carry no tags, so say it, or the JPEG's own BT.601 would be taken for theirs
        "-vf", f"setparams={RAW_COLOUR},scale={JPEG_SCALE},trim=end_frame={layout.count},"
               f"tile={layout.columns}x{layout.rows}",
        "-f", "image2", "-c:v", "mjpeg", "-q:v", str(JPEG_QUALITY), "-start_number", "0", "-fps_mode", "passthrough",
        "-y", str(folder).replace("%", "%%") + "/" + SHEET_NAMES,
    ]
    done = subprocess.run(
        args, capture_output=True, timeout=timeout, preexec_fn=limits(memory_mb), stdin=subprocess.DEVNULL
    )
    sheets = [folder / name for name in layout.sheet_names]
    if done.returncode != 0 or not all(sheet.is_file() for sheet in sheets):
        raise RuntimeError(f"the storyboard could not be tiled: {done.stderr.decode(errors='replace')[-300:]}")
    return sheets


def timestamp(ms: int) -> str:
    """`83_004` -> `00:01:23.004`, WebVTT's form."""
    seconds, milli = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{milli:03d}"


def vtt(layout: Layout, url: Callable[[str], str] = str) -> str:
    """The WebVTT text of a storyboard; `url` turns a sheet's file name into what the cue names."""
    lines = ["WEBVTT", ""]
    for cue in layout.cues():
        lines += [
            f"{timestamp(cue.start_ms)} --> {timestamp(cue.end_ms)}",
            f"{url(cue.sheet)}#xywh={cue.x},{cue.y},{cue.width},{cue.height}",
            "",
        ]
    return "\n".join(lines)


def write_vtt(layout: Layout, path: Path, url: Callable[[str], str] = str) -> Path:
    """Write the cues to `path` whole (a reader never sees half of it)."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(vtt(layout, url), encoding="utf-8")
    os.replace(partial, path)
    return path
