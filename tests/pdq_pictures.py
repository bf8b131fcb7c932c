"""A corpus of varied pictures for checking Conveyor's PDQ against the reference: photo-like scenes,
screenshots and text, textures, noise, flat and gradient pictures, of many sizes and shapes; made
here with numpy and ffmpeg's lavfi sources, written as PNG (lossless)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media.binaries import find

FONTS = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/usr/share/fonts/TTF/DejaVuSans.ttf")]
LOREM = "The quick brown fox jumps over the lazy dog 0123456789"


@dataclass(frozen=True)
class Picture:
    path: Path
    kind: str  # photo, screen, text, texture, noise, plain
    width: int
    height: int

    @property
    def name(self) -> str:
        return self.path.stem


def ffmpeg(*args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(
        [find("ffmpeg"), "-y", "-nostdin", "-loglevel", "error", *args], input=stdin, capture_output=True, check=True
    )
    return done.stdout


def rgb_of(picture: Picture) -> np.ndarray:
    """The picture's pixels as the reference reads them: (h, w, 3) 8-bit RGB."""
    raw = ffmpeg("-i", str(picture.path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
    return np.frombuffer(raw, np.uint8).reshape(picture.height, picture.width, 3)


def _font_text(text: str, size: int, x: int, y: int, colour: str) -> str:
    font = next((f for f in FONTS if f.exists()), None)
    if font is None:  # no font on this machine: a bar where the line of text would be
        return f"drawbox=x={x}:y={y}:w={len(text) * size // 2}:h={size}:color={colour}:t=fill"
    return f"drawtext=fontfile={font}:text='{text}':fontsize={size}:x={x}:y={y}:fontcolor={colour}"


def _pink(rng: np.random.Generator, height: int, width: int, beta: float = 2.0, colour: bool = True) -> np.ndarray:
    """Noise with a photo's 1/f^beta spectrum: large soft shapes with detail at every scale."""
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    f = np.sqrt(fx**2 + fy**2)
    f[0, 0] = 1
    planes = []
    for _ in range(3 if colour else 1):
        spectrum = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f ** (beta / 2)
        plane = np.fft.irfft2(spectrum, s=(height, width))
        planes.append((plane - plane.mean()) / plane.std())
    planes = planes if colour else planes * 3
    return np.clip(128 + 45 * np.stack(planes, -1), 0, 255).astype(np.uint8)


def _scene(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A photo-like scene: discs of colour over a textured background, with sensor noise."""
    base = _pink(rng, height, width, beta=2.2).astype(float)
    yy, xx = np.mgrid[0:height, 0:width]
    for _ in range(6):
        cx, cy, r = rng.random() * width, rng.random() * height, (0.05 + rng.random() * 0.2) * min(width, height)
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        base[disc] = 0.3 * base[disc] + 0.7 * rng.random(3) * 255
    return np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)


def make_pictures(folder: Path) -> list[Picture]:
    rng = np.random.default_rng(2024)
    made: list[Picture] = []

    def array(kind: str, name: str, pixels: np.ndarray) -> None:
        height, width, _ = pixels.shape
        path = folder / f"{len(made):02d}-{name}-{width}x{height}.png"
        ffmpeg("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-i", "pipe:0", "-frames:v", "1",
               str(path), stdin=np.ascontiguousarray(pixels).tobytes())
        made.append(Picture(path, kind, width, height))

    def lavfi(kind: str, name: str, source: str, width: int, height: int, filters: str = "") -> None:
        path = folder / f"{len(made):02d}-{name}-{width}x{height}.png"
        ffmpeg("-f", "lavfi", "-i", source.format(size=f"{width}x{height}"),
               "-vf", (filters + "," if filters else "") + f"scale={width}:{height}:flags=neighbor",
               "-frames:v", "1", "-pix_fmt", "rgb24", str(path))
        made.append(Picture(path, kind, width, height))

    # photo-like
    for width, height in [(1920, 1080), (640, 480), (333, 500), (3000, 2000), (120, 90)]:
        array("photo", "pink", _pink(rng, height, width))
    array("photo", "pink-steep", _pink(rng, 720, 1280, beta=2.6))
    array("photo", "pink-gray", _pink(rng, 800, 800, colour=False))
    for width, height in [(1600, 1200), (720, 1280), (480, 480)]:
        array("photo", "scene", _scene(rng, height, width))
    array("photo", "dark-scene", (_pink(rng, 720, 1280).astype(float) * 0.15).astype(np.uint8))
    array("photo", "bright-scene", (255 - _pink(rng, 720, 1280).astype(float) * 0.2).astype(np.uint8))
    array("photo", "tiny", _pink(rng, 24, 32))
    array("photo", "thin", _pink(rng, 150, 2000))
    array("photo", "tall", _pink(rng, 1600, 150))
    array("photo", "odd", _pink(rng, 257, 129))
    deep = "mandelbrot=size={size}:start_x=-0.743643887037151:start_y=0.13182590420533:start_scale=0.01"
    lavfi("photo", "mandelbrot-deep", deep, 1000, 700)
    lavfi("photo", "mandelbrot", "mandelbrot=size={size}", 640, 480)
    lavfi("photo", "mandelbrot-zoom", deep.replace("0.01", "0.002"), 2560, 1440)
    lavfi("photo", "perlin", "perlin=size={size}:octaves=6:seed=7", 1024, 768)
    lavfi("photo", "perlin-soft", "perlin=size={size}:octaves=3:seed=9", 256, 256)
    # screens, test cards and text
    lavfi("screen", "testsrc2", "testsrc2=size={size}", 1280, 720)
    lavfi("screen", "testsrc", "testsrc=size={size}", 320, 240)
    lavfi("screen", "testsrc2-just-over", "testsrc2=size={size}", 514, 512)
    lavfi("screen", "testsrc2-4k", "testsrc2=size={size}", 4096, 2160)
    lavfi("screen", "smptehdbars", "smptehdbars=size={size}", 1920, 1080)
    lavfi("screen", "smptebars", "smptebars=size={size}", 720, 576)
    lavfi("screen", "rgbtestsrc", "rgbtestsrc=size={size}", 640, 360)
    lavfi("text", "document", "color=c=white:size={size}", 1280, 720, ",".join([
        _font_text(LOREM, 32, 20, 100, "black"), _font_text("Invoice 2026-11 total 431.20", 60, 40, 300, "navy")]))
    lavfi("text", "warning", "color=c=yellow:size={size}", 400, 120, _font_text("WARNING", 70, 40, 20, "red"))
    boxes = [(0, 0, 1920, 80, "0x2050a0"), (0, 80, 300, 1000, "0xdddddd"), (360, 140, 700, 400, "0xffffff"),
             (1100, 140, 760, 880, "0xffffff"), (400, 600, 200, 60, "0x30a050")]
    lavfi("screen", "dashboard", "color=c=0xf0f0f0:size={size}", 1920, 1080, ",".join(
        [f"drawbox=x={x}:y={y}:w={w}:h={h}:color={c}:t=fill" for x, y, w, h, c in boxes]
        + [_font_text("Dashboard", 44, 30, 16, "white"), _font_text(LOREM, 24, 380, 170, "black"),
           _font_text("Settings  Profile  Logout", 28, 20, 120, "black")]))
    lavfi("screen", "chat-dark", "color=c=0x202225:size={size}", 1366, 768, ",".join(
        ["drawbox=x=0:y=0:w=70:h=768:color=0x111111:t=fill", "drawbox=x=70:y=0:w=240:h=768:color=0x2b2d31:t=fill"]
        + [_font_text(f"user{i}  hello there, message {i * 7}", 20, 330, 30 + i * 40, "0xdddddd") for i in range(16)]))
    bubbles = [(20, "0xe5e5ea") if i % 2 else (120, "0x0a84ff") for i in range(11)]
    lavfi("screen", "phone-chat", "color=c=white:size={size}", 390, 844, ",".join(
        f"drawbox=x={x}:y={30 + i * 70}:w=250:h=55:color={colour}:t=fill" for i, (x, colour) in enumerate(bubbles)))
    # textures
    y, x = np.mgrid[0:720, 0:1280]
    grey = lambda values: np.repeat(values[:, :, None], 3, 2).astype(np.uint8)  # noqa: E731
    array("texture", "checker-8px", grey((((x // 8) + (y // 8)) % 2) * 255))
    array("texture", "checker-40px", grey((((x // 40) + (y // 40)) % 2) * 255))
    array("texture", "stripes-fine", grey(127 + 127 * np.sin(x / 1.7 + y / 9.0)))
    array("texture", "stripes-diagonal", grey(127 + 127 * np.sin((x[:600, :600] + y[:600, :600]) / 6.0)))
    bricks = [f"drawbox=x={c * 128 + (64 if r % 2 else 0)}:y={r * 48}:w=6:h=48:color=0xdddddd:t=fill"
              for r in range(16) for c in range(9)] + [f"drawbox=x=0:y={r * 48}:w=1024:h=5:color=0xdddddd:t=fill"
                                                      for r in range(16)]
    lavfi("texture", "bricks", "color=c=0xa04030:size={size}", 1024, 768, ",".join(bricks))
    lavfi("texture", "cellauto", "cellauto=size={size}:rule=30", 800, 600)
    lavfi("texture", "cellauto-fine", "cellauto=size={size}:rule=110:random_seed=3", 1280, 720)
    lavfi("texture", "life", "life=size={size}:mold=10:ratio=0.3:seed=5", 600, 600)
    lavfi("texture", "sierpinski", "sierpinski=size={size}", 700, 500)
    lavfi("texture", "zoneplate", "zoneplate=size={size}:kx2=1:ky2=1", 640, 480)
    # noise
    for width, height in [(1920, 1080), (400, 300), (1024, 1024), (2000, 1500)]:
        array("noise", "noise", (rng.random((height, width, 3)) * 255).astype(np.uint8))
    array("noise", "noise-blocky", np.kron(rng.random((45, 80, 3)) * 255, np.ones((16, 16, 1))).astype(np.uint8))
    # plain: flat and gradients
    lavfi("plain", "flat", "color=c=gray:size={size}", 640, 480)
    lavfi("plain", "gradients", "gradients=size={size}:seed=3", 1280, 720)
    lavfi("plain", "gradients-radial", "gradients=size={size}:type=radial:seed=4", 500, 500)
    array("plain", "gradient-linear", np.tile(np.linspace(0, 255, 800)[None, :, None], (200, 1, 3)).astype(np.uint8))
    return made
