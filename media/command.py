"""The ffmpeg command: one decode of the source, split into every rendition and the poster."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from app.binaries import find
from jobs import fingerprint
from jobs.probe import MediaInfo
from jobs.sandbox import GLOBAL_GUARDS, INPUT_GUARDS


@dataclass(frozen=True)
class Target:
    name: str
    width: int
    height: int
    path: Path


def even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def plan(info: MediaInfo, heights: list[int], workdir: Path) -> list[Target]:
    """One rendition per ladder height not above the source's; never none."""
    fitting = [h for h in sorted(heights) if h <= info.height]
    if not fitting:  # a source smaller than the smallest step: keep its own size
        fitting = [min(even(info.height), min(heights))]
    return [
        Target(f"{h}p", even(info.width * h / info.height), h, workdir / f"{h}p.mp4")
        for h in fitting
    ]


def poster_time(info: MediaInfo, wanted: float) -> float:
    return max(0.0, min(wanted, info.duration / 2))


def command(
    source: Path,
    info: MediaInfo,
    targets: list[Target],
    poster: Path,
    *,
    preset: str = "veryfast",
    poster_at: float = 1.0,
    frames: Path | None = None,
) -> list[str]:
    """ffmpeg's arguments for every rendition and the poster, with progress on stdout.

    With `frames`, a branch of the same decode also writes the content check's samples there.
    """
    guards = dict(INPUT_GUARDS, enable_drefs=0) if info.demuxer == "mov" else INPUT_GUARDS  # no external tracks
    stream = ffmpeg.input(f"file:{source}", f=info.demuxer, **guards)
    branches = stream.video.filter_multi_output("split", len(targets) + 1 + (frames is not None))
    outputs = []
    for index, target in enumerate(targets):
        picture = branches[index].filter("scale", target.width, target.height).filter("setsar", 1)
        streams = [picture, stream.audio] if info.has_audio else [picture]
        audio = {"acodec": "aac", "audio_bitrate": "128k", "ac": 2} if info.has_audio else {}
        outputs.append(
            ffmpeg.output(
                *streams,
                str(target.path),
                f="mp4",
                vcodec="libx264",
                preset=preset,
                crf=23,
                pix_fmt="yuv420p",
                movflags="+faststart",
                map_metadata=-1,
                **audio,
            )
        )
    biggest = targets[-1]
    still = (
        branches[len(targets)]
        .filter("select", f"gte(t,{poster_time(info, poster_at):.3f})")
        .filter("scale", biggest.width, biggest.height)
        .filter("setsar", 1)
    )
    outputs.append(ffmpeg.output(still, str(poster), f="image2", vcodec="mjpeg", vframes=1, **{"q:v": 3}))
    if frames is not None:  # small gray samples for jobs/fingerprint.py: no second decode
        outputs.append(ffmpeg.output(fingerprint.filter_chain(branches[len(targets) + 1]), str(frames), f="rawvideo"))
    graph = ffmpeg.merge_outputs(*outputs).global_args(
        "-nostdin", "-hide_banner", *GLOBAL_GUARDS,
        "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-stats_period", "0.25",
    )
    return graph.overwrite_output().compile(cmd=find("ffmpeg"))
