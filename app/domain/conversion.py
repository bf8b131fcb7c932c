"""Converting a work item that is the whole video: the engine run with the app's settings, the
content check on its samples, then every output published and the video `ready`, or nothing kept."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from app.domain import content, plan, videos
from app.domain.errors import Cancelled
from app.domain.models import Rendition, Video, WorkItem
from app.domain.states import State
from app.extensions import db
from app.platform.storage import get_storage
from media import command, ladder, probe, runner
from media.errors import BadMedia
from media.outputs import EncodeSettings, FrameSamples, Mp4Rendition, Poster

log = logging.getLogger(__name__)

PROBED, TRANSCODED = 0.02, 0.95  # of an item's own progress


@dataclass(frozen=True)
class EngineSettings:
    """What the engine is given, read once from the app's settings."""

    limits: probe.Limits
    encode: EncodeSettings
    heights: list[int]
    poster_at: float
    timeout_base: float
    timeout_factor: float
    stall_seconds: float

    @classmethod
    def of(cls, cfg) -> EngineSettings:
        return cls(
            limits=probe.Limits(
                max_duration=cfg["MAX_DURATION_SECONDS"], max_width=cfg["MAX_WIDTH"], max_height=cfg["MAX_HEIGHT"],
                max_pixels=cfg["MAX_PIXELS"], max_frame_rate=cfg["MAX_FRAME_RATE"], max_streams=cfg["MAX_STREAMS"],
                memory_mb=cfg["FFMPEG_MEMORY_MB"],
            ),
            encode=EncodeSettings(preset=cfg["X264_PRESET"]),
            heights=cfg["RENDITIONS"],
            poster_at=cfg["POSTER_AT_SECONDS"],
            timeout_base=cfg["CONVERT_TIMEOUT_BASE"],
            timeout_factor=cfg["CONVERT_TIMEOUT_FACTOR"],
            stall_seconds=cfg["FFMPEG_STALL_SECONDS"],
        )

    def run_limits(self, duration: float) -> runner.RunLimits:
        return runner.RunLimits(
            self.timeout_base + duration * self.timeout_factor, self.stall_seconds, self.limits.memory_mb
        )


def convert_whole(video: Video, item: WorkItem, progress, check: Callable[[], None]) -> None:
    """Make every rendition, the poster and the content check's samples in one decode, then publish.

    `progress` is the job's Progress (0..1 of this item); `check` raises to stop (cancel, shutdown).
    """
    settings = EngineSettings.of(current_app.config)
    with tempfile.TemporaryDirectory(prefix="conveyor-") as workdir:
        work = Path(workdir)
        with get_storage().local_copy(video.source_key, work) as source:
            info = probe.probe(source, settings.limits)
            video.duration, video.width, video.height = info.duration, info.width, info.height
            db.session.commit()
            progress.update(PROBED, force=True)
            rungs = ladder.plan(info, settings.heights)
            renditions = [Mp4Rendition(rung, work / f"{rung.name}.mp4", settings.encode) for rung in rungs]
            poster = Poster.of(info, rungs[-1], work / "poster.jpg", settings.poster_at)
            samples = FrameSamples(work / "frames.gray") if content.wanted(video) else None
            outputs = [*renditions, poster, *([samples] if samples else [])]
            runner.run(
                command.build(source, info, outputs), info.duration, progress.stage(PROBED, TRANSCODED), check,
                settings.run_limits(info.duration),
            )
        if samples is not None and _rejected(video, samples.path):
            return  # nothing of it is stored
        _publish(video, item, renditions, poster, progress)


def _rejected(video: Video, frames: Path) -> bool:
    """Match the sampled frames against the blocklist; a match ends the video `rejected`."""
    match = content.screen(video, frames)  # added to the session: written with the state, or not at all
    if match is None:
        return False
    log.warning("video %s matched blocklist entry %s at %.1f s", video.id, match.entry_id, match.at_seconds)
    if not videos.move(video, State.REJECTED, error=content.REJECTED_MESSAGE):
        raise Cancelled()  # deleted or cancelled meanwhile
    return True


def _publish(video: Video, item: WorkItem, renditions: list[Mp4Rendition], poster: Poster, progress) -> None:
    """Store every output, then flip the video to `ready` in one commit; or take them back."""
    storage = get_storage()
    published: list[Rendition] = []
    publish_step = progress.stage(TRANSCODED, 1.0)
    for index, output in enumerate(renditions):
        if not output.path.is_file():
            raise BadMedia("ffmpeg produced no output; the file may hold no decodable picture.")
        key = f"{video.prefix}{output.rung.name}.mp4"
        size = storage.put_file(key, output.path)
        published.append(
            Rendition(name=output.rung.name, width=output.rung.width, height=output.rung.height, size=size, key=key)
        )
        publish_step((index + 1) / (len(renditions) + 1))
    poster_key = None
    if poster.path.is_file():
        poster_key = f"{video.prefix}poster.jpg"
        storage.put_file(poster_key, poster.path)
    keys = [r.key for r in published] + ([poster_key] if poster_key else [])
    progress.update(1.0, force=True)  # before the outputs join the session: its mirror commits
    video.renditions = published
    video.poster_key = poster_key
    plan.finish_item(item)
    if _cancel_flagged(video.id) or not videos.move(video, State.READY):
        _take_back(video.id, keys)  # cancelled or deleted while publishing
        raise Cancelled()


def _take_back(video_id: str, keys: list[str]) -> None:
    db.session.rollback()
    storage = get_storage()
    for key in keys:
        storage.delete(key)
    if db.session.get(Video, video_id) is None:
        storage.delete_prefix(f"videos/{video_id}/")


def _cancel_flagged(video_id: str) -> bool:
    try:
        return plan.cancel_requested(video_id)
    except Exception:  # noqa: BLE001  (Redis away: keep going; the database has the final word)
        return False
