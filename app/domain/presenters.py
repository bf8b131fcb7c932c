"""The one place that decides what the API shows of a video."""

from __future__ import annotations

import json

from app.domain import captions, streams
from app.domain.models import Caption, Delivery, Video
from app.domain.states import State
from app.platform.links import media_url, stream_url
from app.platform.storage import get_storage

# what an attempt's code is, by the kind of delivery
CODE_FIELDS = {"callback": "http_status", "email": "smtp_code"}


def iso(moment) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def video_json(video: Video, live: float | None = None) -> dict:
    """The video as the contract has it; `live` is the running job's progress, if known."""
    state = State(video.state)
    status = 1.0 if state is State.READY else min(max(video.status or 0.0, live or 0.0), 0.99)
    body = {
        "id": video.id,
        "title": video.title,
        "filename": video.filename,
        "state": state.value,
        "status": round(status, 4),
        "created_at": iso(video.created_at),
        "duration": video.duration,
        "width": video.width,
        "height": video.height,
        "size": video.size,
        "codecs": {"video": video.video_codec, "audio": video.audio_codec} if video.video_codec else None,
        "playable": False,
        "playback_url": None,
        "renditions": [],
        "poster_url": None,
        "storyboard_url": None,
        "normalize_loudness": video.normalize_loudness,
        "notes": json.loads(video.notes) if video.notes else [],
    }
    body["captions"] = [caption_json(c, streams.viewable(video)) for c in video.captions]
    if streams.viewable(video):
        body["playable"] = True
        body["playback_url"] = stream_url(video.id, streams.MASTER)
        body["poster_url"] = media_url(video.poster_key) if video.poster_key else None
    if state is State.READY:
        body["renditions"] = [
            {"name": r.name, "width": r.width, "height": r.height, "size": r.size, "url": media_url(r.key)}
            for r in video.renditions
        ]
        body["poster_url"] = media_url(video.poster_key) if video.poster_key else None
        if video.playable:  # published with the stream, before ready
            body["storyboard_url"] = stream_url(video.id, streams.STORYBOARD)
        largest = video.largest_rendition
        body["result_uri"] = get_storage().uri(largest.key) if largest else None
    if state in (State.FAILED, State.REJECTED):
        body["error"] = video.error or "The conversion failed."
    body["can_retry"] = state is State.FAILED and video.retryable  # POST /api/videos/<id>/retry
    body["deliveries"] = [delivery_json(d) for d in video.deliveries]
    return body


def caption_json(caption: Caption, viewable: bool) -> dict:
    """A caption track of the video: its WebVTT, once the stream can be watched."""
    return {
        "id": caption.id,
        "language": caption.language or None,
        "label": caption.label,
        "source": caption.source,
        "default": caption.default,
        "forced": caption.forced,
        "cues": caption.cues,
        "url": stream_url(caption.video_id, captions.stream_name(caption, "vtt")) if viewable else None,
    }


def delivery_json(delivery: Delivery) -> dict:
    """A callback or e-mail about the video, with every attempt made so far."""
    code = CODE_FIELDS.get(delivery.kind, "code")
    return {
        "id": delivery.id,
        "kind": delivery.kind,
        "event": delivery.event,
        "target": delivery.target,
        "status": delivery.status,
        "attempt_count": delivery.attempts,
        "attempts": [{"at": iso(a.at), code: a.code, "error": a.error} for a in delivery.log],
        "next_attempt_at": iso(delivery.next_attempt_at),
    }
