"""The kinds of file the service takes, as a browser names them: derived from the demuxers the
sandbox lets ffmpeg open (the server's own decision, made again on each file's first bytes at upload),
so that a page refusing a file before sending it can't drift from what the server accepts."""

from __future__ import annotations

from media.probe import ACCEPTED
from media.sandbox import ALLOWED_DEMUXERS

__all__ = ["ACCEPTED", "NAMES_OF_DEMUXER", "accepted_files"]

# The file names and media types browsers give each container that an allowed demuxer reads. A demuxer
# added to the sandbox without an entry here fails loudly (KeyError) in the page's tests.
NAMES_OF_DEMUXER: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "mov": (
        ("mp4", "m4v", "mov", "3gp", "3g2"),
        ("video/mp4", "video/x-m4v", "video/quicktime", "video/3gpp", "video/3gpp2"),
    ),
    "matroska": (("mkv", "webm"), ("video/x-matroska", "video/webm")),
    "avi": (("avi",), ("video/x-msvideo", "video/avi", "video/msvideo")),
    "mpegts": (("ts", "mts", "m2ts"), ("video/mp2t", "video/vnd.dlna.mpeg-tts")),
    "mpeg": (("mpg", "mpeg"), ("video/mpeg",)),
    "flv": (("flv",), ("video/x-flv",)),
    "ogg": (("ogv", "ogg"), ("video/ogg",)),
}


def accepted_files() -> tuple[list[str], list[str]]:
    """The extensions (without the dot) and media types of the files the service takes."""
    extensions: list[str] = []
    types: list[str] = []
    for demuxer in ALLOWED_DEMUXERS:
        names, media_types = NAMES_OF_DEMUXER[demuxer]
        extensions += names
        types += media_types
    return extensions, types
