"""Engine-only fixtures: one small source clip and one conversion of it, shared by the output tests."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from media import command
from media.ladder import Rung
from media.outputs import EncodeSettings, FrameSamples, Mp4Rendition, Output, Poster
from media.probe import Limits, MediaInfo, probe

FAST = EncodeSettings(preset="ultrafast")
# the second rung is a little narrower than the source's shape: a rendition is made at its rung's size
RENDITION_RUNGS = (Rung(160, 90), Rung(248, 144))
POSTER_RUNG = Rung(96, 54)


@dataclass(frozen=True)
class Conversion:
    source: Path
    info: MediaInfo
    outputs: list[Output]
    args: list[str]
    renditions: list[Mp4Rendition]
    poster: Poster
    frames: FrameSamples


def convert(source: Path, folder: Path, poster_at: float = 5.0) -> Conversion:
    """Probe `source`, build one command for two renditions, a poster and frame samples, and run it."""
    folder.mkdir(parents=True, exist_ok=True)
    info = probe(source, Limits())
    renditions = [Mp4Rendition(rung, folder / f"{rung.name}.mp4", FAST) for rung in RENDITION_RUNGS]
    poster = Poster.of(info, POSTER_RUNG, folder / "poster.jpg", poster_at)
    frames = FrameSamples(folder / "frames.raw")
    outputs: list[Output] = [*renditions, poster, frames]
    args = command.build(source, info, outputs)
    done = subprocess.run(args, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return Conversion(source, info, outputs, args, renditions, poster, frames)


@pytest.fixture(scope="session")
def source(clips) -> Path:
    """A 2 s 320x180 H.264+AAC MP4."""
    return clips("unit-media-source", seconds=2, width=320, height=180)


@pytest.fixture(scope="session")
def silent_source(clips) -> Path:
    """The same clip without an audio stream."""
    return clips("unit-media-silent", seconds=2, width=320, height=180, audio=False)


@pytest.fixture(scope="session")
def conversion(source, tmp_path_factory) -> Conversion:
    return convert(source, tmp_path_factory.mktemp("converted"))


@pytest.fixture(scope="session")
def silent_conversion(silent_source, tmp_path_factory) -> Conversion:
    return convert(silent_source, tmp_path_factory.mktemp("converted-silent"))


@pytest.fixture(scope="module")
def converted(clips, tmp_path_factory):
    """One HLS conversion of a clip with sound, shared by a module's tests (tests/unit/media/test_hls.py)."""
    from tests.unit.media.test_hls import hls_run

    return hls_run(clips, tmp_path_factory)


@pytest.fixture(scope="module")
def silent(clips, tmp_path_factory):
    from tests.unit.media.test_hls import hls_run

    return hls_run(clips, tmp_path_factory, audio=False)
