"""Decoded work: what a video costs the workers, in hours of 1080p at 30 fps (picture size x frame rate
x length; a frame smaller than 360p counts as one of 360p: a conversion's cost per frame does not
shrink below that), and how long a whole video's run may take for it. The budgets that use it are in
app/domain/quotas.py; RQ's ceilings (app/domain/dispatch.py) too."""

from __future__ import annotations

from app.domain.models import Video
from media.probe import MediaInfo

REFERENCE_RATE = 1920 * 1080 * 30  # pixels a second of 1080p30 decodes
REFERENCE_FPS = 30
MIN_FRAME_PIXELS = 640 * 360


def frame_pixels(width: int, height: int) -> int:
    return max(width * height, MIN_FRAME_PIXELS)


def work_hours(info: MediaInfo) -> float:
    """The decoding a video costs, in hours of 1080p30."""
    rate = info.frame_rate or (info.frames / info.duration if info.frames and info.duration else REFERENCE_FPS)
    return frame_pixels(info.width, info.height) * rate * info.duration / REFERENCE_RATE / 3600


def stored_work_hours(video: Video) -> float:
    """An earlier video's work from what the database keeps of it (at 30 fps): 0 when it never got probed."""
    if not (video.width and video.height and video.duration):
        return 0.0
    return frame_pixels(video.width, video.height) * REFERENCE_FPS * video.duration / REFERENCE_RATE / 3600


def timeout_seconds(cfg, hours: float) -> float:
    """How long a whole video's run may take: CONVERT_TIMEOUT_BASE plus CONVERT_TIMEOUT_WORK_FACTOR
    seconds per second of 1080p30 it decodes; within the budget, never more than the budget allows."""
    limit = cfg["MAX_VIDEO_WORK_HOURS"]
    hours = min(hours, limit) if limit else hours
    return cfg["CONVERT_TIMEOUT_BASE"] + cfg["CONVERT_TIMEOUT_WORK_FACTOR"] * hours * 3600


def whole_job_timeout(cfg) -> int | None:
    """RQ's ceiling for a whole video's job, before it is probed: its run's longest timeout, and as long
    again for probing, publishing and the downloads; None without a budget (then the length decides)."""
    limit = cfg["MAX_VIDEO_WORK_HOURS"]
    return round(2 * timeout_seconds(cfg, limit) + 300) if limit else None
