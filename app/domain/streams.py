"""A video's published stream as storage and the web see it: which files it has, under which keys,
and the two changes it goes through outside the conversion: it becomes playable, it is withdrawn.

The engine names the files (media/hls.py, media/storyboard.py); `tests/unit/domain/test_streams.py`
holds these names to the engine's. They are repeated here so the web can check a requested name
without loading the engine.
"""

from __future__ import annotations

import logging
import re

from app.domain.models import Video
from app.domain.states import State
from app.extensions import db
from app.platform import queueing
from app.platform.storage import StorageError, get_storage

log = logging.getLogger(__name__)

MASTER = "master.m3u8"
PLAYLIST = "index.m3u8"
STORYBOARD_FOLDER = "storyboard"
STORYBOARD = f"{STORYBOARD_FOLDER}/storyboard.vtt"
POSTER = "poster.jpg"  # while processing; at ready the poster is stored beside the downloads
SUBTITLES_FOLDER = "subtitles"  # a caption's cues and its media playlist: `subtitles/c12.vtt`, `.m3u8`
# every name a stream has: the master; per rung (`720p`) and the audio, a playlist, an init segment and
# numbered segments; the storyboard's cues and sheets; the captions'. Nothing else is served, whatever
# is stored.
NAMES = re.compile(
    r"master\.m3u8"
    r"|(?!storyboard/|subtitles/)[a-z0-9]{1,16}/(index\.m3u8|init\.mp4|seg_[0-9]{5,9}\.m4s)"
    r"|storyboard/(storyboard\.vtt|sprite_[0-9]{3,6}\.jpg)"
    r"|subtitles/c[0-9]{1,12}\.(vtt|m3u8)"
)
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mp4": "video/mp4",
    ".m4s": "video/iso.segment",
    ".vtt": "text/vtt",
    ".jpg": "image/jpeg",
}
LISTS = (".m3u8", ".vtt")  # files that name other files of the stream


def is_name(name: str) -> bool:
    return NAMES.fullmatch(name) is not None


def prefix(video_id: str) -> str:
    return f"videos/{video_id}/stream/"


def key(video_id: str, name: str) -> str:
    return prefix(video_id) + name


def content_type(name: str) -> str:
    return CONTENT_TYPES[name[name.rindex(".") :]]


def viewable(video: Video) -> bool:
    """Watchable now: its stream is published and the video is on its way to ready, or there."""
    return video.playable and State(video.state) in (State.QUEUED, State.PROCESSING, State.READY)


def mark_playable(video: Video, poster_key: str | None = None) -> bool:
    """Every rung has its first segments: say so, once, while the video is still processing; with the
    poster, when it was published with them."""
    changed = db.session.execute(
        db.update(Video)
        .where(Video.id == video.id, Video.state == State.PROCESSING.value, Video.playable.is_(False))
        .values(playable=True, **({"poster_key": poster_key} if poster_key else {}))
    ).rowcount
    db.session.commit()
    if changed:
        db.session.refresh(video)
        log.info("video %s playable", video.id)
        queueing.publish_change(queueing.get_redis(), video.id, video.state, video.status, playable=True)
    return bool(changed)


def work_prefix(video_id: str) -> str:
    """Where a long video's chunks leave what the finish needs (thumbnails, the poster): never served."""
    return f"videos/{video_id}/work/"


def withdraw(video_id: str) -> None:
    """Take back everything the stream published, and the chunks' work files; the whole folder when
    the video itself is gone.

    Best effort: storage that is away leaves files behind, which a later withdraw (or delete) removes.
    """
    storage = get_storage()
    gone = db.session.get(Video, video_id) is None
    try:
        if gone:
            storage.delete_prefix(f"videos/{video_id}/")
        else:
            storage.delete_prefix(prefix(video_id))
            storage.delete_prefix(work_prefix(video_id))
    except (StorageError, OSError) as exc:
        log.warning("video %s: published files not all removed (%s)", video_id, exc)
