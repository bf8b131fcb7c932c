"""Receiving uploads: streamed to a staging file beside storage, checked, never held in memory."""

from __future__ import annotations

import io
import os
import unicodedata
from typing import IO
from urllib.parse import urlparse

from flask import Flask, Request, current_app

from app.errors import ApiError

SNIFF_BYTES = 4096
MAX_TITLE = 200
MAX_FILENAME = 255
MAX_URL = 2048
READ_BUFFER = 1 << 20  # the form parser reads 64 KiB at a time; the server's body reader is slow at that size


class _Body(io.RawIOBase):
    """The server's request body as a raw stream, so that a BufferedReader can read it in large pieces."""

    def __init__(self, source: IO[bytes]):
        self.source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class UploadRequest(Request):
    """Sends file parts straight into the storage's staging folder, not into memory."""

    def __init__(self, environ, *args, **kwargs) -> None:
        if environ.get("CONTENT_TYPE", "").startswith("multipart/form-data") and "wsgi.input" in environ:
            environ["wsgi.input"] = io.BufferedReader(_Body(environ["wsgi.input"]), READ_BUFFER)
        super().__init__(environ, *args, **kwargs)

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None) -> IO[bytes]:
        staged = current_app.extensions["storage"].staging_file()
        self.__dict__.setdefault("_staged", []).append(staged)
        return staged

    def close(self) -> None:
        """At the end of the request: close staged files and remove those not saved under a key."""
        super().close()
        for staged in self.__dict__.pop("_staged", []):
            staged.close()
            try:
                os.unlink(staged.name)
            except FileNotFoundError:
                pass  # it was moved under its key


def init_app(app: Flask) -> None:
    from app import ratelimit  # after the queue: the limits are counted in its Redis

    app.request_class = UploadRequest
    ratelimit.init_app(app)


def container_of(head: bytes) -> str | None:
    """The container family a file's first bytes announce, if it is one Conveyor accepts."""
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"):
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"RIFF") and head[8:12] in (b"AVI ", b"AVIX"):
        return "avi"
    if head.startswith(b"FLV"):
        return "flv"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg"
    if _is_transport_stream(head):
        return "mpegts"
    return None


def _is_transport_stream(head: bytes) -> bool:
    for packet in (188, 192):
        offset = 4 if packet == 192 else 0
        if len(head) >= offset + 2 * packet + 1 and all(
            head[offset + i * packet] == 0x47 for i in range(min(len(head) // packet, 5))
        ):
            return True
    return False


def check_video_file(staged: IO[bytes]) -> None:
    staged.seek(0)
    head = staged.read(SNIFF_BYTES)
    staged.seek(0, os.SEEK_END)
    if not head:
        raise ApiError(400, "The file is empty.")
    if container_of(head) is None:
        raise ApiError(
            415,
            "This file is not a video Conveyor accepts. Upload MP4, MOV, 3GP, Matroska, WebM, AVI, "
            "MPEG-TS, MPEG-PS, FLV or Ogg.",
        )


def clean_text(value: str | None, limit: int, field: str) -> str:
    """Printable text only, trimmed; refuse what is too long rather than cut it silently."""
    value = _bounded(value, limit, field)
    return "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")


def _bounded(value: str | None, limit: int, field: str) -> str:
    """Trimmed text, or a 400 when it is too long or holds a NUL byte."""
    value = (value or "").strip()
    if len(value) > limit:
        raise ApiError(400, f"`{field}` is longer than {limit} characters.")
    if "\x00" in value:
        raise ApiError(400, f"`{field}` contains a NUL byte.")
    return value


BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # make text read backwards


def clean_filename(name: str | None) -> str:
    """The name to show for an upload (never used as a path): a file's bare name, or a 400 that says why not."""
    name = _bounded(name, MAX_FILENAME, "filename")
    if "/" in name or "\\" in name:
        raise ApiError(400, "`filename` must be a file's name without folders: no `/` or `\\`.")
    if name in (".", ".."):
        raise ApiError(400, "`filename` must be a file's name, not `.` or `..`.")
    if any(unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS for ch in name):
        raise ApiError(400, "`filename` contains control characters.")
    return name


def check_callback_url(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > MAX_URL:
        raise ApiError(400, f"`callback_url` is longer than {MAX_URL} characters.")
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ApiError(400, "`callback_url` must be an http:// or https:// URL.")
    if parsed.username is not None or parsed.password is not None:
        raise ApiError(400, "`callback_url` must not hold a user name or password; put a token in its path or query.")
    return value
