"""Running ffmpeg and ffprobe on untrusted files: lower priority, a memory cap, local files only."""

from __future__ import annotations

import os
import re
import resource
from collections.abc import Callable

# Demuxers Conveyor accepts, as ffmpeg names them (MP4/MOV/3GP, Matroska/WebM, AVI, MPEG-TS,
# MPEG-PS, FLV, Ogg). Playlist and list formats (hls, concat, ...) are not among them, so
# media can't make ffmpeg open other files or URLs.
ALLOWED_DEMUXERS = ("mov", "matroska", "avi", "mpegts", "mpeg", "flv", "ogg")

# Input options that keep ffmpeg to the one local file it was given.
INPUT_GUARDS = {
    "protocol_whitelist": "file",
    "format_whitelist": ",".join(ALLOWED_DEMUXERS),
}

# No single allocation above this: a header that claims an enormous picture or table fails on the
# spot instead of taking the memory. A 7680x4320 frame plane at 16 bits is about 66 MB.
MAX_ALLOC_BYTES = 256 * 1024 * 1024
GLOBAL_GUARDS = ["-max_alloc", str(MAX_ALLOC_BYTES)]

# What ffmpeg's decoders log when a picture is over `-max_pixels` (they then skip it, and go on): a
# stream whose pictures grow partway through (a new sequence header) is refused on the first one.
PICTURE_TOO_LARGE = re.compile(r"picture size (\d+)x(\d+) exceeds specified max pixel count", re.IGNORECASE)
# decoders check the picture with its width rounded up to their row alignment (64 at most)
ROW_ALIGNMENT = 64


def picture_guards(max_pixels: int, max_side: int) -> dict[str, str]:
    """Decoder options that refuse every picture larger than `max_pixels` (0: no limit), whatever the
    headers and the first pictures said; `max_side` (the longest side allowed) makes room for the
    decoders' rounding of the width, so a picture within the limit is never refused."""
    if max_pixels <= 0:
        return {}
    return {"max_pixels": str(max_pixels + (ROW_ALIGNMENT - 1) * max_side)}


def oversized_picture(stderr: str) -> tuple[int, int] | None:
    """The size of a picture ffmpeg refused for `-max_pixels`, if its log names one."""
    found = PICTURE_TOO_LARGE.search(stderr)
    return (int(found.group(1)), int(found.group(2))) if found else None


# What the mov demuxer logs when a track's samples live in another file (an alias `dref`). It
# doesn't follow them (`enable_drefs` is off) and the track is empty: the file isn't self-contained.
EXTERNAL_TRACK = "skipped opening external track"


def limits(memory_mb: int, niceness: int = 10) -> Callable[[], None]:
    """A preexec function that caps the child's address space and lowers its priority."""

    def apply() -> None:
        if memory_mb > 0:
            cap = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        os.nice(niceness)

    return apply
