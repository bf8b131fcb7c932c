"""The benchmark's source: a grainy 1080p30 clip, made once per process.

The clip: 30 s (10 s with --quick) of 1920x1080 at 30 fps, lavfi's `testsrc2` with temporal noise
(`noise=alls=8:allf=t`, new grain every frame) and a 440 Hz sine, encoded as a camera would
(libx264 veryfast CRF 20, at most 20 Mbit/s; AAC). The grain makes it hard content: at CRF 23 the
1080p rung wants more than its 6 Mbit/s cap, the 360p and 720p rungs stay well under theirs.
"""

from __future__ import annotations

from pathlib import Path

from bench.clips import grainy_clip


def noisy_clip(seconds: int) -> Path:
    """The benchmark's source, made once per process (see this module's docstring)."""
    return grainy_clip(seconds, 1920, 1080, 30, grain=8, max_mbit=20, name="noisy")
