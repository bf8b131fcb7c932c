"""The content check: match a video's sampled frames against the blocklist; release false positives.

Frames are hashed in `media/fingerprint.py`; the blocklist is managed in `app/domain/blocklist.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import current_app

from app.domain import videos
from app.domain.models import BlocklistHash, ContentMatch, User, Video, utcnow
from app.domain.states import State
from app.extensions import db

if TYPE_CHECKING:  # numpy costs every web process 16 MiB; only jobs and commands load it
    import numpy as np


# all the uploader is told: nothing about what matched, so the list can't be probed
REJECTED_MESSAGE = "This video can't be published."


@dataclass(frozen=True)
class Blocklist:
    """Every listed hash, ready to compare: `words` (M, 4) uint64, with the row each came from."""

    words: np.ndarray
    hash_ids: np.ndarray
    entry_ids: np.ndarray

    def __len__(self) -> int:
        return len(self.words)


def blocklist_is_empty() -> bool:
    return db.session.execute(db.select(BlocklistHash.id).limit(1)).first() is None


def released(video_id: str) -> bool:
    """Whether an admin let this video through after a match."""
    query = db.select(ContentMatch.id).where(ContentMatch.video_id == video_id, ContentMatch.released_at.is_not(None))
    return db.session.execute(query.limit(1)).first() is not None


def wanted(video: Video) -> bool:
    """Check this video? Not when switched off, with nothing listed, or once released by an admin."""
    return bool(current_app.config["CONTENT_CHECK"]) and not blocklist_is_empty() and not released(video.id)


def load_blocklist() -> Blocklist:
    import numpy as np

    from media import fingerprint

    rows = db.session.execute(db.select(BlocklistHash.id, BlocklistHash.entry_id, BlocklistHash.hash)).all()
    words = fingerprint.from_hex_many([row.hash for row in rows])
    return Blocklist(words, np.array([r.id for r in rows]), np.array([r.entry_id for r in rows]))


class Matched(Exception):
    """A sampled frame matched the blocklist: the conversion stops; the match is in the session."""

    def __init__(self, match: ContentMatch):
        super().__init__(f"matched blocklist entry {match.entry_id}")
        self.match = match


class Screening:
    """The content check of one conversion, as its sampled frames come: each call hashes the frames
    written since the last and matches them, so what has been checked can be shown while the rest is
    still being encoded (app/domain/publishing.py)."""

    def __init__(self, video: Video, frames: Path, offset: float = 0.0):
        self.video = video
        self.frames = frames
        self.offset = offset  # where the frames start in the video, s: a chunk's start
        self.listed = load_blocklist()
        self.limit = current_app.config["CONTENT_MATCH_DISTANCE"]
        self.checked = 0  # frames hashed and matched so far

    def advance(self, final: bool = False) -> float:
        """Check the frames written since the last call; the seconds of video checked from the start
        (all of it when `final`, once ffmpeg has ended). Raises Matched."""
        from media import fingerprint

        written = fingerprint.frames_in(self.frames)
        if written > self.checked and len(self.listed):
            for hashes in fingerprint.hash_file_of_frames(self.frames, self.checked, written):
                match = self._match(hashes)
                if match is not None:
                    db.session.add(match)  # written with the state, or not at all
                    raise Matched(match)
        self.checked = max(self.checked, written)
        return math.inf if final else self.checked / fingerprint.FRAMES_PER_SECOND

    def _match(self, hashes) -> ContentMatch | None:
        from media import fingerprint

        found = fingerprint.closest(hashes, self.listed.words)
        if found is None or found.distance > self.limit:
            return None
        return ContentMatch(
            video_id=self.video.id,
            entry_id=int(self.listed.entry_ids[found.listed]),
            entry_hash=fingerprint.to_hex(self.listed.words[found.listed]),
            frame_hash=fingerprint.to_hex(found.words),
            distance=found.distance,
            at_seconds=self.offset + float(hashes.seconds[found.frame]),
            mirrored=found.mirrored,
        )


def screen(video: Video, frames: Path) -> ContentMatch | None:
    """The first match of all the sampled frames within CONTENT_MATCH_DISTANCE, added to the session; or None."""
    try:
        Screening(video, frames).advance(final=True)
    except Matched as found:
        return found.match
    return None


def pending_review(limit: int = 200) -> list[ContentMatch]:
    """Matches of videos still rejected, newest first."""
    return list(
        db.session.scalars(
            db.select(ContentMatch)
            .join(Video)
            .where(Video.state == State.REJECTED.value, ContentMatch.released_at.is_(None))
            .order_by(ContentMatch.matched_at.desc(), ContentMatch.id.desc())
            .limit(limit)
        )
    )


def recently_released(limit: int = 20) -> list[ContentMatch]:
    return list(
        db.session.scalars(
            db.select(ContentMatch)
            .where(ContentMatch.released_at.is_not(None))
            .order_by(ContentMatch.released_at.desc(), ContentMatch.id.desc())
            .limit(limit)
        )
    )


class NotRejected(Exception):
    """The video is not (or no longer) rejected: there is nothing to release."""


def release(video_id: str, admin: User) -> Video:
    """Let a rejected video through: convert it again, without the check, and publish it.

    Nothing of a rejected video was kept but its source, so it is converted once more.
    """
    video = db.session.get(Video, video_id)
    if video is None or video.state != State.REJECTED.value:
        raise NotRejected()
    now = utcnow()
    for match in video.content_matches:
        if match.released_at is None:
            match.released_at, match.released_by_id = now, admin.id
    db.session.commit()
    videos.convert_again(video)
    return video
