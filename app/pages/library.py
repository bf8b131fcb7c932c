"""My videos: the user's own videos, newest first, a page at a time, found by a part of the title."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.domain import library
from app.domain.presenters import video_json
from app.domain.videos import NotRetryable, retry
from app.pages.blueprint import blueprint
from app.pages.videos import owned_video

PAGE_SIZE = 24
MAX_QUERY = 200  # a title is at most 200 characters: a longer part of one finds nothing
MAX_PAGE = 1_000_000  # past any real list: what a typed page number is cut down to before the query


@dataclass(frozen=True)
class Paging:
    """Where a page is in the list: its number, how many there are, and which videos it shows."""

    number: int
    size: int
    total: int

    @property
    def count(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:  # the position of its first video, counted from 1
        return self.offset + 1

    def last(self, shown: int) -> int:
        return self.offset + shown


def page_number(raw: str | None) -> int:
    """`?page=`: a whole number from 1; anything else (empty, words, 0, negative) is the first page."""
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return number if number >= 1 else 1


@blueprint.get("/videos")
@login_required
def videos():
    query = request.args.get("q", "").strip()[:MAX_QUERY] or None
    asked = min(page_number(request.args.get("page")), MAX_PAGE)
    found, total = library.find(current_user.id, query=query, limit=PAGE_SIZE, offset=(asked - 1) * PAGE_SIZE)
    paging = Paging(asked, PAGE_SIZE, total)
    if asked > paging.count:  # a page that no longer exists (videos deleted meanwhile, or a typed URL): the last
        paging = Paging(paging.count, PAGE_SIZE, total)
        found, total = library.find(current_user.id, query=query, limit=PAGE_SIZE, offset=paging.offset)
    return render_template(
        "videos.html",
        videos=[video_json(v) for v in found],
        query=query or "",
        paging=paging,
        missing_page=asked if asked != paging.number and total else None,
        clock=clock,
        readable_time=readable_time,
    )


@blueprint.post("/videos/<video_id>/retry")
@login_required
def convert_again(video_id: str):
    """Convert again without the page's script (the form's CSRF token is checked by CSRFProtect); with it,
    videos.js calls the API instead and the card follows the video live. Back to the same list page."""
    video = owned_video(video_id)
    try:
        retry(video)
    except NotRetryable as refused:
        flash(str(refused), "error")
    else:
        flash(f"“{video.title or video.filename}” is being converted again.", "info")
    back = {key: request.form.get(key) or None for key in ("q", "page")}
    return redirect(url_for("pages.videos", **back), 303)


def clock(seconds: float | None) -> str:
    """75 -> "1:15", 3725 -> "1:02:05": as Conveyor.clock writes it, for the page before its script runs."""
    if not seconds:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def readable_time(iso: str | None) -> str:
    """ "2026-03-12T10:04:00Z" -> "12 Mar 2026, 10:04 UTC"; the script says it in the reader's own time."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.removesuffix("Z"))
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"
