"""The ffmpeg command: one decode of the source, split into every output, with progress on stdout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ffmpeg

from media import colour
from media.binaries import find
from media.outputs import WHOLE, Output, Span
from media.probe import MediaInfo
from media.sandbox import GLOBAL_GUARDS, INPUT_GUARDS, picture_guards


def build(source: Path, info: MediaInfo, outputs: Sequence[Output], span: Span = WHOLE) -> list[str]:
    """ffmpeg's arguments: the source read once, under the sandbox's guards, feeding each output.

    With a `span` (a chunk's), only that part is read: ffmpeg seeks to the keyframe before its start
    and decodes from there, dropping the pictures before the start; the outputs' clock starts at 0.
    """
    guards = dict(INPUT_GUARDS, enable_drefs=0) if info.demuxer == "mov" else INPUT_GUARDS  # no external tracks
    guards = {**guards, **picture_guards(info.max_pixels, info.max_side)}  # every picture, not just the first
    if not span.whole:
        guards = {**guards, "ss": f"{span.start:.6f}", **({"t": f"{span.duration:.6f}"} if span.duration else {})}
    stream = ffmpeg.input(f"file:{source}", f=info.demuxer, **guards)
    pictures = _pictures(stream, info, outputs)
    audio = _audio(stream, info, outputs)
    nodes = [output.build(pictures[index], audio[index]) for index, output in enumerate(outputs)]
    graph = ffmpeg.merge_outputs(*nodes).global_args(
        "-nostdin", "-hide_banner", *GLOBAL_GUARDS,
        "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-stats_period", "0.1",
    )
    return graph.overwrite_output().compile(cmd=find("ffmpeg"))


def _pictures(stream, info: MediaInfo, outputs: Sequence[Output]) -> list:
    """A branch of one split of the decoded picture, made SDR BT.709 first (media/colour.py), for each
    output that wants it; None for the others."""
    wanting = [index for index, output in enumerate(outputs) if output.wants_picture]
    if not wanting:
        return [None] * len(outputs)
    rungs = [output.rung for output in outputs if getattr(output, "rung", None) is not None]
    largest = max(rungs, key=lambda rung: rung.width * rung.height, default=None)
    width, height = (largest.width, largest.height) if largest else (info.width, info.height)
    picture = colour.to_sdr(stream.video, info.colour, width, height, min(info.width, info.height))
    branches = picture.filter_multi_output("split", len(wanting))
    given = {index: branches[number] for number, index in enumerate(wanting)}
    return [given.get(index) for index in range(len(outputs))]


def _audio(stream, info: MediaInfo, outputs: Sequence[Output]) -> list:
    """The audio each output that wants it is handed, None for the others (and without audio): the
    source's sound decoded once, on the picture's clock from 0. Sound that starts late in the file (a
    phone's, often) is given the silence before it, not moved to the start: the downloads and every
    player then keep it in sync, whatever they make of a stream's start time. Several outputs that
    want it get a branch each of one `asplit`."""
    wanting = [index for index, output in enumerate(outputs) if output.wants_audio]
    if not info.has_audio or not wanting:
        return [None] * len(outputs)
    sound = stream.audio.filter("aresample", **{"async": 1, "first_pts": 0})
    branches = [sound] if len(wanting) == 1 else sound.filter_multi_output("asplit", len(wanting))
    given = {index: branches[number] for number, index in enumerate(wanting)}
    return [given.get(index) for index in range(len(outputs))]
