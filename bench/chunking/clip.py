"""The benchmark's sources: testsrc2 with light grain and a 440 Hz sine, encoded as a camera would.

lavfi's `testsrc2` (moving pattern, counter) with temporal noise (`noise=alls=3:allf=t`, new grain
every frame) and a sine, encoded with libx264 veryfast CRF 20 (at most 10 Mbit/s) and AAC 128k: a
realistic camera-like bit rate (about 3.8 Mbit/s at 720p30) that the ladder must really decode.
Made once per process, in the benchmark's scratch folder.
"""

from __future__ import annotations

from pathlib import Path

from bench.clips import grainy_clip


def source(seconds: float, width: int = 1280, height: int = 720, rate: int = 30) -> Path:
    return grainy_clip(seconds, width, height, rate, grain=3, max_mbit=10, name="grain")
