"""`GET /api/videos/<id>/events`: the video JSON as server-sent events, on every change.

The current state goes first, so a late subscriber is never stuck; then one event per change the
worker publishes (fed by Redis pub/sub through `app.live`, so an open tab does not poll the
database); a comment at least every `EVENTS_KEEPALIVE_SECONDS` (15) so that routers keep an idle
stream open; the stream ends after a final state. Progress messages update `status` in place; a
change of state (or of the title) reads the database once for the rest (renditions, poster, error).
"""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator

from flask import Response, current_app, stream_with_context

from app.api.blueprint import blueprint
from app.api.videos import own_video
from app.auth import token_required
from app.domain import dispatch
from app.domain.models import Video
from app.domain.presenters import video_json
from app.domain.states import State
from app.errors import ApiError
from app.extensions import db
from app.live import RESYNC, Full, Hub, get_hub

KEEPALIVE_SECONDS = 15
RETRY_MS = 3000


@blueprint.get("/videos/<video_id>/events")
@token_required
def events(video_id: str):
    video_id = own_video(video_id).id
    hub = get_hub()
    try:
        inbox = hub.watch(video_id)  # before reading, so that no change falls between the two
    except Full as exc:
        raise ApiError(503, "Too many live streams are open; poll GET /api/videos/<id> instead.") from exc
    try:
        body = _read(video_id)
    except BaseException:
        hub.unwatch(video_id, inbox)
        raise
    keepalive = current_app.config.get("EVENTS_KEEPALIVE_SECONDS", KEEPALIVE_SECONDS)
    stream = _stream(hub, video_id, body, inbox, keepalive)
    response = Response(stream_with_context(stream), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # proxies that buffer would hold events back
    return response


def _stream(hub: Hub, video_id: str, body: dict | None, inbox: queue.SimpleQueue, keepalive: float) -> Iterator[str]:
    try:
        yield f"retry: {RETRY_MS}\n\n"
        if body is None:
            return
        yield _event(body)
        written = time.monotonic()
        while not State(body["state"]).is_final:
            try:
                change = inbox.get(timeout=max(0.0, written + keepalive - time.monotonic()))
            except queue.Empty:
                change = None
            if change is not None:
                updated = _apply(video_id, body, change)
                if updated is None:
                    return  # deleted meanwhile
                if updated != body:
                    body = updated
                    yield _event(body)
                    written = time.monotonic()
            if time.monotonic() - written >= keepalive:
                yield ": keep-alive\n\n"
                written = time.monotonic()
    finally:
        hub.unwatch(video_id, inbox)


def _apply(video_id: str, body: dict, change: dict) -> dict | None:
    """The body after a change: progress in place; anything else from the database."""
    moved = change is RESYNC or change.get("state") != body["state"] or change.get("renamed")
    if moved or change.get("playable", body["playable"]) != body["playable"]:  # or the stream became watchable
        return _read(video_id)
    try:
        status = float(change.get("status") or 0.0)
    except (TypeError, ValueError):
        return body
    return {**body, "status": round(min(max(body["status"], status), 0.99), 4)}


def _read(video_id: str) -> dict | None:
    """The video as the API shows it, or None once deleted; the database connection goes back at once."""
    try:
        video = db.session.get(Video, video_id, populate_existing=True)
        return video_json(video, dispatch.running_progress(video)) if video is not None else None
    finally:
        db.session.close()  # a stream may stay open for hours: it must not hold a pooled connection


def _event(body: dict) -> str:
    return f"data: {json.dumps(body, separators=(',', ':'))}\n\n"
