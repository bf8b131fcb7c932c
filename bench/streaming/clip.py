"""The benchmark's source: a grainy 1080p30 clip, made once per process.

The clip: 30 s (10 s with --quick) of 1920x1080 at 30 fps, lavfi's `testsrc2` with temporal noise
(`noise=alls=8:allf=t`, new grain every frame) and a 440 Hz sine, encoded as a camera would
(libx264 veryfast CRF 20, at most 20 Mbit/s; AAC). The grain makes it hard content: at CRF 23 the
1080p rung wants more than its 6 Mbit/s cap, the 360p and 720p rungs stay well under theirs.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench.common import log, scratch
from media.binaries import find


def noisy_clip(seconds: int) -> Path:
    """The benchmark's source, made once per process (see this module's docstring)."""
    path = scratch() / "clips" / f"noisy-1920x1080-30fps-{seconds}s.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        subprocess.run([
            find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error",
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds},noise=alls=8:allf=t",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-maxrate", "20M", "-bufsize", "40M",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-shortest", str(path),
        ], check=True)
        log(f"made {path.name} ({path.stat().st_size / 2**20:.1f} MiB) in {time.monotonic() - started:.1f} s")
    return path
