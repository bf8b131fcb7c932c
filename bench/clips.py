"""The benchmarks' sources: lavfi's `testsrc2` (a moving pattern, a counter) with temporal grain
(`noise=alls=<grain>:allf=t`, new grain every frame) and a 440 Hz sine, encoded as a camera would
(libx264 veryfast CRF 20 under a maximum rate, AAC 128k), so that the ladder has real work to
decode and encode. Each is made once, in the benchmarks' scratch folder."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench.common import log, scratch
from media.binaries import find


def grainy_clip(seconds: float, width: int, height: int, rate: int, *, grain: int, max_mbit: int, name: str) -> Path:
    path = scratch() / "clips" / f"{name}-{width}x{height}-{rate}fps-{seconds:g}s.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        subprocess.run([
            find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error",
            "-f", "lavfi",
            "-i", f"testsrc2=size={width}x{height}:rate={rate}:duration={seconds},noise=alls={grain}:allf=t",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-maxrate", f"{max_mbit}M",
            "-bufsize", f"{2 * max_mbit}M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-shortest",
            str(path),
        ], check=True)
        log(f"made {path.name} ({path.stat().st_size / 2**20:.1f} MiB) in {time.monotonic() - started:.1f} s")
    return path
