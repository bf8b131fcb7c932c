"""Converting a work item that is the whole video: the engine run with the app's settings, the
stream published as the content check passes it (app/domain/publishing.py), then the downloads,
the storyboard and the poster, and the video `ready`; or, on a match, nothing kept."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from app.domain import content, plan, streams, videos
from app.domain.errors import Cancelled
from app.domain.models import Rendition, Video, WorkItem
from app.domain.publishing import Publisher
from app.domain.states import State
from app.extensions import db
from app.platform.storage import get_storage
from media import command, ladder, probe, remux, runner, storyboard
from media.hls import HlsLadder
from media.ladder import Rung
from media.outputs import EncodeSettings, FrameSamples, Output, Poster, Storyboard

log = logging.getLogger(__name__)

PROBED, ENCODED, PACKAGED = 0.02, 0.93, 0.96  # of an item's own progress


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
                max_duration=cfg["MAX_DURATION_SECONDS"],
                max_width=cfg["MAX_WIDTH"],
                max_height=cfg["MAX_HEIGHT"],
                max_pixels=cfg["MAX_PIXELS"],
                max_frame_rate=cfg["MAX_FRAME_RATE"],
                max_streams=cfg["MAX_STREAMS"],
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


@dataclass(frozen=True)
class Outputs:
    """Everything one decode makes: the HLS ladder, the storyboard's thumbnails, the poster, and the
    content check's samples when the video is checked."""

    hls: HlsLadder
    storyboard: Storyboard
    poster: Poster
    samples: FrameSamples | None

    @classmethod
    def plan(cls, info: probe.MediaInfo, work: Path, settings: EngineSettings, checked: bool) -> Outputs:
        rungs = ladder.plan(info, settings.heights)
        return cls(
            HlsLadder.plan(info, rungs, work / "stream", settings.encode),
            Storyboard.of(info, work / "storyboard.yuv"),
            Poster.of(info, rungs[-1], work / "poster.jpg", settings.poster_at),
            FrameSamples(work / "frames.gray") if checked else None,
        )

    @property
    def all(self) -> list[Output]:
        return [*self.hls.outputs, self.storyboard, self.poster, *([self.samples] if self.samples else [])]


def convert_whole(video: Video, item: WorkItem, progress, check: Callable[[], None]) -> None:
    """Make the HLS ladder, the storyboard, the poster and the content check's samples in one decode,
    publishing the stream as it comes; then the MP4 downloads from the same segments, and `ready`.

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
            made = Outputs.plan(info, work, settings, checked=content.wanted(video))
            screening = content.Screening(video, made.samples.path) if made.samples else None
            publisher = Publisher(video, made.hls, screening, made.poster)

            def between() -> None:  # a few times a second while ffmpeg runs
                check()
                publisher.poll()

            try:
                runner.run(
                    command.build(source, info, made.all),
                    info.duration,
                    progress.stage(PROBED, ENCODED),
                    between,
                    settings.run_limits(info.duration),
                )
                publisher.finish()
            except content.Matched as found:
                _reject(video, found.match)
                return
        downloads = _downloads(made, work, settings, info.duration)
        progress.update(PACKAGED, force=True)
        sheets = storyboard.tile(made.storyboard.layout, made.storyboard.path, work / streams.STORYBOARD_FOLDER)
        cues = storyboard.write_vtt(made.storyboard.layout, work / streams.STORYBOARD)
        publisher.publish_files(streams.STORYBOARD_FOLDER, [*sheets, cues])
        _publish(video, item, downloads, made.poster, publisher, progress)


def _downloads(made: Outputs, work: Path, settings: EngineSettings, duration: float) -> list[tuple[Rung, Path]]:
    """An MP4 per rung, faststart, copied from its segments and the audio's: no second encode."""
    audio = made.hls.audio.path if made.hls.audio else None
    return [
        (
            rung.rung,
            remux.mp4_from_hls(
                rung.path,
                audio,
                work / f"{rung.rung.name}.mp4",
                timeout=settings.run_limits(duration).timeout,
                memory_mb=settings.limits.memory_mb,
            ),
        )
        for rung in made.hls.rungs
    ]


def _reject(video: Video, match) -> None:
    """A sampled frame matched the blocklist: the video ends `rejected`, and what was published of its
    stream (only frames before the match, all checked) is taken back by the move."""
    log.warning("video %s matched blocklist entry %s at %.1f s", video.id, match.entry_id, match.at_seconds)
    if not videos.move(video, State.REJECTED, error=content.REJECTED_MESSAGE):
        raise Cancelled()  # deleted or cancelled meanwhile


def _publish(
    video: Video, item: WorkItem, downloads: list[tuple[Rung, Path]], poster: Poster, publisher: Publisher, progress
) -> None:
    """Store the downloads and the poster, make the stream final, then flip the video to `ready` in one
    commit; or take them back."""
    storage = get_storage()
    published: list[Rendition] = []
    publish_step = progress.stage(PACKAGED, 1.0)
    for index, (rung, path) in enumerate(downloads):
        key = f"{video.prefix}{rung.name}.mp4"
        size = storage.put_file(key, path)
        published.append(Rendition(name=rung.name, width=rung.width, height=rung.height, size=size, key=key))
        publish_step((index + 1) / (len(downloads) + 1))
    poster_key = None
    if poster.path.is_file():
        poster_key = f"{video.prefix}poster.jpg"
        storage.put_file(poster_key, poster.path)
    keys = [r.key for r in published] + ([poster_key] if poster_key else [])
    publisher.finalize()
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
    streams.withdraw(video_id)


def _cancel_flagged(video_id: str) -> bool:
    try:
        return plan.cancel_requested(video_id)
    except Exception:  # noqa: BLE001  (Redis away: keep going; the database has the final word)
        return False
