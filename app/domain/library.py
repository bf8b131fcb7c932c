"""A user's library: their videos, newest first, found by a part of the title, a page at a time."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.orm import selectinload

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
