"""The benchmark's sources: testsrc2 with light grain and a 440 Hz sine, encoded as a camera would.

lavfi's `testsrc2` (moving pattern, counter) with temporal noise (`noise=alls=3:allf=t`, new grain
every frame) and a sine, encoded with libx264 veryfast CRF 20 (at most 10 Mbit/s) and AAC 128k: a
realistic camera-like bit rate (about 3.8 Mbit/s at 720p30) that the ladder must really decode.
Made once per process, in the benchmark's scratch folder.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench.common import log, scratch
from media.binaries import find


def source(seconds: float, width: int = 1280, height: int = 720, rate: int = 30) -> Path:
    path = scratch() / "clips" / f"grain-{width}x{height}-{rate}fps-{seconds:g}s.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        subprocess.run([
            find("ffmpeg"), "-nostdin", "-y", "-loglevel", "error",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={rate}:duration={seconds},noise=alls=3:allf=t",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-maxrate", "10M", "-bufsize", "20M",
            "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-shortest", str(path),
        ], check=True)
        log(f"made {path.name} ({path.stat().st_size / 2**20:.1f} MiB) in {time.monotonic() - started:.1f} s")
    return path
