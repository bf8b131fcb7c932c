"""What every kind of conversion job shares: the engine's settings read from the app's, the MP4
downloads copied from a ladder's segments, and the last step, `publish_ready`: the downloads and the
poster stored, the stream made final, and the video `ready` in one compare-and-set; or a content
match's `reject`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from app.domain import content, dispatch, plan, streams, videos
from app.domain.errors import Cancelled
from app.domain.models import Rendition, Video, WorkItem
from app.domain.states import State
from app.extensions import db
from app.platform.storage import get_storage
from media import ladder, probe, remux, runner
from media.chunks import Chunk
from media.hls import AUDIO_FOLDER, HlsAudio, HlsLadder
from media.ladder import Rung
from media.outputs import EncodeSettings, FrameSamples, Output, Poster, Storyboard

log = logging.getLogger(__name__)


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
    def of(cls, cfg, video: Video | None = None) -> EngineSettings:
        """The app's settings, with what the uploader asked of `video` (its loudness normalized)."""
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
            encode=EncodeSettings(preset=cfg["X264_PRESET"], loudnorm=bool(video and video.normalize_loudness)),
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
    content check's samples when the video is checked. A chunk's run makes its part of each (the
    poster in the first chunk only), and no audio."""

    hls: HlsLadder
    storyboard: Storyboard
    poster: Poster | None
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

    @classmethod
    def plan_chunk(
        cls, info: probe.MediaInfo, work: Path, settings: EngineSettings, checked: bool, chunk: Chunk
    ) -> Outputs:
        rungs = ladder.plan(info, settings.heights)
        poster = None
        if chunk.number == 0:  # within the first chunk, so it can be shown with the first segments
            at = min(settings.poster_at, info.duration / 2, chunk.span.duration / 2)
            poster = Poster.of(info, rungs[-1], work / "poster.jpg", at)
        return cls(
            HlsLadder.plan_chunk(info, rungs, work / "stream", chunk, settings.encode),
            replace(Storyboard.of(info, work / "storyboard.yuv"), span=chunk.span),
            poster,
            FrameSamples(work / "frames.gray") if checked else None,
        )

    @property
    def all(self) -> list[Output]:
        extra = [self.poster] if self.poster else []
        return [*self.hls.outputs, self.storyboard, *extra, *([self.samples] if self.samples else [])]

    def master_ladder(self, has_audio: bool) -> HlsLadder:
        """The ladder the master playlist names: a chunk's rungs, with the audio another job makes."""
        audio = HlsAudio(self.hls.root / AUDIO_FOLDER, self.hls.rungs[0].settings) if has_audio else None
        return HlsLadder(self.hls.root, self.hls.rungs, audio)


def downloads(hls: HlsLadder, work: Path, settings: EngineSettings, duration: float) -> list[tuple[Rung, Path]]:
    """An MP4 per rung, faststart, copied from its segments (final playlists) and the audio's: no
    second encode."""
    audio = hls.audio.path if hls.audio else None
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
        for rung in hls.rungs
    ]


def reject(video: Video, match) -> None:
    """A sampled frame matched the blocklist: the video ends `rejected`, and what was published of its
    stream (only frames before the match, all checked) is taken back by the move."""
    log.warning("video %s matched blocklist entry %s at %.1f s", video.id, match.entry_id, match.at_seconds)
    if not videos.move(video, State.REJECTED, error=content.REJECTED_MESSAGE):
        raise Cancelled()  # deleted or cancelled meanwhile


def publish_ready(
    video: Video, item: WorkItem, made: list[tuple[Rung, Path]], poster: Path | None,
    finalize: Callable[[], None], progress, start: float,
) -> None:
    """Store the downloads and the poster, make the stream final (`finalize`), then flip the video to
    `ready` in one commit; or take them back. `progress` goes from `start` to 1.0 meanwhile."""
    storage = get_storage()
    published: list[Rendition] = []
    publish_step = progress.stage(start, 1.0)
    for index, (rung, path) in enumerate(made):
        key = f"{video.prefix}{rung.name}.mp4"
        size = storage.put_file(key, path)
        published.append(Rendition(name=rung.name, width=rung.width, height=rung.height, size=size, key=key))
        publish_step((index + 1) / (len(made) + 1))
    poster_key = None
    if poster is not None and poster.is_file():
        poster_key = f"{video.prefix}poster.jpg"
        storage.put_file(poster_key, poster)
    keys = [r.key for r in published] + ([poster_key] if poster_key else [])
    finalize()
    progress.update(1.0, force=True)  # before the outputs join the session: its mirror commits
    video.renditions = published
    video.poster_key = poster_key
    plan.finish_item(item)
    if _cancel_flagged(video.id) or not videos.move(video, State.READY):
        _take_back(video, keys)  # cancelled or deleted while publishing
        raise Cancelled()


def _take_back(video: Video, keys: list[str]) -> None:
    db.session.rollback()
    if db.session.get(Video, video.id, populate_existing=True) is not None and video.state == State.READY.value:
        return  # another run of the same step got there first: what it stored is these very files
    storage = get_storage()
    for key in keys:
        storage.delete(key)
    streams.withdraw(video.id)


def _cancel_flagged(video_id: str) -> bool:
    try:
        return dispatch.cancel_requested(video_id)
    except Exception:  # noqa: BLE001  (Redis away: keep going; the database has the final word)
        return False
