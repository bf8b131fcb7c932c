"""Media for the content check: a picture to blocklist, clips that show it or not, unrelated clips."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from media.binaries import find

# a deep zoom into the Mandelbrot set: detailed, and unlike anything the unrelated clips show
PICTURE = "mandelbrot=size=640x480:start_x=-0.743643887037151:start_y=0.13182590420533:start_scale=0.01"

# twenty sources that are not the picture; 1 s at 160x120 each
UNRELATED = [
    "testsrc", "testsrc2", "smptebars", "smptehdbars", "rgbtestsrc", "yuvtestsrc", "pal75bars", "pal100bars",
    "mandelbrot", "cellauto", "cellauto=rule=30", "life", "life=ratio=0.5:mold=10", "gradients",
    "gradients=type=radial", "sierpinski", "zoneplate",
    "color=c=orange:{size},drawtext=text=Hello:fontsize=40:x=20:y=40:fontcolor=black",
    "color=c=navy:{size},drawbox=x=40:y=30:w=60:h=50:color=yellow:t=fill",
    "testsrc={size},hue=h=90,rotate=0.3",
]


def ffmpeg(*args: str) -> None:
    subprocess.run([find("ffmpeg"), "-y", "-nostdin", "-loglevel", "error", *args], check=True)


def make_picture(path: Path) -> Path:
    """The picture that will be blocklisted, as a PNG."""
    ffmpeg("-f", "lavfi", "-i", PICTURE, "-frames:v", "1", str(path))
    return path


def make_clip(path: Path, picture: Path | None, *, size: str = "640x360", seconds: int = 2) -> Path:
    """`seconds` of testsrc2, then (when given) two seconds of `picture`, then `seconds` of SMPTE bars; with sound."""
    parts = [f"testsrc2=size={size}:rate=25:duration={seconds}"]
    inputs = ["-f", "lavfi", "-i", parts[0]]
    if picture is not None:
        inputs += ["-loop", "1", "-framerate", "25", "-t", "2", "-i", str(picture)]
    inputs += ["-f", "lavfi", "-i", f"smptebars=size={size}:rate=25:duration={seconds}"]
    count = 3 if picture is not None else 2
    total = 2 * seconds + (2 if picture is not None else 0)
    scale = size.replace("x", ":")
    chains = "".join(f"[{i}:v]scale={scale},setsar=1,format=yuv420p,fps=25[v{i}];" for i in range(count))
    graph = chains + "".join(f"[v{i}]" for i in range(count)) + f"concat=n={count}:v=1:a=0[v]"
    ffmpeg(
        *inputs, "-f", "lavfi", "-i", f"sine=frequency=440:duration={total}",
        "-filter_complex", graph, "-map", "[v]", "-map", f"{count}:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-c:a", "aac", "-shortest", str(path),
    )
    return path


def reencode(
    source: Path, path: Path, *, size: str, bitrate: str, start: float = 0, seconds: float | None = None,
    mirror: bool = False,
) -> Path:
    """Another size and bitrate; optionally trimmed to `start` + `seconds`, or mirrored left to right."""
    trim = ["-ss", str(start)] + (["-t", str(seconds)] if seconds else [])
    filters = ("hflip," if mirror else "") + f"scale={size.replace('x', ':')},setsar=1"
    ffmpeg(
        "-i", str(source), *trim, "-vf", filters,
        "-c:v", "libx264", "-preset", "ultrafast", "-b:v", bitrate, "-c:a", "aac", str(path),
    )
    return path


def make_unrelated(folder: Path) -> list[Path]:
    """Twenty short, small clips of lavfi sources that are not the blocklisted picture."""
    size = "size=160x120:rate=25"
    made = []
    for index, source in enumerate(UNRELATED):
        spec = source.format(size=size) if "{size}" in source else f"{source}{':' if '=' in source else '='}{size}"
        path = folder / f"unrelated-{index:02d}.mp4"
        ffmpeg("-f", "lavfi", "-i", spec, "-t", "1", "-vf", "scale=160:120,setsar=1",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))
        made.append(path)
    return made


class ContentMedia:
    """Everything the content check's tests upload, made once per test module."""

    def __init__(self, folder: Path):
        self.picture = make_picture(folder / "picture.png")
        original = make_clip(folder / "with-original.mp4", self.picture)
        # what an uploader would send: re-encoded at another size and bitrate
        self.with_picture = reencode(original, folder / "with-picture.mp4", size="426x240", bitrate="150k")
        self.without_picture = reencode(
            make_clip(folder / "without-original.mp4", None), folder / "without-picture.mp4", size="426x240",
            bitrate="150k",
        )
        self.trimmed = reencode(original, folder / "trimmed.mp4", size="320x180", bitrate="100k", start=2.9, seconds=2)
        self.mirrored = reencode(original, folder / "mirrored.mp4", size="426x240", bitrate="150k", mirror=True)
        self.folder = folder

    def unrelated(self) -> list[Path]:
        return make_unrelated(self.folder)


@pytest.fixture(scope="module")
def content_media(tmp_path_factory) -> ContentMedia:
    return ContentMedia(tmp_path_factory.mktemp("content"))
