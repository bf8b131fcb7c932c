"""Clips made by the tests with ffmpeg's lavfi sources, and ffprobe to check outputs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from media.binaries import find


def make_clip(
    path: Path, *, seconds: float = 2, width: int = 640, height: int = 360, rate: int = 25, audio: bool = True,
    container: str = "mp4",
) -> Path:
    args = [find("ffmpeg"), "-y", "-loglevel", "error", "-f", "lavfi",
            "-i", f"testsrc2=size={width}x{height}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", "-shortest"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", container, str(path)]
    subprocess.run(args, check=True)
    return path


def streams(path: Path) -> list[dict]:
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, check=True,
    )
    return json.loads(done.stdout)["streams"]


def format_name(path: Path) -> str:
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", "-show_entries", "format=format_name", "-of", "csv=p=0", str(path)],
        capture_output=True, check=True, text=True,
    )
    return done.stdout.strip()


def format_of(path: Path) -> dict:
    done = subprocess.run(
        [find("ffprobe"), "-v", "error", "-show_format", "-of", "json", str(path)], capture_output=True, check=True
    )
    return json.loads(done.stdout)["format"]

