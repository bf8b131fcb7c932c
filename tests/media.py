"""Clips made by the tests with ffmpeg's lavfi sources, and ffprobe to check outputs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from media.binaries import find

BT709_TAGS = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709", "-color_range", "tv"]


def make_clip(
    path: Path, *, seconds: float = 2, width: int = 640, height: int = 360, rate: int = 25, audio: bool = True,
    container: str = "mp4",
) -> Path:
    args = [find("ffmpeg"), "-y", "-loglevel", "error", "-f", "lavfi",
            "-i", f"testsrc2=size={width}x{height}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "aac", "-shortest"]
    # BT.709 and tagged so, as cameras and phones write it: Conveyor keeps such pixels as they are
    args += ["-vf", "scale=out_color_matrix=bt709:out_range=tv", *BT709_TAGS,
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", container, str(path)]
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



def make_sync_clip(path: Path, *, seconds: float, width: int, height: int) -> Path:
    """A white flash and a 1 kHz beep together every 4 s (on every segment boundary), black and silent
    between: what shows whether picture and sound stay together."""
    flashes = (
        f"color=c=black:s={width}x{height}:r=25:d={seconds},"
        "drawbox=w=iw:h=ih:color=white:t=fill:enable='lt(mod(t\\,4)\\,0.04)'"
    )
    beeps = f"aevalsrc='if(lt(mod(t\\,4)\\,0.05)\\,sin(2*PI*1000*t)\\,0)':s=48000:d={seconds}"
    subprocess.run(
        [find("ffmpeg"), "-loglevel", "error", "-y", "-f", "lavfi", "-i", flashes, "-f", "lavfi", "-i", beeps,
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path)],
        check=True, timeout=120,
    )
    return path


def flashes_and_beeps(path: Path) -> tuple[list[float], list[float]]:
    """When the picture turns white, and when the sound starts again after silence, in a file."""
    done = subprocess.run(
        [find("ffmpeg"), "-hide_banner", "-nostdin", "-i", str(path),
         "-vf", "signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-",
         "-af", "silencedetect=n=-30dB:d=0.5", "-f", "null", "-"],
        capture_output=True, text=True, timeout=120,
    )
    flashes, at = [], None
    for line in done.stdout.splitlines():
        if line.startswith("frame:"):
            at = float(line.rsplit("pts_time:", 1)[1])
        elif line.startswith("lavfi.signalstats.YAVG=") and float(line.split("=")[1]) > 128:
            flashes.append(at)
    beeps = [0.0] + [float(line.split("silence_end: ")[1].split()[0]) for line in done.stderr.splitlines()
                     if "silence_end" in line]
    return flashes, beeps


def onsets(times: list[float]) -> list[float]:
    """The first of each run of times (a flash lasts a frame or two)."""
    return [t for n, t in enumerate(times) if n == 0 or t - times[n - 1] > 0.1]
