"""Ingest: the three ways a video is made (a multipart upload, a direct upload to the bucket, a file
given to the command line), each checked the same way and started through the video service.

Every check raises `Refused` with a message the uploader can act on, whichever way the file came.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path, PurePosixPath
from typing import IO

from sqlalchemy.exc import IntegrityError

from app.domain import callback_urls, plan, videos
from app.domain.errors import Refused
from app.domain.models import User, Video
from app.extensions import db
from app.platform.storage import get_storage

SNIFF_BYTES = 4096
MAX_TITLE = 200
MAX_FILENAME = 255
_UPLOAD_KEY = re.compile(r"^uploads/(\d+)/[A-Za-z0-9_-]{16,64}$")
NOT_A_VIDEO = (
    "This file is not a video Conveyor accepts. Upload MP4, MOV, 3GP, Matroska, WebM, AVI, MPEG-TS, MPEG-PS, "
    "FLV or Ogg."
)


class Replayed(Exception):
    """The same Idempotency-Key came again: `video` is what the first request made."""

    def __init__(self, video: Video):
        super().__init__(video.id)
        self.video = video


def from_staged(
    owner: User, staged: IO[bytes], *, filename: str | None, title: str | None, callback_url: str | None,
    idempotency_key: str | None = None, normalize_loudness: bool = False,
) -> Video:
    """A multipart upload, already streamed to a staging file of the storage."""
    filename = clean_filename(filename)
    video = _new(owner, filename, title, callback_url, idempotency_key)
    video.normalize_loudness = normalize_loudness
    check_video_file(staged)
    _add(video, idempotency_key)
    video.size = get_storage().save_staged(video.source_key, staged)
    return _started(video)


def from_direct_upload(
    owner: User, upload_key: object, *, filename: str | None, title: str | None, callback_url: str | None,
    idempotency_key: str | None = None, normalize_loudness: bool = False,
) -> Video:
    """An object the owner posted straight to the bucket with a form from `POST /api/uploads`."""
    storage = direct_upload_storage()
    match = _UPLOAD_KEY.fullmatch(upload_key) if isinstance(upload_key, str) else None
    if match is None or int(match.group(1)) != owner.id:
        raise Refused(400, "`upload_key` is not an upload of yours; ask POST /api/uploads for one.")
    size = storage.size(upload_key)
    if size is None:
        raise Refused(400, "Nothing was uploaded under `upload_key` (or it expired); upload the file first.")
    if size == 0:
        raise Refused(400, "The file is empty.")
    if container_of(storage.head(upload_key, SNIFF_BYTES)) is None:
        storage.delete(upload_key)
        raise Refused(415, "This file is not a video Conveyor accepts.")
    video = _new(owner, clean_filename(filename), title, callback_url, idempotency_key)
    video.normalize_loudness = normalize_loudness
    video.size = size
    _add(video, idempotency_key)
    storage.move(upload_key, video.source_key)
    return _started(video)


def from_file(owner: User, path: Path, *, title: str | None = None, normalize_loudness: bool = False) -> Video:
    """A local file, given to `flask --app app videos convert`."""
    with path.open("rb") as source:
        if container_of(source.read(SNIFF_BYTES)) is None:
            raise Refused(415, f"{path} is not a video in a container Conveyor accepts")
        source.seek(0)
        video = _new(owner, path.name[:MAX_FILENAME], (title or path.stem)[:MAX_TITLE], None, None)
        video.normalize_loudness = normalize_loudness
        _add(video, None)
        storage = get_storage()
        with storage.staging_file() as staged:
            shutil.copyfileobj(source, staged, 1024 * 1024)
            video.size = storage.save_staged(video.source_key, staged)
    return _started(video)


def direct_upload_storage():
    """The storage, when it takes uploads straight from clients (S3); else a 400 that says what to do."""
    storage = get_storage()
    if not hasattr(storage, "presigned_upload"):
        raise Refused(
            400, "Direct uploads need S3 storage (STORAGE_URL=s3://...); send the file to POST /api/videos instead."
        )
    return storage


def earlier_upload(user_id: int, key: str) -> Video | None:
    """The video this user's earlier request with the same Idempotency-Key made, if any."""
    return db.session.scalar(db.select(Video).filter_by(user_id=user_id, idempotency_key=key))


def _new(owner: User, filename: str, title: str | None, callback_url: str | None, key: str | None) -> Video:
    title = clean_text(title, MAX_TITLE, "title") or PurePosixPath(filename).stem[:MAX_TITLE]
    return Video(
        user_id=owner.id, title=title, filename=filename, callback_url=callback_urls.check(callback_url),
        idempotency_key=key,
    )


def _add(video: Video, idempotency_key: str | None) -> None:
    """Give the video its id and plan; a concurrent request with the same key that won is a replay."""
    db.session.add(video)
    plan.make_plan(video)
    try:
        db.session.flush()
    except IntegrityError:  # the same key, at the same moment, in another request that won
        db.session.rollback()
        earlier = earlier_upload(video.user_id, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        raise Replayed(earlier) from None


def _started(video: Video) -> Video:
    db.session.commit()
    videos.start(video)
    return video


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
        raise Refused(400, "The file is empty.")
    if container_of(head) is None:
        raise Refused(415, NOT_A_VIDEO)


def clean_text(value: str | None, limit: int, field: str) -> str:
    """Printable text only, trimmed; refuse what is too long rather than cut it silently."""
    value = _bounded(value, limit, field)
    return "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")


def _bounded(value: str | None, limit: int, field: str) -> str:
    """Trimmed text, or a 400 when it is too long or holds a NUL byte."""
    value = (value or "").strip()
    if len(value) > limit:
        raise Refused(400, f"`{field}` is longer than {limit} characters.")
    if "\x00" in value:
        raise Refused(400, f"`{field}` contains a NUL byte.")
    return value


# what makes text read backwards or in another order (embeddings, overrides, isolates, marks)
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# what shows nothing at all: a name that looks like another. The joiners U+200C and U+200D stay: scripts
# (Persian, the Indic ones) and emoji sequences need them
INVISIBLE = frozenset("\u180e\u200b\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f"
                      "\ufeff\ufff9\ufffa\ufffb")


def clean_filename(name: str | None) -> str:
    """The name to show for an upload (never used as a path): a file's bare name, or a 400 that says why not."""
    name = _bounded(name, MAX_FILENAME, "filename")
    if "/" in name or "\\" in name:
        raise Refused(400, "`filename` must be a file's name without folders: no `/` or `\\`.")
    if name in (".", ".."):
        raise Refused(400, "`filename` must be a file's name, not `.` or `..`.")
    if any(unicodedata.category(ch) == "Cc" or ch in BIDI_CONTROLS or ch in INVISIBLE for ch in name):
        raise Refused(400, "`filename` contains control characters (or invisible or text-direction marks).")
    return name
