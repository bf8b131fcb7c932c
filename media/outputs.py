"""What one decode of the source turns into. Each kind of output builds its own branch of the
ffmpeg graph from a copy of the decoded picture (and the source's audio): a new kind of output is
one more class here, not another branch in the command builder."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import ffmpeg

from media import fingerprint, storyboard
from media.colour import OUTPUT_TAGS, TO_JPEG
from media.ladder import Rung
from media.probe import MediaInfo


@dataclass(frozen=True)
class EncodeSettings:
    preset: str = "veryfast"  # libx264's
    crf: int = 23
    audio_bitrate: str = "128k"
    loudnorm: bool = False  # the sound brought to EBU R128's loudness (media/hls.py HlsAudio)


@dataclass(frozen=True)
class Span:
    """The part of the source one run reads: from `start`, `duration` seconds (0: to the end)."""

    start: float = 0.0
    duration: float = 0.0

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.duration == 0


WHOLE = Span()


class Output(ABC):
    path: Path
    # Which of the decode's streams the command builder hands this output a branch of. Every output
    # gets a copy of the picture unless it says otherwise. The audio: see `command.build`; an output
    # that doesn't claim it is handed the source's audio stream as it always was.
    wants_picture: ClassVar[bool] = True
    wants_audio: ClassVar[bool] = False

    @abstractmethod
    def build(self, picture, audio):
        """The ffmpeg-python output node for this file, from a split branch of the picture and the
        source's audio stream (None when it has none)."""


@dataclass(frozen=True)
class Mp4Rendition(Output):
    """H.264 + AAC in MP4 with faststart, at one rung of the ladder, encoded straight from the decode.

    The conversion no longer makes these (its downloads are copied from the HLS segments:
    media/remux.py); `bench/streaming.py` makes them as the baseline the stream's bytes are
    measured against, and the command builder's tests use them as the plainest output with audio."""

    wants_audio: ClassVar[bool] = True

    rung: Rung
    path: Path
    settings: EncodeSettings = EncodeSettings()

    def build(self, picture, audio):
        picture = picture.filter("scale", self.rung.width, self.rung.height).filter("setsar", 1)
        streams = [picture] if audio is None else [picture, audio]
        sound = {} if audio is None else {"acodec": "aac", "audio_bitrate": self.settings.audio_bitrate, "ac": 2}
        return ffmpeg.output(
            *streams, str(self.path), f="mp4", vcodec="libx264", preset=self.settings.preset, crf=self.settings.crf,
            pix_fmt="yuv420p", movflags="+faststart", map_metadata=-1, **OUTPUT_TAGS, **sound,
        )


@dataclass(frozen=True)
class Poster(Output):
    """One JPEG frame at `at` seconds, at the size of a rung."""

    path: Path
    rung: Rung
    at: float

    @classmethod
    def of(cls, info: MediaInfo, rung: Rung, path: Path, wanted_at: float) -> Poster:
        """A poster `wanted_at` seconds in, but never past the middle of a short video."""
        return cls(path, rung, max(0.0, min(wanted_at, info.duration / 2)))

    def build(self, picture, audio):
        still = (
            picture.filter("select", f"gte(t,{self.at:.3f})")
            .filter("scale", self.rung.width, self.rung.height, **TO_JPEG)
            .filter("setsar", 1)
        )
        # written whole under its name (a temporary file renamed): it may be published while ffmpeg runs
        return ffmpeg.output(
            still, str(self.path), f="image2", vcodec="mjpeg", vframes=1, atomic_writing=1, **{"q:v": 3}
        )


@dataclass(frozen=True)
class FrameSamples(Output):
    """Frames as PDQ's luma, a few a second, no larger than the content check's working size, as raw
    bytes, with the picture's own size beside them (media/fingerprint.py): what the check hashes,
    while they come."""

    path: Path

    def build(self, picture, audio):
        # each frame written as it is made: the check keeps up with the encode, and what it has
        # checked may be shown (app/domain/publishing.py)
        return fingerprint.sample_outputs(picture, self.path)


# ---- Storyboard: seek previews -----------------------------------------------------------------


@dataclass(frozen=True)
class Storyboard(Output):
    """A thumbnail every `layout.interval` seconds, as raw frames in one file, each written as it is
    taken; `storyboard.tile` then lays them into the JPEG sprite sheets and `storyboard.write_vtt`
    writes the cues that point into them.

    Not tiled inside this command: ffmpeg reports a run's progress as its slowest output's, and a
    sheet is written only once full (100 thumbnails, 200 s of video), so the run would look stalled.
    The picture is held on its last frame past the end and the thumbnails counted: exactly one per
    cue, however the video's own end falls.
    """

    path: Path  # the raw thumbnails (yuv420p, layout.width x layout.height each)
    layout: storyboard.Layout
    span: Span = WHOLE  # a chunk's part of the video (media/chunks.py): the thumbnails that fall in it

    @classmethod
    def of(cls, info: MediaInfo, path: Path, **layout) -> Storyboard:
        return cls(path, storyboard.Layout.plan(info.duration, info.width, info.height, **layout))

    @property
    def indices(self) -> range:
        """Which of the whole storyboard's thumbnails this run takes: all, or those of its span."""
        layout, span = self.layout, self.span
        if span.whole:
            return range(layout.count)
        end_ms = round((span.start + span.duration) * 1000)
        first = math.ceil(round(span.start * 1000) / (layout.interval * 1000))
        last = layout.count if end_ms >= layout.duration_ms else math.ceil(end_ms / (layout.interval * 1000))
        return range(first, min(last, layout.count))

    def build(self, picture, audio):
        layout = self.layout
        if self.span.start:  # a chunk's pictures at their times in the whole video, so the fps filter
            picture = picture.filter("setpts", f"PTS+{self.span.start:.6f}/TB")  # picks the same instants
        thumbnails = (
            picture.filter("tpad", stop_mode="clone", stop_duration=layout.interval)
            # the picture at the start of each interval: round=up takes the frame at or just before it
            .filter("fps", fps=f"1/{layout.interval}", round="up")
            .filter("trim", end_frame=len(self.indices))
            .filter("scale", layout.width, layout.height)
            .filter("setsar", 1)
        )
        return ffmpeg.output(
            thumbnails, str(self.path), f="rawvideo", pix_fmt=storyboard.PIXELS, fps_mode="passthrough"
        )
