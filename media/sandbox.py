"""Running ffmpeg and ffprobe on untrusted files: lower priority, a memory cap, local files only."""

from __future__ import annotations

import os
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
