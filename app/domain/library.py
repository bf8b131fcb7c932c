"""A user's library: their videos, newest first, found by a part of the title, a page at a time; and
their titles, changed."""

from __future__ import annotations

from pathlib import PurePosixPath

from sqlalchemy import func
from sqlalchemy.orm import selectinload

from app.domain import videos
from app.domain.ingest import MAX_TITLE, clean_text
from app.domain.models import Video
from app.extensions import db

ESCAPE = "\\"


def find(user_id: int, *, query: str | None = None, limit: int, offset: int = 0) -> tuple[list[Video], int]:
    """One page of the user's videos whose title holds `query` (any case), newest first, and how many
    match in all. What the video's JSON shows is loaded with it: a page is a few queries, not a few
    per video."""
    where = [Video.user_id == user_id]
    if query:
        where.append(Video.title.ilike(f"%{as_text(query)}%", escape=ESCAPE))
    total = db.session.scalar(db.select(func.count()).select_from(Video).where(*where))
    videos = db.session.scalars(
        db.select(Video)
        .where(*where)
        .options(selectinload(Video.renditions), selectinload(Video.deliveries), selectinload(Video.captions))
        .order_by(Video.created_at.desc(), Video.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(videos), total


def as_text(query: str) -> str:
    """The query matched as it is typed: LIKE's wildcards (`%`, `_`) and its escape are plain characters."""
    return query.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def rename(video: Video, title: str | None) -> None:
    """A new title, cleaned as an upload's is; none (or blanks) is the file's name without its extension,
    as at upload. Pages watching the video are told; its state is not touched: a rename is no move."""
    video.title = clean_text(title, MAX_TITLE, "title") or PurePosixPath(video.filename).stem[:MAX_TITLE]
    db.session.commit()
    videos.announce(video, renamed=True)  # the title itself stays out of Redis: listeners read it afresh
