"""The ffmpeg command: one decode of the source, split into every output, with progress on stdout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ffmpeg

from media.binaries import find
from media.outputs import WHOLE, Output, Span
from media.probe import MediaInfo
from media.sandbox import GLOBAL_GUARDS, INPUT_GUARDS


def build(source: Path, info: MediaInfo, outputs: Sequence[Output], span: Span = WHOLE) -> list[str]:
    """ffmpeg's arguments: the source read once, under the sandbox's guards, feeding each output.

    With a `span` (a chunk's), only that part is read: ffmpeg seeks to the keyframe before its start
    and decodes from there, dropping the pictures before the start; the outputs' clock starts at 0.
    """
    guards = dict(INPUT_GUARDS, enable_drefs=0) if info.demuxer == "mov" else INPUT_GUARDS  # no external tracks
    if not span.whole:
        guards = {**guards, "ss": f"{span.start:.6f}", **({"t": f"{span.duration:.6f}"} if span.duration else {})}
    stream = ffmpeg.input(f"file:{source}", f=info.demuxer, **guards)
    pictures = _pictures(stream, outputs)
    audio = _audio(stream, info, outputs)
    nodes = [output.build(pictures[index], audio[index]) for index, output in enumerate(outputs)]
    graph = ffmpeg.merge_outputs(*nodes).global_args(
        "-nostdin", "-hide_banner", *GLOBAL_GUARDS,
        "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-stats_period", "0.1",
    )
    return graph.overwrite_output().compile(cmd=find("ffmpeg"))


def _pictures(stream, outputs: Sequence[Output]) -> list:
    """A branch of one split of the decoded picture for each output that wants it, None for the others."""
    wanting = [index for index, output in enumerate(outputs) if output.wants_picture]
    if not wanting:
        return [None] * len(outputs)
    branches = stream.video.filter_multi_output("split", len(wanting))
    given = {index: branches[number] for number, index in enumerate(wanting)}
    return [given.get(index) for index in range(len(outputs))]


def _audio(stream, info: MediaInfo, outputs: Sequence[Output]) -> list:
    """The audio each output is handed: None without audio; else the source's audio stream, which ffmpeg
    decodes once and hands to every encoder mapped to it (how MP4 renditions always took it).

    An audio-only output (the HLS audio rendition) makes the audio one more consumer of the decode:
    then every output that wants the audio gets its own branch of one `asplit`.
    """
    if not info.has_audio:
        return [None] * len(outputs)
    wanting = [index for index, output in enumerate(outputs) if output.wants_audio]
    if len(wanting) < 2 or all(outputs[index].wants_picture for index in wanting):
        return [stream.audio] * len(outputs)
    branches = stream.audio.filter_multi_output("asplit", len(wanting))
    given = {index: branches[number] for number, index in enumerate(wanting)}
    return [given.get(index, stream.audio) for index in range(len(outputs))]
