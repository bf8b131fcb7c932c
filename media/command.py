"""The ffmpeg command: one decode of the source, split into every output, with progress on stdout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ffmpeg

from media.binaries import find
from media.outputs import Output
from media.probe import MediaInfo
from media.sandbox import GLOBAL_GUARDS, INPUT_GUARDS


def build(source: Path, info: MediaInfo, outputs: Sequence[Output]) -> list[str]:
    """ffmpeg's arguments: the source read once, under the sandbox's guards, feeding each output."""
    guards = dict(INPUT_GUARDS, enable_drefs=0) if info.demuxer == "mov" else INPUT_GUARDS  # no external tracks
    stream = ffmpeg.input(f"file:{source}", f=info.demuxer, **guards)
    branches = stream.video.filter_multi_output("split", len(outputs))
    audio = stream.audio if info.has_audio else None
    nodes = [output.build(branches[index], audio) for index, output in enumerate(outputs)]
    graph = ffmpeg.merge_outputs(*nodes).global_args(
        "-nostdin", "-hide_banner", *GLOBAL_GUARDS,
        "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-stats_period", "0.25",
    )
    return graph.overwrite_output().compile(cmd=find("ffmpeg"))
